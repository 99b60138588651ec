package io.berth.storage.s3;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.berth.core.blob.BlobStoreProvider;
import io.berth.core.config.BerthConfig;
import io.berth.core.config.ConfigKey;
import io.berth.core.config.ConfigKeys;
import io.berth.testsupport.ConfigDocs;
import java.io.IOException;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;
import org.junit.jupiter.api.Test;

/**
 * This module owns {@code storage.s3.*}: installed, its keys are known and documented, in the place
 * help always listed them, and {@code storage.type} admits the type of its provider.
 */
class S3KeysTest {
    @Test
    void theKeysAreInstalledWhereTheyWereAndDocumented() throws IOException {
        ConfigDocs.assertInstalledAndDocumented(new S3Keys());
        assertEquals(12, S3Keys.ALL.size());
        assertTrue(S3Keys.ALL.stream().allMatch(k -> k.name().startsWith("storage.s3.")));
        assertEquals(
                List.of(S3Keys.STORAGE_S3_SECRET_KEY),
                S3Keys.ALL.stream().filter(ConfigKey::secret).toList());
    }

    @Test
    void storageTypeAdmitsTheProvidersType() {
        assertTrue(ServiceLoader.load(BlobStoreProvider.class).stream()
                .anyMatch(p -> p.get().type().equals("s3")));
        assertEquals(
                List.of("filesystem", "s3"),
                ConfigKeys.byName("storage.type").orElseThrow().choices());
        assertEquals("s3", BerthConfig.of(Map.of("storage.type", "s3")).string(ConfigKeys.STORAGE_TYPE));
    }
}
