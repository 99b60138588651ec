package io.berth.core.metadata;

import io.berth.core.model.Digest;
import java.util.Optional;
import java.util.OptionalLong;

/** A manifest as listings show it, without its payload. */
public record ManifestSummary(
        Digest digest,
        String mediaType,
        String artifactType,
        Optional<Digest> subject,
        long size,
        long pushedAt,
        OptionalLong lastPulledAt) {}
