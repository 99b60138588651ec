package io.berth.core.registry;

import java.time.Duration;

/**
 * The rules' tunables.
 *
 * @param maxManifestBytes   largest manifest accepted (the spec asks registries to take at least 4 MiB)
 * @param uploadExpiry       an upload untouched this long is removed
 * @param uploadPurgeInterval how often expired uploads are looked for
 * @param pullFlushInterval  how often recorded pull times are written to metadata
 * @param maxPageSize        the most entries one tags/catalog page returns, whatever {@code n} asks
 */
public record RegistryOptions(long maxManifestBytes, Duration uploadExpiry, Duration uploadPurgeInterval,
                              Duration pullFlushInterval, int maxPageSize) {
    public static final long DEFAULT_MAX_MANIFEST_BYTES = 4L * 1024 * 1024;

    public static RegistryOptions defaults() {
        return new RegistryOptions(DEFAULT_MAX_MANIFEST_BYTES, Duration.ofHours(24), Duration.ofMinutes(10),
                Duration.ofSeconds(5), 10_000);
    }
}
