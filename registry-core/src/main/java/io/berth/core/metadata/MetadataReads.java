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

    default boolean repositoryExists(RepositoryName repository) {
        return repositories().exists(repository);
    }

    default long repositoryCount() {
        return repositories().count();
    }

    default List<String> repositories(String after, int limit) {
        return repositories().names(after, limit);
    }

    default Optional<ManifestRecord> manifest(RepositoryName repository, Digest digest) {
        return manifests().get(repository, digest);
    }

    default Optional<Digest> manifestReferencingBlob(RepositoryName repository, Digest blob) {
        return manifests().referencingBlob(repository, blob);
    }

    default Optional<Digest> indexReferencingManifest(RepositoryName repository, Digest child) {
        return manifests().indexReferencing(repository, child);
    }

    default boolean manifestExists(RepositoryName repository, Digest digest) {
        return manifests().exists(repository, digest);
    }

    default Optional<Digest> tag(RepositoryName repository, String tag) {
        return tags().target(repository, tag);
    }

    default List<String> tags(RepositoryName repository, String after, int limit) {
        return tags().names(repository, after, limit);
    }

    default List<String> tagsOf(RepositoryName repository, Digest manifest) {
        return tags().of(repository, manifest);
    }

    default List<TagChange> tagHistory(RepositoryName repository, String tag) {
        return tags().history(repository, tag);
    }

    default List<ReferrerRecord> referrers(RepositoryName repository, Digest subject, String artifactType,
                                           String after, int limit) {
        return manifests().referrers(repository, subject, artifactType, after, limit);
    }

    default OptionalLong manifestLastPulled(RepositoryName repository, Digest digest) {
        return manifests().lastPulled(repository, digest);
    }

    default List<String> repositories(String prefix, String after, int limit) {
        return repositories().names(prefix, after, limit);
    }

    default RepositoryStats repositoryStats(RepositoryName repository) {
        return repositories().stats(repository);
    }

    default List<TagRecord> tagRecords(RepositoryName repository, String after, int limit) {
        return tags().records(repository, after, limit);
    }

    default List<TagRecord> tagRecordsByPushed(RepositoryName repository, long afterPushedAt, String afterName,
                                               int limit) {
        return tags().recordsByPushed(repository, afterPushedAt, afterName, limit);
    }

    default Optional<TagRecord> tagRecord(RepositoryName repository, String tag) {
        return tags().record(repository, tag);
    }

    default long tagCount(RepositoryName repository) {
        return tags().count(repository);
    }

    default List<ManifestSummary> manifestSummaries(RepositoryName repository, String after, int limit,
                                                    boolean untaggedOnly) {
        return manifests().summaries(repository, after, limit, untaggedOnly);
    }

    default long referrerCount(RepositoryName repository, Digest subject) {
        return manifests().referrerCount(repository, subject);
    }

    default List<Digest> manifestDigestsStartingWith(RepositoryName repository, String beginning, int limit) {
        return manifests().digestsStartingWith(repository, beginning, limit);
    }

    default List<ChildEdge> childEdges(RepositoryName repository) {
        return manifests().childEdges(repository);
    }

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

    default List<Digest> manifestDependents(RepositoryName repository, Digest manifest) {
        return manifests().dependents(repository, manifest);
    }

    default List<Digest> indexesListing(RepositoryName repository, Digest child) {
        return manifests().indexesListing(repository, child);
    }

    default List<Digest> blobsOf(RepositoryName repository, Digest manifest) {
        return manifests().blobsOf(repository, manifest);
    }

    default List<ManifestKey> manifestsReferencingBlob(Digest blob) {
        return manifests().referencingBlobAnywhere(blob);
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
