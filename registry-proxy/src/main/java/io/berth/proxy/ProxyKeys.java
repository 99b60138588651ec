package io.berth.proxy;

import io.berth.core.config.ConfigKey;
import io.berth.core.config.ConfigKeySet;
import java.time.Duration;
import java.util.List;

/**
 * The pull-through cache's keys ({@code proxy.*}), owned by this module and found with
 * {@link java.util.ServiceLoader}, and its structured section {@code proxy.upstreams} (the upstreams,
 * a list of mappings read by {@link ProxyConfig}).
 */
public final class ProxyKeys implements ConfigKeySet {
    public static final ConfigKey PROXY_MANIFEST_TTL = ConfigKey.duration(
            "proxy.manifest-ttl",
            "5m",
            Duration.ZERO,
            Duration.ofDays(30),
            "A cached tag is served without asking its upstream for this long, then revalidated by one HEAD "
                    + "(0s: every pull asks). An upstream's manifest-ttl overrides it.");
    public static final ConfigKey PROXY_STALE_FOR = ConfigKey.duration(
            "proxy.stale-for",
            "7d",
            Duration.ZERO,
            Duration.ofDays(365),
            "How long after its last validation a cached tag is still served while its upstream is unreachable, "
                    + "failing or throttling (0s: never stale). An upstream's stale-for overrides it.");
    public static final ConfigKey PROXY_TIMEOUT = ConfigKey.duration(
            "proxy.timeout",
            "60s",
            Duration.ofSeconds(1),
            Duration.ofHours(1),
            "Deadline of one exchange with an upstream, answer included; a blob's body gets more by its size "
                    + "(at 16 KiB/s at least).");
    public static final ConfigKey PROXY_EVICT_AFTER = ConfigKey.duration(
            "proxy.evict-after",
            "30d",
            Duration.ZERO,
            Duration.ofDays(3650),
            "Cached images not pulled for this long are evicted, and their blobs deleted unless local content "
                    + "uses them (0s: never by age).");
    public static final ConfigKey PROXY_MAX_SIZE = ConfigKey.size(
            "proxy.max-size",
            "0",
            0,
            1L << 50,
            "Size budget of cached content: above it the least recently pulled cached images (and blobs no "
                    + "cached manifest references) are evicted first until it fits (0: no budget).");
    public static final ConfigKey PROXY_EVICT_INTERVAL = ConfigKey.duration(
            "proxy.evict-interval",
            "10m",
            Duration.ofSeconds(1),
            Duration.ofDays(1),
            "How often eviction of cached content runs (one instance of several at a time); a blob no cached "
                    + "manifest references is left alone for this long after it was linked or pulled.");

    /** The upstreams: a list of mappings, documented in docs/proxy.md. */
    public static final String PROXY_UPSTREAMS = "proxy.upstreams";

    static final List<ConfigKey> ALL = List.of(
            PROXY_MANIFEST_TTL,
            PROXY_STALE_FOR,
            PROXY_TIMEOUT,
            PROXY_EVICT_AFTER,
            PROXY_MAX_SIZE,
            PROXY_EVICT_INTERVAL);

    @Override
    public List<ConfigKey> keys() {
        return ALL;
    }

    @Override
    public String after() {
        return "listing.max-catalog-skip";
    }

    @Override
    public List<String> sections() {
        return List.of(PROXY_UPSTREAMS);
    }
}
