package io.berth.core.metadata.sqlite;

import io.berth.core.files.OwnerOnly;
import io.berth.core.metadata.BlobRecords;
import io.berth.core.metadata.GcRecords;
import io.berth.core.metadata.ImmutabilityRecords;
import io.berth.core.metadata.ManifestRecords;
import io.berth.core.metadata.MetadataException;
import io.berth.core.metadata.MetadataStore;
import io.berth.core.metadata.OutboxRecords;
import io.berth.core.metadata.ProxyRecords;
import io.berth.core.metadata.RepositoryRecords;
import io.berth.core.metadata.RetentionRecords;
import io.berth.core.metadata.RobotRecords;
import io.berth.core.metadata.TagRecords;
import io.berth.core.metadata.UploadRecords;
import io.berth.core.metadata.sql.Migrations;
import io.berth.core.metadata.sql.SqlRecords;
import io.berth.core.metadata.sql.SqlSession;
import io.berth.core.metadata.sql.SqlTransaction;
import io.berth.core.model.RepositoryName;
import java.io.IOException;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.locks.ReentrantLock;
import org.sqlite.SQLiteConfig;

/**
 * {@link MetadataStore} on an SQLite file in WAL mode: one writer connection (SQLite admits one
 * writer at a time, so writes are serialised here rather than retried on SQLITE_BUSY) and a small
 * pool of reader connections that never block on the writer. Reads outside transactions take a
 * reader for each statement, in autocommit: each statement sees the state committed when it runs.
 */
public final class SqliteMetadataStore implements MetadataStore {
    private static final System.Logger LOG = System.getLogger(SqliteMetadataStore.class.getName());
    static final int READERS = 8;

    private final String url;
    private Connection writer; // guarded by writeLock; replaced when a failure left it unusable
    private final ReentrantLock writeLock = new ReentrantLock();
    private static final int SYNCHRONOUS_NORMAL = 1;
    private static final int SYNCHRONOUS_FULL = 2;
    /** The writer's current {@code PRAGMA synchronous} (guarded by writeLock), set per transaction. */
    private int writerSynchronous = SYNCHRONOUS_FULL;

    private Connection writerSynchronousOf;
    private final BlockingQueue<Connection> readers = new ArrayBlockingQueue<>(READERS);
    private final List<Connection> all = new ArrayList<>();
    private volatile boolean closed;
    private final Clock clock;
    private final SqlRecords committed;

    public SqliteMetadataStore(Path file) {
        this(file, Clock.systemUTC());
    }

    /** As above, stamping rows with {@code clock}'s time. */
    public SqliteMetadataStore(Path file, Clock clock) {
        this.clock = clock;
        this.committed = new SqlRecords(SqlSession.pooled(this::onReader, clock::millis));
        try {
            Path parent = file.toAbsolutePath().getParent();
            if (parent != null) {
                OwnerOnly.createDirectories(parent);
            }
            // an empty file is an empty database: created 0600 here, SQLite gives its -wal and -shm files the same mode
            OwnerOnly.createFile(file.toAbsolutePath());
            this.url = "jdbc:sqlite:" + file.toAbsolutePath().normalize();
            this.writer = open(true);
            try (Statement s = writer.createStatement()) {
                s.execute("PRAGMA journal_mode=WAL");
            }
            Migrations.apply(writer, "sqlite");
            for (int i = 0; i < READERS; i++) {
                readers.add(open(false));
            }
            checkWritable();
        } catch (MetadataException e) {
            close();
            throw new MetadataException(
                    "cannot write SQLite metadata at " + file + ": "
                            + (e.getCause() == null
                                    ? e.getMessage()
                                    : e.getCause().getMessage()),
                    e);
        } catch (SQLException | IOException e) {
            close();
            throw new MetadataException("cannot open SQLite metadata at " + file + ": " + e.getMessage(), e);
        }
    }

    /**
     * The writer begins every transaction with BEGIN IMMEDIATE: it takes the write lock first, waiting
     * for it under the busy timeout. A deferred transaction that reads before it writes cannot wait:
     * SQLite answers its upgrade with SQLITE_BUSY at once whenever anyone else holds the lock for a
     * moment (a reader recovering the WAL index, another process such as the sqlite3 shell).
     * Readers are query-only, so the writer really is the only one that writes.
     */
    private Connection open(boolean forWriting) throws SQLException {
        Properties p = new Properties();
        if (forWriting) {
            p.setProperty(
                    SQLiteConfig.Pragma.TRANSACTION_MODE.pragmaName, SQLiteConfig.TransactionMode.IMMEDIATE.name());
        }
        Connection c = DriverManager.getConnection(url, p);
        all.add(c);
        try (Statement s = c.createStatement()) {
            s.execute("PRAGMA busy_timeout=10000");
            if (!forWriting) {
                s.execute("PRAGMA query_only=1");
            }
            // FULL: a committed push survives power loss, not only a crash of the process.
            s.execute("PRAGMA synchronous=FULL");
            s.execute("PRAGMA foreign_keys=OFF");
        }
        return c;
    }

    @Override
    public String kind() {
        return "sqlite";
    }

    @Override
    public String describe() {
        return "sqlite " + url.substring("jdbc:sqlite:".length());
    }

    /**
     * Runs {@code work} in a transaction on the single writer connection. Whatever goes wrong inside
     * (an exception, or an {@link Error} such as OutOfMemoryError thrown in the middle of the driver),
     * the writer is left usable for the next transaction: rolled back, or replaced by a new
     * connection when even the rollback fails.
     */
    @Override
    public <T> T inTransaction(Durability durability, Work<T> work) {
        writeLock.lock();
        try {
            ensureOpen();
            Connection c = writer;
            boolean committed = false;
            SqlTransaction tx = new SqlTransaction(c, clock.millis());
            T result;
            try {
                synchronous(c, durability);
                c.setAutoCommit(false);
                result = work.run(tx);
                c.commit();
                committed = true;
            } finally {
                restore(c, committed);
            }
            tx.runAfterCommit();
            return result;
        } catch (SQLException e) {
            throw new MetadataException("transaction failed: " + e.getMessage(), e);
        } finally {
            writeLock.unlock();
        }
    }

    /**
     * Sets how the writer's next commit is flushed. In WAL mode FULL fsyncs the log at each commit;
     * NORMAL leaves the appended frames to the operating system until a checkpoint or the next FULL
     * commit, whose fsync of the log covers them: the log is sequential, so a later durable commit
     * never survives without an earlier deferred one.
     */
    private void synchronous(Connection c, Durability durability) throws SQLException {
        int wanted = durability == Durability.DURABLE ? SYNCHRONOUS_FULL : SYNCHRONOUS_NORMAL;
        if (writerSynchronous != wanted || c != writerSynchronousOf) {
            try (Statement s = c.createStatement()) {
                s.execute("PRAGMA synchronous=" + wanted);
            }
            writerSynchronous = wanted;
            writerSynchronousOf = c;
        }
    }

    /** Puts the writer back in autocommit mode, rolling back first when the work did not commit. */
    private void restore(Connection c, boolean committed) {
        try {
            if (!committed) {
                c.rollback();
            }
            c.setAutoCommit(true);
        } catch (Throwable broken) {
            replaceWriter(c, broken);
        }
    }

    private void replaceWriter(Connection broken, Throwable why) {
        LOG.log(
                System.Logger.Level.WARNING,
                "metadata writer connection unusable after a failure (" + why + "); opening a new one");
        try {
            broken.close();
        } catch (Throwable ignored) {
            // it is being replaced
        }
        all.remove(broken);
        try {
            writer = open(true);
        } catch (SQLException e) {
            throw new MetadataException("cannot reopen the metadata writer: " + e.getMessage(), e);
        }
    }

    /**
     * Throws when the database cannot be written now (a read-only file or filesystem, a full disk):
     * a write is attempted and rolled back.
     */
    public void checkWritable() {
        writeLock.lock();
        try {
            ensureOpen();
            Connection c = writer;
            try (Statement s = c.createStatement()) {
                c.setAutoCommit(false);
                s.executeUpdate("UPDATE schema_migrations SET applied_at = applied_at"
                        + " WHERE version = (SELECT MAX(version) FROM schema_migrations)");
            } finally {
                restore(c, false);
            }
        } catch (SQLException e) {
            throw new MetadataException("metadata database cannot be written: " + e.getMessage(), e);
        } finally {
            writeLock.unlock();
        }
    }

    /**
     * Runs one read on a reader connection, waiting for one to be free. Readers stay in autocommit
     * (never set otherwise): a reader holding a transaction open would keep answering from its first
     * snapshot. Package-private for the test that checks it.
     */
    <T> T onReader(SqlSession.Work<T> work) {
        ensureOpen();
        Connection c;
        try {
            c = readers.take();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new MetadataException("interrupted waiting for a connection", e);
        }
        try {
            return work.on(c);
        } finally {
            readers.add(c);
        }
    }

    @Override
    public RepositoryRecords repositories() {
        return committed.repositories();
    }

    @Override
    public BlobRecords blobs() {
        return committed.blobs();
    }

    @Override
    public ManifestRecords manifests() {
        return committed.manifests();
    }

    @Override
    public TagRecords tags() {
        return committed.tags();
    }

    @Override
    public UploadRecords uploads() {
        return committed.uploads();
    }

    @Override
    public OutboxRecords outbox() {
        return committed.outbox();
    }

    @Override
    public ImmutabilityRecords immutability() {
        return committed.immutability();
    }

    @Override
    public RetentionRecords retention() {
        return committed.retention();
    }

    @Override
    public GcRecords gc() {
        return committed.gc();
    }

    @Override
    public RobotRecords robots() {
        return committed.robots();
    }

    @Override
    public ProxyRecords proxy() {
        return committed.proxy();
    }

    private void ensureOpen() {
        if (closed) {
            throw new MetadataException("metadata store is closed", null);
        }
    }

    /** Readiness: a constant-time read, and a write attempt (rolled back). */
    @Override
    public void checkAvailable() {
        committed.repositories().exists(RepositoryName.of("readiness/probe"));
        checkWritable();
    }

    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        writeLock.lock();
        try {
            for (Connection c : all) {
                try {
                    c.close();
                } catch (SQLException ignored) {
                    // closing anyway
                }
            }
        } finally {
            writeLock.unlock();
        }
    }
}
