package io.berth.core.metadata;

import io.berth.core.model.Digest;
import io.berth.core.model.RepositoryName;
import io.berth.core.model.UploadId;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * Registry metadata by aggregate; available on the store (committed state) and inside a transaction,
 * whose accessors add each aggregate's changes.
 */
public interface MetadataReads {

    RepositoryRecords repositories();

    BlobRecords blobs();

    ManifestRecords manifests();

    TagRecords tags();

    UploadRecords uploads();

    OutboxRecords outbox();

    ImmutabilityRecords immutability();

    RetentionRecords retention();

    GcRecords gc();

    RobotRecords robots();

    // ---- the flat methods, while their callers move to the accessors above

    default List<ImmutabilityRuleRecord> immutabilityRules() {
        return immutability().rules();
    }

    default List<StoredRetentionPolicy> retentionPolicies() {
        return retention().policies();
    }

    default Optional<StoredRetentionPolicy> retentionPolicy(String name) {
        return retention().policy(name);
    }

    default Optional<StoredRetentionPlan> retentionPlan(String id) {
        return retention().plan(id);
    }

    default List<BlobRecord> unreferencedBlobs(String after, long cutoff, int limit) {
        return gc().unreferencedBlobs(after, cutoff, limit);
    }

    default List<ManifestKey> unreachableManifests(String after, long cutoff, int limit) {
        return gc().unreachableManifests(after, cutoff, limit);
    }

    default Optional<BlobRecord> blobUnlinkedSince(Digest blob, long cutoff) {
        return gc().blobUnlinkedSince(blob, cutoff);
    }

    default Optional<GcRunRecord> gcRun(String id) {
        return gc().run(id);
    }

    default Optional<GcRunRecord> latestGcRun() {
        return gc().latestRun();
    }

    default List<Digest> blobDeletions() {
        return gc().deletions();
    }
}
