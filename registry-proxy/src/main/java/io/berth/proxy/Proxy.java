package io.berth.proxy;

import io.berth.core.config.BerthConfig;
import io.berth.core.config.ConfigException;
import io.berth.core.config.ConfigKeys;
import io.berth.core.proxy.ProxySettings;
import io.berth.core.proxy.Upstreams;
import io.berth.oci.OciClient;
import io.berth.oci.Reachability;
import io.github.resilience4j.micrometer.tagged.TaggedBulkheadMetrics;
import io.github.resilience4j.micrometer.tagged.TaggedCircuitBreakerMetrics;
import io.github.resilience4j.micrometer.tagged.TaggedRateLimiterMetrics;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/** The pull-through cache's upstreams as configured: what {@code berth serve} hands the engine. */
public final class Proxy {
    /** The longest a call waits for a rate-limit or bulkhead permit. */
    static final Duration PERMIT_WAIT = Duration.ofSeconds(10);

    private Proxy() {}

    /**
     * The upstreams of {@code config} ({@code proxy.upstreams}), each an {@link OciUpstream} behind its
     * {@link GuardedUpstream}, routed by {@link ConfiguredUpstreams}; {@link Upstreams#none()} when none
     * is configured. A configuration mistake is a {@link io.berth.core.config.ConfigException} (one line).
     */
    public static Upstreams open(BerthConfig config) {
        ProxyConfig proxy = ProxyConfig.of(config);
        ProxySettings settings = settings(config);
        if (proxy.upstreams().isEmpty()) {
            return Upstreams.none(settings);
        }
        long maxManifest = config.size(ConfigKeys.MANIFESTS_MAX_SIZE);
        List<GuardedUpstream> built = new ArrayList<>();
        GuardedUpstream.Registries registries = GuardedUpstream.Registries.create();
        for (UpstreamConfig u : proxy.upstreams()) {
            OciClient client = new OciClient(
                    u.endpoint(),
                    proxy.timeout(),
                    new Reachability(
                            "upstream " + u.name() + " (" + u.endpoint().url() + ")"),
                    maxManifest,
                    OciClient.Access.PULL,
                    "berth-proxy");
            OciUpstream upstream = new OciUpstream(u.name(), u.describe(), u.policy(), client, maxManifest);
            built.add(new GuardedUpstream(
                    upstream, GuardedUpstream.Guards.of(u, PERMIT_WAIT), Clock.systemUTC(), registries));
        }
        return ConfiguredUpstreams.of(proxy.upstreams(), built, registries, settings);
    }

    /** Eviction of cached content, from the {@code proxy.*} keys. */
    public static ProxySettings settings(BerthConfig config) {
        return new ProxySettings(
                config.duration(ProxyKeys.PROXY_EVICT_AFTER),
                config.size(ProxyKeys.PROXY_MAX_SIZE),
                config.duration(ProxyKeys.PROXY_EVICT_INTERVAL));
    }

    /**
     * The upstream passwords {@code config} gives, for the launcher to keep out of every log line; none
     * when {@code proxy.upstreams} cannot be read (start-up then stops on that, before logging them).
     */
    public static List<String> secrets(BerthConfig config) {
        try {
            return ProxyConfig.of(config).upstreams().stream()
                    .map(u -> u.endpoint().password())
                    .filter(p -> !p.isEmpty())
                    .toList();
        } catch (ConfigException e) {
            return List.of();
        }
    }

    /**
     * Resilience4j's meters of every upstream's guards on {@code meters}
     * ({@code resilience4j_circuitbreaker_state{name="proxy-hub"}}, …).
     */
    public static void bindMetrics(Upstreams upstreams, MeterRegistry meters) {
        if (upstreams instanceof ConfiguredUpstreams c) {
            TaggedCircuitBreakerMetrics.ofCircuitBreakerRegistry(c.registries().breakers())
                    .bindTo(meters);
            TaggedRateLimiterMetrics.ofRateLimiterRegistry(c.registries().limiters())
                    .bindTo(meters);
            TaggedBulkheadMetrics.ofBulkheadRegistry(c.registries().bulkheads()).bindTo(meters);
        }
    }
}
