package io.berth.core.proxy;

import java.time.Duration;
import java.util.Objects;

/**
 * How long a cached tag is trusted before it is revalidated with the upstream ({@code manifestTtl}),
 * and how long after its last validation it is still served while the upstream cannot answer
 * ({@code staleFor}).
 */
public record CachePolicy(Duration manifestTtl, Duration staleFor) {
    public CachePolicy {
        Objects.requireNonNull(manifestTtl, "manifestTtl");
        Objects.requireNonNull(staleFor, "staleFor");
        if (manifestTtl.isNegative() || staleFor.isNegative()) {
            throw new IllegalArgumentException("cache durations cannot be negative");
        }
    }
}
