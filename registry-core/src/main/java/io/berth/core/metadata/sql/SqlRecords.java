package io.berth.core.metadata.sql;

import io.berth.core.metadata.BlobRecords;
import io.berth.core.metadata.GcRecords;
import io.berth.core.metadata.ImmutabilityRecords;
import io.berth.core.metadata.Leases;
import io.berth.core.metadata.ManifestRecords;
import io.berth.core.metadata.MetadataReads;
import io.berth.core.metadata.OutboxRecords;
import io.berth.core.metadata.ProxyRecords;
import io.berth.core.metadata.RepositoryRecords;
import io.berth.core.metadata.RetentionRecords;
import io.berth.core.metadata.RobotRecords;
import io.berth.core.metadata.TagRecords;
import io.berth.core.metadata.UploadRecords;

/**
 * Every aggregate's SQL class over one session, wired to each other where a change reaches across
 * aggregates (deleting a manifest or a repository records its tags' deletion). A store reads
 * committed state through one over its pool; {@link SqlTransaction} holds one over its connection.
 * Public for store implementations in other modules (metadata-postgres).
 */
public final class SqlRecords implements MetadataReads {
    private final SqlTags tags;
    private final SqlRepositories repositories;
    private final SqlBlobs blobs;
    private final SqlManifests manifests;
    private final SqlUploads uploads;
    private final SqlOutbox outbox;
    private final SqlLeases leases;
    private final SqlSequences sequences;
    private final SqlImmutability immutability;
    private final SqlRetention retention;
    private final SqlGc gc;
    private final SqlRobots robots;
    private final SqlProxy proxy;

    public SqlRecords(SqlSession session) {
        this.tags = new SqlTags(session);
        this.repositories = new SqlRepositories(session, tags);
        this.blobs = new SqlBlobs(session);
        this.manifests = new SqlManifests(session, tags);
        this.uploads = new SqlUploads(session);
        this.outbox = new SqlOutbox(session);
        this.leases = new SqlLeases(session);
        this.sequences = new SqlSequences(session);
        this.immutability = new SqlImmutability(session, sequences);
        this.retention = new SqlRetention(session);
        this.gc = new SqlGc(session);
        this.robots = new SqlRobots(session);
        this.proxy = new SqlProxy(session);
    }

    @Override
    public RepositoryRecords.Writes repositories() {
        return repositories;
    }

    @Override
    public BlobRecords.Writes blobs() {
        return blobs;
    }

    @Override
    public ManifestRecords.Writes manifests() {
        return manifests;
    }

    @Override
    public TagRecords.Writes tags() {
        return tags;
    }

    @Override
    public UploadRecords.Writes uploads() {
        return uploads;
    }

    @Override
    public OutboxRecords.Writes outbox() {
        return outbox;
    }

    @Override
    public ImmutabilityRecords.Writes immutability() {
        return immutability;
    }

    @Override
    public RetentionRecords.Writes retention() {
        return retention;
    }

    @Override
    public GcRecords.Writes gc() {
        return gc;
    }

    @Override
    public RobotRecords.Writes robots() {
        return robots;
    }

    @Override
    public ProxyRecords.Writes proxy() {
        return proxy;
    }

    Leases leases() {
        return leases;
    }

    SqlSequences sequences() {
        return sequences;
    }
}
