package io.berth.metadata.postgres;

import io.berth.core.config.ConfigKey;
import io.berth.core.config.ConfigKey.Type;
import io.berth.core.config.ConfigKeySet;
import java.util.List;
import java.util.Map;

/**
 * The keys of the PostgreSQL metadata store ({@code metadata.postgres.*}), owned by this module and
 * found with {@link java.util.ServiceLoader}: they follow {@code metadata.sqlite.path} in help and the
 * docs, and {@code metadata.type} admits {@code postgres} only where this module is installed.
 */
public final class PostgresKeys implements ConfigKeySet {
    public static final ConfigKey METADATA_POSTGRES_URL = new ConfigKey(
            "metadata.postgres.url",
            "",
            Type.TEXT,
            "JDBC URL of the PostgreSQL database (jdbc:postgresql://db:5432/berth).");
    public static final ConfigKey METADATA_POSTGRES_USER =
            new ConfigKey("metadata.postgres.user", "berth", Type.TEXT, "PostgreSQL user.");
    public static final ConfigKey METADATA_POSTGRES_PASSWORD =
            new ConfigKey("metadata.postgres.password", "", Type.TEXT, "PostgreSQL password. Never logged.").asSecret();
    public static final ConfigKey METADATA_POSTGRES_POOL_SIZE = ConfigKey.count(
            "metadata.postgres.pool-size", "16", 1, 1000, "Connections to PostgreSQL this instance keeps at most.");

    static final List<ConfigKey> ALL = List.of(
            METADATA_POSTGRES_URL, METADATA_POSTGRES_USER, METADATA_POSTGRES_PASSWORD, METADATA_POSTGRES_POOL_SIZE);

    @Override
    public List<ConfigKey> keys() {
        return ALL;
    }

    @Override
    public String after() {
        return "metadata.sqlite.path";
    }

    @Override
    public Map<String, List<String>> choices() {
        return Map.of("metadata.type", List.of(PostgresMetadataStoreProvider.TYPE));
    }
}
