package io.berth.core.registry;

import java.util.Objects;

/**
 * A proxied repository's referrers answer: the upstream's index exactly as it sent it (so signature and
 * SBOM digests hold), whether it applied the {@code artifactType} filter, and how it was found.
 */
public record CachedReferrersIndex(byte[] index, boolean filtered, CacheOutcome outcome) {
    public CachedReferrersIndex {
        Objects.requireNonNull(index, "index");
        Objects.requireNonNull(outcome, "outcome");
    }
}
