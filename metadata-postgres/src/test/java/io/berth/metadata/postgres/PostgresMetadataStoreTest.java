package io.berth.metadata.postgres;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.berth.core.blob.FilesystemBlobStore;
import io.berth.core.error.RegistryException;
import io.berth.core.gc.GarbageCollector;
import io.berth.core.maintenance.Maintenance;
import io.berth.core.metadata.MetadataStore;
import io.berth.core.metadata.TagChange;
import io.berth.core.metadata.sql.SqlTransaction;
import io.berth.core.model.Digest;
import io.berth.core.model.RepositoryName;
import io.berth.core.registry.Registry;
import io.berth.core.registry.RegistryOptions;
import io.berth.testsupport.Postgres;
import io.berth.testsupport.TestServices;
import io.berth.testsupport.contract.MetadataStoreContract;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The metadata contract on PostgreSQL (Debian's server, started by the tests), and what several
 * instances on one database need: concurrent writers through two stores, byte-order paging in a
 * database whose locale sorts otherwise, migrations started at once.
 */
@Tag("services")
class PostgresMetadataStoreTest extends MetadataStoreContract {
    private static final Map<Path, String> DATABASES = new ConcurrentHashMap<>();

    static Postgres postgres() {
        Optional<Postgres> pg = Postgres.shared();
        TestServices.require(pg.isPresent(), "PostgreSQL (Debian package postgresql)");
        return pg.get();
    }

    static PostgresMetadataStore open(String url) {
        return new PostgresMetadataStore(
                new PostgresMetadataStore.Settings(url, Postgres.user(), "", 8), Clock.systemUTC());
    }

    @Override
    protected MetadataStore newStore(Path dir) {
        return open(DATABASES.computeIfAbsent(dir, d -> postgres().newDatabase()));
    }

    /** The first column of {@code query}'s first row, run inside a transaction of the given durability. */
    private String insideTransaction(MetadataStore.Durability durability, String query) {
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

    @Test
    void onlyDurableCommitsWaitForTheLogFlush() {
        assertEquals("on", insideTransaction(MetadataStore.Durability.DURABLE, "SHOW synchronous_commit"));
        assertEquals("off", insideTransaction(MetadataStore.Durability.DEFERRED, "SHOW synchronous_commit"));
        assertEquals(
                "on",
                insideTransaction(MetadataStore.Durability.DURABLE, "SHOW synchronous_commit"),
                "SET LOCAL ends with its transaction: a pooled connection does not carry it on");
    }

    @Test
    void namesPageInByteOrderWhateverTheDatabaseLocale() throws Exception {
        try (Connection c = DriverManager.getConnection(DATABASES.get(dir), Postgres.user(), "");
                ResultSet rs = c.createStatement().executeQuery("SELECT 'B' < 'a', '_' < 'a'")) {
            rs.next();
            assertTrue(!rs.getBoolean(1) || !rs.getBoolean(2), "the test database sorts text otherwise than bytewise");
        }
        Digest m = digest("m");
        List<String> tags = List.of("-dash", "B", "Z9", "_under", "a", "a.b", "a_b", "b");
        store.inTransaction(tx -> {
            tx.repositories().ensure(REPO);
            tx.repositories().ensure(RepositoryName.of("a-b/c"));
            tx.repositories().ensure(RepositoryName.of("a/b"));
            tx.repositories().ensure(RepositoryName.of("a.b/c"));
            for (String t : tags) {
                tx.tags().set(REPO, t, m, ORIGIN);
            }
            return null;
        });
        List<String> sorted = new ArrayList<>(tags);
        sorted.sort((x, y) -> Arrays.compare(x.getBytes(StandardCharsets.UTF_8), y.getBytes(StandardCharsets.UTF_8)));
        assertEquals(sorted, store.tags().names(REPO, null, 100));
        assertEquals(
                sorted.subList(sorted.indexOf("_under") + 1, sorted.size()),
                store.tags().names(REPO, "_under", 100),
                "paging after a name continues in byte order");
        assertEquals(
                List.of("a-b/c", "a.b/c", "a/b", "team/app"),
                store.repositories().names(null, 100));
    }

    @Test
    void twoInstancesWritingTheSameTagAtOnceKeepAGaplessHistory() throws Exception {
        String url = DATABASES.get(dir);
        Digest[] manifests = new Digest[8];
        for (int i = 0; i < manifests.length; i++) {
            manifests[i] = digest("manifest " + i);
        }
        try (PostgresMetadataStore a = open(url);
                PostgresMetadataStore b = open(url)) {
            ExecutorService pool = Executors.newFixedThreadPool(8);
            List<Future<?>> work = new ArrayList<>();
            for (int i = 0; i < 80; i++) {
                PostgresMetadataStore s = i % 2 == 0 ? a : b;
                Digest d = manifests[i % manifests.length];
                work.add(pool.submit(() -> s.inTransaction(tx -> {
                    tx.repositories().ensure(REPO);
                    tx.tags().set(REPO, "latest", d, ORIGIN);
                    tx.nextSequence("events/" + REPO);
                    return null;
                })));
            }
            for (Future<?> f : work) {
                f.get();
            }
            pool.shutdown();
            List<TagChange> history = a.tags().history(REPO, "latest");
            for (int i = 0; i < history.size(); i++) {
                assertEquals(i + 1, history.get(i).version(), "versions 1..n without gaps or duplicates");
            }
            // every change after the first moved the tag (or set it to the digest it had: no change recorded)
            assertTrue(history.size() >= 8 && history.size() <= 80, "history " + history.size());
            long next = a.inTransaction(tx -> tx.nextSequence("events/" + REPO));
            assertEquals(81, next, "80 sequence numbers taken by two instances, none twice");
        }
    }

    @Test
    void instancesStartingAtOnceMigrateOnce() throws Exception {
        String url = postgres().newDatabase();
        ExecutorService pool = Executors.newFixedThreadPool(4);
        List<Future<PostgresMetadataStore>> opening = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            opening.add(pool.submit(() -> open(url)));
        }
        for (Future<PostgresMetadataStore> f : opening) {
            try (PostgresMetadataStore s = f.get()) {
                s.checkAvailable();
            }
        }
        pool.shutdown();
    }

    @Test
    void oneGarbageCollectionAtATimeAcrossInstances() throws Exception {
        String url = DATABASES.get(dir);
        Path blobs = dir.resolve("gc-blobs");
        try (PostgresMetadataStore m1 = open(url);
                PostgresMetadataStore m2 = open(url)) {
            FilesystemBlobStore store = new FilesystemBlobStore(blobs, false);
            Registry one = new Registry(store, m1, RegistryOptions.defaults());
            Registry two = new Registry(store, m2, RegistryOptions.defaults());
            GarbageCollector oneGc = new Maintenance(one).gc();
            GarbageCollector twoGc = new Maintenance(two).gc();
            // instance one holds the lease (as while its run goes on); instance two is refused
            assertTrue(m1.<Boolean>inTransaction(
                    tx -> tx.leases().acquire("gc", "instance-one", System.currentTimeMillis() + 60_000)));
            RegistryException refused = Assertions.assertThrows(
                    RegistryException.class,
                    () -> twoGc.runNow(new GarbageCollector.Options(true, Duration.ZERO, false)));
            assertTrue(refused.getMessage().contains("another instance"), refused.getMessage());
            // released: the other instance runs, and releases in turn
            m1.inTransaction(tx -> tx.leases().acquire("gc", "instance-one", 0));
            assertEquals(
                    GarbageCollector.State.SUCCEEDED,
                    twoGc.runNow(new GarbageCollector.Options(true, Duration.ZERO, false))
                            .state());
            assertEquals(
                    GarbageCollector.State.SUCCEEDED,
                    oneGc.runNow(new GarbageCollector.Options(true, Duration.ZERO, false))
                            .state());
        }
    }

    /**
     * Reads outside transactions borrow a pooled connection for each statement and rely on it being
     * in autocommit at the default isolation, also after a SERIALIZABLE transaction used it: a
     * connection with autocommit off would hold a transaction, and its snapshot, across reads.
     */
    @Test
    void pooledReadConnectionsAreInAutocommitAfterATransaction() {
        PostgresMetadataStore pg = (PostgresMetadataStore) store;
        for (int i = 0; i < 20; i++) {
            pg.inTransaction(tx -> {
                tx.repositories().ensure(REPO);
                return null;
            });
            assertTrue(store.repositories().exists(REPO));
            assertEquals(
                    List.of(true, Connection.TRANSACTION_READ_COMMITTED),
                    pg.onPooled(c -> {
                        try {
                            return List.<Object>of(c.getAutoCommit(), c.getTransactionIsolation());
                        } catch (SQLException e) {
                            throw new IllegalStateException(e);
                        }
                    }),
                    "autocommit, isolation");
        }
    }
}
