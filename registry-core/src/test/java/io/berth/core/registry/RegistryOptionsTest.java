package io.berth.core.registry;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Every key reaches the option it names, each with a value no other key has (so a swap shows). */
class RegistryOptionsTest {
    @Test
    void everyKeyLandsInItsOwnOption() {
        RegistryOptions o = RegistryOptions.of(Map.of(
                "manifests.max-size", "3MiB",
                "manifests.max-references", "77",
                "manifests.allow-sparse", "true",
                "uploads.expiry", "7h",
                "uploads.purge-interval", "13m",
                "uploads.max-concurrent", "41",
                "uploads.max-concurrent-per-client", "5",
                "uploads.max-sessions-per-client", "123",
                "metadata.pull-flush-interval", "17s",
                "listing.max-page-size", "99"));
        assertEquals(3L << 20, o.maxManifestBytes());
        assertEquals(77, o.maxManifestReferences());
        assertTrue(o.allowSparse());
        assertEquals(Duration.ofHours(7), o.uploadExpiry());
        assertEquals(Duration.ofMinutes(13), o.uploadPurgeInterval());
        assertEquals(41, o.maxConcurrentUploads());
        assertEquals(5, o.maxConcurrentUploadsPerClient());
        assertEquals(123, o.maxSessionsPerClient());
        assertEquals(Duration.ofSeconds(17), o.pullFlushInterval());
        assertEquals(99, o.maxPageSize());
    }
}
