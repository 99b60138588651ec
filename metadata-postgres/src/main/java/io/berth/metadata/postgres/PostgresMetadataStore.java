package io.berth.metadata.postgres;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
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
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.util.concurrent.ThreadLocalRandom;

/**
 * {@link MetadataStore} on PostgreSQL, shared by every instance of a scaled-out registry, through a
 * HikariCP pool. Every change runs as one SERIALIZABLE transaction: the database, not a lock in
 * one JVM, orders concurrent changes from several instances — two pushes of one tag, a delete
 * racing a push, two PATCHes of one upload. A transaction that PostgreSQL aborts for a
 * serialization failure or deadlock (SQLSTATE 40001, 40P01) runs again from the start, with a new
 * view, with a random pause that grows with each attempt (up to 30 attempts, about 4 s in all: eight
 * writers of one tag on a loaded machine ran out of 20 attempts of a few milliseconds each); its
 * after-commit actions run once, after the commit that counted. Reads outside transactions take a
 * pooled connection for each statement, in autocommit: each statement sees the state committed when it runs.
 */
public final class PostgresMetadataStore implements MetadataStore {
    private static final int MAX_ATTEMPTS = 30;

    private final HikariDataSource pool;
    private final String describe;
    private final Clock clock;
    private final SqlRecords committed;

    /** Connection settings: a JDBC URL ({@code jdbc:postgresql://host:5432/berth}), user, password, pool size. */
    public record Settings(String url, String user, String password, int poolSize) {
        @Override
        public String toString() {
            return "Settings[url=" + url + ", user=" + user + ", poolSize=" + poolSize + "]";
        }
    }

    public PostgresMetadataStore(Settings settings, Clock clock) {
        this.clock = clock;
        this.committed = new SqlRecords(SqlSession.pooled(this::onPooled, clock::millis));
        // shown without its query, which may carry user and password
        String shown = settings.url().replaceFirst("^jdbc:", "").replaceAll("\\?.*$", "");
        this.describe = "postgres " + shown;
        HikariConfig config = new HikariConfig();
        config.setJdbcUrl(settings.url());
        config.setUsername(settings.user());
        config.setPassword(settings.password());
        config.setMaximumPoolSize(settings.poolSize());
        config.setMinimumIdle(Math.min(2, settings.poolSize()));
        config.setPoolName("berth-postgres");
        config.setConnectionTimeout(10_000);
        config.setInitializationFailTimeout(10_000);
        try {
            this.pool = new HikariDataSource(config);
        } catch (RuntimeException e) {
            throw new MetadataException("cannot connect to PostgreSQL at " + shown + ": " + rootMessage(e), e);
        }
        try (Connection c = pool.getConnection()) {
            Migrations.apply(c, "postgres");
        } catch (SQLException e) {
            pool.close();
            throw new MetadataException("cannot migrate PostgreSQL metadata at " + shown + ": " + e.getMessage(), e);
        }
    }

    private static String rootMessage(Throwable e) {
        Throwable t = e;
        while (t.getCause() != null && t.getCause() != t) {
            t = t.getCause();
        }
        return t.getMessage() == null ? t.toString() : t.getMessage();
    }

    @Override
    public String kind() {
        return "postgres";
    }

    @Override
    public String describe() {
        return describe;
    }

    @Override
    public <T> T inTransaction(Durability durability, Work<T> work) {
        for (int attempt = 1; ; attempt++) {
            SqlTransaction tx = null;
            T result = null;
            boolean retry = false;
            try (Connection c = pool.getConnection()) {
                c.setAutoCommit(false);
                c.setTransactionIsolation(Connection.TRANSACTION_SERIALIZABLE);
                boolean committed = false;
                try {
                    if (durability == Durability.DEFERRED) {
                        // the commit returns before its WAL record is flushed; WAL order still holds
                        try (Statement s = c.createStatement()) {
                            s.execute("SET LOCAL synchronous_commit TO OFF");
                        }
                    }
                    tx = new SqlTransaction(c, clock.millis());
                    result = work.run(tx);
                    c.commit();
                    committed = true;
                } catch (MetadataException e) {
                    if (attempt < MAX_ATTEMPTS && e.getCause() instanceof SQLException sql && retryable(sql)) {
                        rollbackQuietly(c);
                        retry = true;
                    } else {
                        throw e;
                    }
                } catch (SQLException e) {
                    if (attempt < MAX_ATTEMPTS && retryable(e)) {
                        rollbackQuietly(c);
                        retry = true;
                    } else {
                        throw new MetadataException("transaction failed: " + e.getMessage(), e);
                    }
                } finally {
                    if (!committed) {
                        rollbackQuietly(c);
                    }
                    c.setAutoCommit(true);
                }
            } catch (SQLException e) {
                throw new MetadataException("transaction failed: " + e.getMessage(), e);
            }
            if (retry) {
                pause(attempt); // with the connection back in the pool: sleeping retries must not hold it
                continue;
            }
            tx.runAfterCommit();
            return result;
        }
    }

    /** Serialization failures, deadlocks and unique violations of a racing insert are worth another try. */
    static boolean retryable(SQLException e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof SQLException s
                    && s.getSQLState() != null
                    && (s.getSQLState().equals("40001")
                            || s.getSQLState().equals("40P01")
                            || s.getSQLState().equals("23505"))) {
                return true;
            }
        }
        return false;
    }

    private static void pause(int attempt) {
        try {
            // full jitter over a window that doubles up to 256 ms: contenders spread out instead of colliding again
            Thread.sleep(ThreadLocalRandom.current().nextLong(1, 1L << Math.min(attempt + 1, 8)));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new MetadataException("interrupted retrying a transaction", e);
        }
    }

    private static void rollbackQuietly(Connection c) {
        try {
            c.rollback();
        } catch (SQLException ignored) {
            // the connection is returned to the pool, which tests it
        }
    }

    /**
     * Runs one read on a connection of the pool, in autocommit: Hikari's default, and a transaction
     * gives its connection back with autocommit and isolation as they were. Package-private for the
     * test that checks it.
     */
    <T> T onPooled(SqlSession.Work<T> work) {
        try (Connection c = pool.getConnection()) {
            return work.on(c);
        } catch (SQLException e) {
            throw new MetadataException("metadata read failed: " + e.getMessage(), e);
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

    @Override
    public void checkAvailable() {
        committed.repositories().exists(RepositoryName.of("readiness/probe"));
        try (Connection c = pool.getConnection();
                Statement s = c.createStatement()) {
            c.setAutoCommit(false);
            try {
                s.executeUpdate("UPDATE schema_migrations SET applied_at = applied_at"
                        + " WHERE version = (SELECT MAX(version) FROM schema_migrations)");
            } finally {
                c.rollback();
                c.setAutoCommit(true);
            }
        } catch (SQLException e) {
            throw new MetadataException("metadata database cannot be written: " + e.getMessage(), e);
        }
    }

    @Override
    public void close() {
        pool.close();
    }
}
