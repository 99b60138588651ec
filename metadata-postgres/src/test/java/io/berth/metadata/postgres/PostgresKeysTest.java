package io.berth.metadata.postgres;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.berth.core.config.BerthConfig;
import io.berth.core.config.ConfigKey;
import io.berth.core.config.ConfigKeys;
import io.berth.core.metadata.MetadataStoreProvider;
import io.berth.testsupport.ConfigDocs;
import java.io.IOException;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;
import org.junit.jupiter.api.Test;

/**
 * This module owns {@code metadata.postgres.*}: installed, its keys are known and documented, in the
 * place help always listed them, and {@code metadata.type} admits the type of its provider.
 */
class PostgresKeysTest {
    @Test
    void theKeysAreInstalledWhereTheyWereAndDocumented() throws IOException {
        ConfigDocs.assertInstalledAndDocumented(new PostgresKeys());
        assertEquals(4, PostgresKeys.ALL.size());
        assertTrue(PostgresKeys.ALL.stream().allMatch(k -> k.name().startsWith("metadata.postgres.")));
        assertEquals(
                List.of(PostgresKeys.METADATA_POSTGRES_PASSWORD),
                PostgresKeys.ALL.stream().filter(ConfigKey::secret).toList());
    }

    @Test
    void metadataTypeAdmitsTheProvidersType() {
        assertTrue(ServiceLoader.load(MetadataStoreProvider.class).stream()
                .anyMatch(p -> p.get().type().equals("postgres")));
        assertEquals(
                List.of("sqlite", "postgres"),
                ConfigKeys.byName("metadata.type").orElseThrow().choices());
        assertEquals(
                "postgres", BerthConfig.of(Map.of("metadata.type", "postgres")).string(ConfigKeys.METADATA_TYPE));
    }
}
