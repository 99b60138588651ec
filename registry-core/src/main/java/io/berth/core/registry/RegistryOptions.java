package io.berth.core.registry;

import io.berth.core.config.BerthConfig;
import io.berth.core.config.ConfigKeys;
import io.berth.core.config.PublicUrl;
import io.berth.core.model.Caller;
import java.io.IOException;
import java.net.InetAddress;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The rules' tunables, read from configuration ({@link ConfigKeys} defines each, with its default
 * and range).
 *
 * @param maxManifestBytes               largest manifest accepted (the spec asks registries to take at least 4 MiB)
 * @param maxManifestReferences          most blobs and child manifests one manifest may reference
 * @param maxBufferedManifestBytes       most bytes of manifest bodies held in memory at once
 * @param maxBufferedManifestBytesPerClient the same for one client
 * @param allowSparse                    accept manifests whose layers or child manifests the repository lacks
 * @param uploadExpiry                   an upload untouched this long is removed
 * @param uploadPurgeInterval            how often expired uploads are looked for
 * @param maxConcurrentUploads           most upload bodies streaming in at once
 * @param maxConcurrentUploadsPerClient  most upload bodies one client streams at once
 * @param maxSessionsPerClient           most open upload sessions one client may hold
 * @param pullFlushInterval              how often recorded pull times are written to metadata
 * @param maxPageSize                    the most entries one listing page returns, whatever {@code n} asks
 * @param maxCatalogSkip                 the most repository names one catalog request passes over (the caller may not pull them)
 * @param eventsEnabled                  whether changes are recorded as events (events.record, or Kafka is configured)
 * @param eventsPublished                whether a relay publishes them to Kafka; else they are written as
 *                                       published and the registry prunes them itself
 * @param eventsRetention                how long events stay in the outbox after publication (or recording)
 * @param eventsSource                   the CloudEvents source of this registry's events
 * @param eventsUrlBase                  what URLs in events start with ({@code https://registry.example.com}):
 *                                       http.public-url, else made from the events' source — never a Host header
 * @param pullEvents                     whether pulls are recorded as events too
 * @param replicators                    authenticated callers (users, {@code robot:NAME}) whose pulls are
 *                                       replication copies
 */
public record RegistryOptions(
        long maxManifestBytes,
        int maxManifestReferences,
        long maxBufferedManifestBytes,
        long maxBufferedManifestBytesPerClient,
        boolean allowSparse,
        Duration uploadExpiry,
        Duration uploadPurgeInterval,
        int maxConcurrentUploads,
        int maxConcurrentUploadsPerClient,
        long maxSessionsPerClient,
        Duration pullFlushInterval,
        int maxPageSize,
        int maxCatalogSkip,
        boolean eventsEnabled,
        boolean eventsPublished,
        Duration eventsRetention,
        String eventsSource,
        String eventsUrlBase,
        boolean pullEvents,
        Set<String> replicators) {
    public RegistryOptions {
        replicators = Set.copyOf(replicators);
        // a budget smaller than the largest manifest would refuse every push of one
        for (var budget : Map.of(
                        ConfigKeys.MANIFESTS_MAX_BUFFERED,
                        maxBufferedManifestBytes,
                        ConfigKeys.MANIFESTS_MAX_BUFFERED_PER_CLIENT,
                        maxBufferedManifestBytesPerClient)
                .entrySet()) {
            if (budget.getValue() < maxManifestBytes) {
                throw new IllegalArgumentException(
                        budget.getKey().name() + " (" + budget.getValue() + " bytes) must be at" + " least "
                                + ConfigKeys.MANIFESTS_MAX_SIZE.name() + " (" + maxManifestBytes + " bytes)");
            }
        }
    }

    /**
     * Whether a pull by {@code caller} is a replication copy: only an authenticated caller named in
     * {@code auth.replicators} — never an anonymous one, so no client can dodge pull recording.
     */
    public boolean replicationPull(Caller caller) {
        return !caller.actor().isEmpty() && replicators.contains(caller.actor());
    }

    /**
     * The options a configuration asks for.
     *
     * @param replicators {@code auth.replicators}, which access control owns and the engine does not read
     */
    public static RegistryOptions from(BerthConfig config, Set<String> replicators) {
        return new RegistryOptions(
                config.size(ConfigKeys.MANIFESTS_MAX_SIZE),
                config.intCount(ConfigKeys.MANIFESTS_MAX_REFERENCES),
                config.size(ConfigKeys.MANIFESTS_MAX_BUFFERED),
                config.size(ConfigKeys.MANIFESTS_MAX_BUFFERED_PER_CLIENT),
                config.bool(ConfigKeys.MANIFESTS_ALLOW_SPARSE),
                config.duration(ConfigKeys.UPLOADS_EXPIRY),
                config.duration(ConfigKeys.UPLOADS_PURGE_INTERVAL),
                config.intCount(ConfigKeys.UPLOADS_MAX_CONCURRENT),
                config.intCount(ConfigKeys.UPLOADS_MAX_CONCURRENT_PER_CLIENT),
                config.count(ConfigKeys.UPLOADS_MAX_SESSIONS_PER_CLIENT),
                config.duration(ConfigKeys.PULLS_FLUSH_INTERVAL),
                config.intCount(ConfigKeys.LISTING_MAX_PAGE),
                config.intCount(ConfigKeys.LISTING_MAX_CATALOG_SKIP),
                config.bool(ConfigKeys.EVENTS_RECORD)
                        || !config.string(ConfigKeys.EVENTS_KAFKA_BOOTSTRAP).isBlank(),
                !config.string(ConfigKeys.EVENTS_KAFKA_BOOTSTRAP).isBlank(),
                config.duration(ConfigKeys.EVENTS_RETENTION),
                eventsSource(config),
                eventsUrlBase(config),
                config.bool(ConfigKeys.EVENTS_PULL),
                replicators);
    }

    private static String eventsSource(BerthConfig config) {
        String configured = config.string(ConfigKeys.EVENTS_SOURCE).trim();
        if (!configured.isEmpty()) {
            return configured;
        }
        Optional<PublicUrl> publicUrl = config.publicUrl(ConfigKeys.HTTP_PUBLIC_URL);
        if (publicUrl.isPresent()) {
            return "//" + publicUrl.get().authority();
        }
        String host;
        try {
            host = InetAddress.getLocalHost().getHostName();
        } catch (IOException e) {
            host = config.string(ConfigKeys.HTTP_HOST);
        }
        return "//" + host + ":" + config.port(ConfigKeys.HTTP_PORT);
    }

    private static String eventsUrlBase(BerthConfig config) {
        Optional<PublicUrl> publicUrl = config.publicUrl(ConfigKeys.HTTP_PUBLIC_URL);
        if (publicUrl.isPresent()) {
            return publicUrl.get().toString();
        }
        String authority = eventsSource(config).replaceFirst("^[a-z]+:", "").replaceFirst("^//", "");
        return (config.string(ConfigKeys.HTTP_TLS_CERT).isBlank() ? "http://" : "https://") + authority;
    }

    /** The options of the built-in configuration defaults (defined once, in {@link ConfigKeys}). */
    public static RegistryOptions defaults() {
        return from(BerthConfig.defaults(), Set.of());
    }

    /**
     * The defaults with some keys set (key name to value), as a test or an embedding program sets them;
     * no replicators.
     */
    public static RegistryOptions of(Map<String, String> settings) {
        return from(BerthConfig.of(settings), Set.of());
    }
}
