package io.berth.core.registry;

import java.util.Locale;

/** How a pull-through cache answered a read; the HTTP layer sends it as {@code X-Berth-Cache}. */
public enum CacheOutcome {
    /** Served from the cache without asking the upstream. */
    HIT,
    /** Not cached: fetched from the upstream (and stored). */
    MISS,
    /** A cached tag the upstream confirmed with one HEAD: nothing transferred. */
    REVALIDATED,
    /** A cached tag the upstream had moved: the new manifest was fetched by digest. */
    REFRESHED,
    /** A cached tag served while the upstream fails, within {@code stale-for} of its last validation. */
    STALE;

    /** The header's value ({@code hit}). */
    public String header() {
        return name().toLowerCase(Locale.ROOT);
    }
}
