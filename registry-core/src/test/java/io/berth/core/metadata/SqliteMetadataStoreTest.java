package io.berth.core.metadata;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class SqliteMetadataStoreTest extends MetadataStoreContract {
    @Override
    protected MetadataStore newStore(Path dir) {
        return new SqliteMetadataStore(dir.resolve("berth.db"));
    }

    @Test
    void reopeningKeepsDataAndDoesNotReapplyMigrations() {
        store.inTransaction(tx -> {
            tx.ensureRepository(REPO);
            return null;
        });
        store.close();
        store = newStore(dir);
        assertTrue(store.repositoryExists(REPO));
    }
}
