package io.berth.core.metadata;

import io.berth.core.model.Digest;
import io.berth.core.model.RepositoryName;

/** A manifest by repository and digest. */
public record ManifestKey(RepositoryName repository, Digest digest) {}
