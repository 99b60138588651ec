package io.berth.core.registry;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.berth.core.blob.BlobStoreProvider;
import io.berth.core.config.BerthConfig;
import io.berth.core.config.ConfigException;
import io.berth.core.config.ConfigKeys;
import io.berth.core.metadata.MetadataStoreProvider;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Backends are providers on the class path. registry-core's own class path holds only the
 * filesystem and SQLite ones (S3 and PostgreSQL are modules of their own, with their keys), as a
 * minimal build does.
 */
class RegistryFactoryTest {
    @TempDir
    Path dir;

    private Map<String, String> local() {
        return Map.of(
                "storage.filesystem.root",
                dir.resolve("blobs").toString(),
                "metadata.sqlite.path",
                dir.resolve("berth.db").toString());
    }

    @Test
    void theBuiltInProvidersOpenTheDefaultsUnderTheirLocks() throws Exception {
        try (Registry registry = RegistryFactory.open(BerthConfig.of(local()), Set.of())) {
            assertTrue(
                    registry.blobStore().describe().startsWith("filesystem"),
                    registry.blobStore().describe());
            assertEquals("sqlite", registry.metadata().kind());
            assertTrue(Files.exists(dir.resolve("blobs/berth.lock")));
            assertTrue(Files.exists(dir.resolve("berth.db.lock")));
        }
    }

    /**
     * The choices of {@code storage.type} and {@code metadata.type} are the installed types: on this class
     * path, as in a build with {@code -Dminimal}, the built-in ones alone, so {@code s3} and
     * {@code postgres} are refused as any unknown value is, in one line naming what is installed.
     */
    static final String HINT = " (the backends in this build; a build with -Dminimal leaves S3 and PostgreSQL out)";

    @Test
    void aTypeWhoseModuleIsNotInstalledIsRefusedInOneLineNamingTheInstalledOnes() {
        Map<String, String> s3 = new HashMap<>(local());
        s3.put("storage.type", "s3");
        ConfigException blobs =
                assertThrows(ConfigException.class, () -> RegistryFactory.open(BerthConfig.of(s3), Set.of()));
        assertEquals(
                "invalid value 's3' for storage.type (from settings): must be one of filesystem" + HINT,
                blobs.getMessage());
        Map<String, String> postgres = new HashMap<>(local());
        postgres.put("metadata.type", "postgres");
        ConfigException metadata =
                assertThrows(ConfigException.class, () -> RegistryFactory.open(BerthConfig.of(postgres), Set.of()));
        assertEquals(
                "invalid value 'postgres' for metadata.type (from settings): must be one of sqlite" + HINT,
                metadata.getMessage());
        assertFalse(Files.exists(dir.resolve("blobs/berth.lock")), "refused before any lock is taken");
    }

    /** Each installed provider's type is a choice of its key, and each choice has its provider. */
    @Test
    void theChoicesAreTheInstalledProvidersTypes() {
        assertEquals(
                ConfigKeys.byName("storage.type").orElseThrow().choices(),
                ServiceLoader.load(BlobStoreProvider.class).stream()
                        .map(p -> p.get().type())
                        .toList());
        assertEquals(
                ConfigKeys.byName("metadata.type").orElseThrow().choices(),
                ServiceLoader.load(MetadataStoreProvider.class).stream()
                        .map(p -> p.get().type())
                        .toList());
    }
}
