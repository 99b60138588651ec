package io.berth.core.metadata;

import java.util.Objects;

/**
 * An upstream's referrers answer a pull-through cache keeps: the index exactly as the upstream sent it,
 * whether the upstream applied the {@code artifactType} filter, and when it was fetched (epoch millis).
 */
public record CachedReferrers(byte[] index, boolean filtered, long validatedAt) {
    public CachedReferrers {
        Objects.requireNonNull(index, "index");
    }
}
