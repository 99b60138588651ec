package io.berth.core.registry;

import java.util.Objects;

/** A page of a pull-through cache's tags: the upstream's ({@code MISS}), or the cached ones ({@code STALE}). */
public record CachedTags(Page page, CacheOutcome outcome) {
    public CachedTags {
        Objects.requireNonNull(page, "page");
        Objects.requireNonNull(outcome, "outcome");
    }
}
