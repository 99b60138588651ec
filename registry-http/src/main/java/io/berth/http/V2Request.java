package io.berth.http;

import io.berth.core.model.RepositoryName;

/**
 * A /v2 request taken apart by {@link V2Routes}: the repository (validated) and the path's last
 * segment (a reference, digest or upload id, percent-decoded; empty when the route has none).
 */
public record V2Request(RepositoryName repository, String segment) {}
