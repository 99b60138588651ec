package io.berth.core.registry;

import io.berth.core.config.BerthConfig;
import io.berth.core.config.ConfigKeys;
import java.time.Duration;

/**
 * The rules' tunables.
 *
 * @param maxManifestBytes   largest manifest accepted (the spec asks registries to take at least 4 MiB)
 * @param uploadExpiry       an upload untouched this long is removed
 * @param uploadPurgeInterval how often expired uploads are looked for
 * @param pullFlushInterval  how often recorded pull times are written to metadata
 * @param maxPageSize        the most entries one tags/catalog page returns, whatever {@code n} asks
 * @param allowSparse        accept manifests whose layers or child manifests the repository lacks
 */
public record RegistryOptions(long maxManifestBytes, Duration uploadExpiry, Duration uploadPurgeInterval,
                              Duration pullFlushInterval, int maxPageSize, boolean allowSparse) {
    /** The options a configuration asks for. */
    public static RegistryOptions from(BerthConfig config) {
        return new RegistryOptions(config.size(ConfigKeys.MANIFESTS_MAX_SIZE), config.duration(ConfigKeys.UPLOADS_EXPIRY),
                config.duration(ConfigKeys.UPLOADS_PURGE_INTERVAL), config.duration(ConfigKeys.PULLS_FLUSH_INTERVAL),
                config.positiveInt(ConfigKeys.LISTING_MAX_PAGE), config.bool(ConfigKeys.MANIFESTS_ALLOW_SPARSE));
    }

    /** The options of the built-in configuration defaults (defined once, in {@link ConfigKeys}). */
    public static RegistryOptions defaults() {
        return from(BerthConfig.defaults());
    }

    /** These options with sparse manifests allowed or not. */
    public RegistryOptions withAllowSparse(boolean allow) {
        return new RegistryOptions(maxManifestBytes, uploadExpiry, uploadPurgeInterval, pullFlushInterval, maxPageSize,
                allow);
    }
}
