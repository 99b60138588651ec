package io.berth.core.metadata;

import java.nio.file.Path;

class SqliteMetadataStoreTest extends MetadataStoreContract {
    @Override
    protected MetadataStore newStore(Path dir) {
        return new SqliteMetadataStore(dir.resolve("berth.db"));
    }
}
