package io.berth.core.registry;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.berth.core.config.BerthConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Backends are providers on the class path. registry-core's own class path holds only the
 * filesystem and SQLite ones (S3 and PostgreSQL are modules of their own), as a minimal build does.
 */
class RegistryFactoryTest {
    @TempDir
    Path dir;

    private Map<String, String> local() {
        return Map.of("storage.filesystem.root", dir.resolve("blobs").toString(),
                "metadata.sqlite.path", dir.resolve("berth.db").toString(),
                "auth.token.key-file", dir.resolve("token.key").toString());
    }

    @Test
    void theBuiltInProvidersOpenTheDefaultsUnderTheirLocks() throws Exception {
        try (Registry registry = RegistryFactory.open(BerthConfig.of(local()))) {
            assertTrue(registry.blobStore().describe().startsWith("filesystem"), registry.blobStore().describe());
            assertEquals("sqlite", registry.metadata().kind());
            assertTrue(Files.exists(dir.resolve("blobs/berth.lock")));
            assertTrue(Files.exists(dir.resolve("berth.db.lock")));
        }
    }

    @Test
    void aChoiceWhoseProviderIsNotInstalledIsRefusedInOneLineNamingTheInstalledOnes() {
        Map<String, String> s3 = new HashMap<>(local());
        s3.put("storage.type", "s3");
        IllegalArgumentException blobs = assertThrows(IllegalArgumentException.class,
                () -> RegistryFactory.open(BerthConfig.of(s3)));
        assertEquals("storage.type s3 is not installed in this build (installed: filesystem); the default build,"
                + " without -Dminimal, has every backend", blobs.getMessage());
        Map<String, String> postgres = new HashMap<>(local());
        postgres.put("metadata.type", "postgres");
        IllegalArgumentException metadata = assertThrows(IllegalArgumentException.class,
                () -> RegistryFactory.open(BerthConfig.of(postgres)));
        assertTrue(metadata.getMessage().startsWith("metadata.type postgres is not installed in this build"
                + " (installed: sqlite)"), metadata.getMessage());
        assertFalse(Files.exists(dir.resolve("blobs/berth.lock")), "refused before any lock is taken");
    }
}
