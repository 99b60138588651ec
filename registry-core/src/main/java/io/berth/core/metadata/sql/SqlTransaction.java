package io.berth.core.metadata.sql;

import io.berth.core.metadata.BlobRecords;
import io.berth.core.metadata.GcRecords;
import io.berth.core.metadata.ImmutabilityRecords;
import io.berth.core.metadata.Leases;
import io.berth.core.metadata.ManifestRecords;
import io.berth.core.metadata.MetadataTransaction;
import io.berth.core.metadata.OutboxRecords;
import io.berth.core.metadata.ProxyRecords;
import io.berth.core.metadata.RepositoryRecords;
import io.berth.core.metadata.RetentionRecords;
import io.berth.core.metadata.RobotRecords;
import io.berth.core.metadata.TagRecords;
import io.berth.core.metadata.UploadRecords;
import java.sql.Connection;
import java.util.ArrayList;
import java.util.List;

/**
 * The SQL behind {@link MetadataTransaction}, on one JDBC connection. Only portable SQL
 * (SQLite 3.24+ and PostgreSQL 9.5+): {@code INSERT … ON CONFLICT}, no vendor functions.
 * Public for store implementations in other modules (metadata-postgres), not for callers of a store.
 */
public final class SqlTransaction implements MetadataTransaction {
    private final Connection connection;
    private final long now;
    private final SqlRecords records;
    private final List<Runnable> afterCommit = new ArrayList<>();

    /** For store implementations: the transaction's SQL on {@code connection}, stamped {@code now}. */
    public SqlTransaction(Connection connection, long now) {
        this.connection = connection;
        this.now = now;
        this.records = new SqlRecords(SqlSession.of(connection, now));
    }

    /** The transaction's connection, for a store's tests of its settings (durability). */
    public Connection connection() {
        return connection;
    }

    /** Runs the after-commit actions once the transaction committed; a failing one is logged, not thrown. */
    public void runAfterCommit() {
        for (Runnable action : afterCommit) {
            try {
                action.run();
            } catch (RuntimeException e) {
                System.getLogger(SqlTransaction.class.getName())
                        .log(System.Logger.Level.WARNING, "after-commit action failed: " + e);
            }
        }
    }

    @Override
    public RepositoryRecords.Writes repositories() {
        return records.repositories();
    }

    @Override
    public BlobRecords.Writes blobs() {
        return records.blobs();
    }

    @Override
    public ManifestRecords.Writes manifests() {
        return records.manifests();
    }

    @Override
    public TagRecords.Writes tags() {
        return records.tags();
    }

    @Override
    public UploadRecords.Writes uploads() {
        return records.uploads();
    }

    @Override
    public OutboxRecords.Writes outbox() {
        return records.outbox();
    }

    @Override
    public ImmutabilityRecords.Writes immutability() {
        return records.immutability();
    }

    @Override
    public RetentionRecords.Writes retention() {
        return records.retention();
    }

    @Override
    public GcRecords.Writes gc() {
        return records.gc();
    }

    @Override
    public RobotRecords.Writes robots() {
        return records.robots();
    }

    @Override
    public ProxyRecords.Writes proxy() {
        return records.proxy();
    }

    @Override
    public Leases leases() {
        return records.leases();
    }

    @Override
    public long now() {
        return now;
    }

    @Override
    public long nextSequence(String name) {
        return records.sequences().next(name);
    }

    @Override
    public void afterCommit(Runnable action) {
        afterCommit.add(action);
    }
}
