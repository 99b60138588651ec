package io.berth.core.metadata;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.berth.core.metadata.MetadataStore.Durability;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class SqliteMetadataStoreTest extends MetadataStoreContract {
    @Override
    protected MetadataStore newStore(Path dir) {
        return new SqliteMetadataStore(dir.resolve("berth.db"));
    }

    /** WAL mode: FULL (2) fsyncs the log at commit, NORMAL (1) leaves it to the next FULL commit or checkpoint. */
    @Test
    void onlyDurableCommitsFlushTheLog() {
        assertEquals("2", insideTransaction(Durability.DURABLE, "PRAGMA synchronous"));
        assertEquals("1", insideTransaction(Durability.DEFERRED, "PRAGMA synchronous"));
        assertEquals("1", insideTransaction(Durability.DEFERRED, "PRAGMA synchronous"));
        assertEquals("2", insideTransaction(Durability.DURABLE, "PRAGMA synchronous"));
        assertEquals("wal", insideTransaction(Durability.DURABLE, "PRAGMA journal_mode"));
    }
}
