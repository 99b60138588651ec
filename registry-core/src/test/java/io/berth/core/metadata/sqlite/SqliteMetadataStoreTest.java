package io.berth.core.metadata.sqlite;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.berth.core.metadata.MetadataException;
import io.berth.core.metadata.MetadataStore;
import io.berth.core.metadata.MetadataStore.Durability;
import io.berth.core.metadata.UploadRecords;
import io.berth.core.metadata.UploadSession;
import io.berth.core.metadata.sql.SqlTransaction;
import io.berth.core.model.UploadId;
import io.berth.testsupport.contract.MetadataStoreContract;
import java.nio.file.Path;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class SqliteMetadataStoreTest extends MetadataStoreContract {
    @Override
    protected MetadataStore newStore(Path dir) {
        return new SqliteMetadataStore(dir.resolve("berth.db"));
    }

    /** The first column of {@code query}'s first row, run inside a transaction of the given durability. */
    private String insideTransaction(Durability durability, String query) {
        return store.inTransaction(durability, tx -> {
            try (Statement st = ((SqlTransaction) tx).connection().createStatement();
                    ResultSet rs = st.executeQuery(query)) {
                rs.next();
                return rs.getString(1);
            } catch (SQLException e) {
                throw new IllegalStateException(e);
            }
        });
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

    /**
     * A reader that races a commit takes the WAL write lock for a moment to read a stable index
     * header. A deferred transaction that has read and then writes cannot wait for that lock (SQLite
     * answers the upgrade with SQLITE_BUSY at once), so under load a push failed with a 500 now and
     * then. The writer begins its transactions IMMEDIATE: it waits for the lock before reading.
     */
    @Test
    void transactionsThatReadThenWriteWaitForRacingReadersInsteadOfFailing() throws Exception {
        AtomicBoolean running = new AtomicBoolean(true);
        AtomicLong reads = new AtomicLong();
        ExecutorService pool = Executors.newFixedThreadPool(6);
        List<Future<?>> readers = new ArrayList<>();
        try {
            for (int r = 0; r < 6; r++) {
                readers.add(pool.submit(() -> {
                    while (running.get()) {
                        store.uploads().ofClient("10.0.0.1");
                        reads.incrementAndGet();
                    }
                    return null;
                }));
            }
            for (int i = 0; i < 3000; i++) {
                store.inTransaction(Durability.DEFERRED, tx -> {
                    tx.uploads().ofClient("10.0.0.1"); // a read first, as Uploads.start does
                    tx.uploads().create(new UploadSession(UploadId.random(), REPO, 0, 1, 1, "10.0.0.1"));
                    return null;
                });
            }
        } finally {
            running.set(false);
            pool.shutdown();
        }
        for (Future<?> f : readers) {
            f.get(1, TimeUnit.MINUTES);
        }
        assertEquals(3000, store.uploads().ofClient("10.0.0.1"));
        assertTrue(reads.get() > 0);
    }

    /** Readers are query-only: nothing but the writer (and its lock) changes the database. */
    @Test
    void readersCannotWrite() {
        // the store's reads implement the writes too; on a reader connection they are refused
        MetadataException e = assertThrows(
                MetadataException.class,
                () -> ((UploadRecords.Writes) store.uploads())
                        .create(new UploadSession(UploadId.random(), REPO, 0, 1, 1, "x")));
        assertTrue(String.valueOf(e.getCause()).contains("readonly"), String.valueOf(e.getCause()));
    }

    /**
     * Reads outside transactions borrow a reader for each statement and rely on it being in
     * autocommit; a reader with autocommit off would hold its first snapshot across reads.
     */
    @Test
    void everyReaderIsInAutocommitAndQueryOnly() {
        store.inTransaction(tx -> {
            tx.repositories().ensure(REPO);
            return null;
        });
        SqliteMetadataStore sqlite = (SqliteMetadataStore) store;
        // the pool hands readers out in turn: twice round it sees each one, after a read on each
        for (int i = 0; i < 2 * SqliteMetadataStore.READERS; i++) {
            assertTrue(store.repositories().exists(REPO));
            assertEquals(
                    List.of(true, true),
                    sqlite.onReader(c -> {
                        try (Statement s = c.createStatement();
                                ResultSet rs = s.executeQuery("PRAGMA query_only")) {
                            rs.next();
                            return List.of(c.getAutoCommit(), rs.getInt(1) == 1);
                        } catch (SQLException e) {
                            throw new IllegalStateException(e);
                        }
                    }),
                    "autocommit, query-only");
        }
    }
}
