package io.berth.metadata.postgres;

import io.berth.core.config.BerthConfig;
import io.berth.core.config.StoreContext;
import io.berth.core.metadata.MetadataStore;
import io.berth.core.metadata.MetadataStoreProvider;

/** {@code metadata.type: postgres}: {@link PostgresMetadataStore} on the database {@code metadata.postgres.*} names. */
public final class PostgresMetadataStoreProvider implements MetadataStoreProvider {
    /** The value of {@code metadata.type}; {@link PostgresKeys} adds it to the key's choices. */
    static final String TYPE = "postgres";

    @Override
    public String type() {
        return TYPE;
    }

    @Override
    public MetadataStore open(BerthConfig config, StoreContext context) {
        return new PostgresMetadataStore(settings(config), context.clock());
    }

    /** The PostgreSQL settings of {@code metadata.postgres.*}. */
    public static PostgresMetadataStore.Settings settings(BerthConfig config) {
        String url = config.string(PostgresKeys.METADATA_POSTGRES_URL);
        if (!url.startsWith("jdbc:postgresql:")) {
            throw new IllegalArgumentException("metadata.type postgres needs metadata.postgres.url, a JDBC URL "
                    + "(jdbc:postgresql://host:5432/berth)");
        }
        return new PostgresMetadataStore.Settings(
                url,
                config.string(PostgresKeys.METADATA_POSTGRES_USER),
                config.string(PostgresKeys.METADATA_POSTGRES_PASSWORD),
                config.intCount(PostgresKeys.METADATA_POSTGRES_POOL_SIZE));
    }
}
