package io.berth.core.metadata;

import io.berth.core.model.ChangeOrigin;
import io.berth.core.model.Digest;
import io.berth.core.model.RepositoryName;
import io.berth.core.model.UploadId;
import java.util.List;
import java.util.Optional;

/**
 * Changes to registry metadata that commit together or not at all: each aggregate's accessor gives
 * its changes beside its reads. Events go to the outbox through the same transaction as the change
 * they describe.
 */
public interface MetadataTransaction extends MetadataReads {

    @Override
    RepositoryRecords.Writes repositories();

    @Override
    BlobRecords.Writes blobs();

    @Override
    ManifestRecords.Writes manifests();

    @Override
    TagRecords.Writes tags();

    @Override
    UploadRecords.Writes uploads();

    @Override
    OutboxRecords.Writes outbox();

    @Override
    ImmutabilityRecords.Writes immutability();

    @Override
    RetentionRecords.Writes retention();

    @Override
    GcRecords.Writes gc();

    @Override
    RobotRecords.Writes robots();

    Leases leases();

    /** The transaction's clock (epoch millis), one value for every row it writes. */
    long now();

    /** The next value of a counter (1 for a new counter); counts only if the transaction commits. */
    long nextSequence(String name);

    /** Runs {@code action} after this transaction committed (never if it rolls back). */
    void afterCommit(Runnable action);

    // ---- the flat methods, while their callers move to the accessors above

    default void insertImmutabilityRule(ImmutabilityRuleRecord rule) {
        immutability().insert(rule);
    }

    default boolean deleteImmutabilityRule(String id) {
        return immutability().delete(id);
    }

    default boolean putRetentionPolicy(String name, String spec) {
        return retention().putPolicy(name, spec);
    }

    default boolean deleteRetentionPolicy(String name) {
        return retention().deletePolicy(name);
    }

    default void recordRetentionRun(String name, String summary) {
        retention().recordRun(name, summary);
    }

    default void insertRetentionPlan(StoredRetentionPlan plan) {
        retention().insertPlan(plan);
    }

    default int pruneRetentionPlans(long before) {
        return retention().prunePlans(before);
    }

    default void putGcRun(GcRunRecord run) {
        gc().putRun(run);
    }

    default boolean reserveBlob(Digest digest, String holder, long staleBefore) {
        return gc().reserve(digest, holder, staleBefore);
    }

    default void releaseBlob(Digest digest, String holder) {
        gc().release(digest, holder);
    }

    default boolean blobReservedBy(Digest digest, String holder) {
        return gc().reservedBy(digest, holder);
    }

    default int releaseReservationsBefore(long before) {
        return gc().releaseBefore(before);
    }

    default boolean claimBlobDeletion(Digest digest, String run, long requireUnlinkedSince) {
        return gc().claimDeletion(digest, run, requireUnlinkedSince);
    }

    default void endBlobDeletion(Digest digest) {
        gc().endDeletion(digest);
    }
}
