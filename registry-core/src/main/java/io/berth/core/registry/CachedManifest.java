package io.berth.core.registry;

import io.berth.core.metadata.ManifestRecord;
import java.util.Objects;

/** A manifest a pull-through cache serves, and how it was found. */
public record CachedManifest(ManifestRecord record, CacheOutcome outcome) {
    public CachedManifest {
        Objects.requireNonNull(record, "record");
        Objects.requireNonNull(outcome, "outcome");
    }
}
