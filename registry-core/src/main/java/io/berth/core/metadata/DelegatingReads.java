package io.berth.core.metadata;

import io.berth.core.model.Digest;
import io.berth.core.model.RepositoryName;
import io.berth.core.model.UploadId;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.function.Function;

/**
 * A store's reads outside transactions: each one runs {@link #read} with a view on committed state
 * (for SQLite, a pooled reader connection). A backend implements {@link #read} once.
 * Public for store implementations in other modules (metadata-postgres).
 */
public interface DelegatingReads extends MetadataReads {

    /** Runs {@code query} on committed state. */
    <T> T read(Function<MetadataReads, T> query);

    @Override
    default boolean repositoryExists(RepositoryName repository) {
        return read(q -> q.repositoryExists(repository));
    }

    @Override
    default long repositoryCount() {
        return read(q -> q.repositoryCount());
    }

    @Override
    default List<String> repositories(String after, int limit) {
        return read(q -> q.repositories(after, limit));
    }

    @Override
    default OptionalLong blobSize(Digest digest) {
        return read(q -> q.blobSize(digest));
    }

    @Override
    default boolean blobLinked(RepositoryName repository, Digest digest) {
        return read(q -> q.blobLinked(repository, digest));
    }

    @Override
    default OptionalLong linkedBlobSize(RepositoryName repository, Digest digest) {
        return read(q -> q.linkedBlobSize(repository, digest));
    }

    @Override
    default boolean blobLinkedAnywhere(Digest digest) {
        return read(q -> q.blobLinkedAnywhere(digest));
    }

    @Override
    default Optional<ManifestRecord> manifest(RepositoryName repository, Digest digest) {
        return read(q -> q.manifest(repository, digest));
    }

    @Override
    default Optional<Digest> manifestReferencingBlob(RepositoryName repository, Digest blob) {
        return read(q -> q.manifestReferencingBlob(repository, blob));
    }

    @Override
    default Optional<Digest> indexReferencingManifest(RepositoryName repository, Digest child) {
        return read(q -> q.indexReferencingManifest(repository, child));
    }

    @Override
    default boolean manifestExists(RepositoryName repository, Digest digest) {
        return read(q -> q.manifestExists(repository, digest));
    }

    @Override
    default Optional<Digest> tag(RepositoryName repository, String tag) {
        return read(q -> q.tag(repository, tag));
    }

    @Override
    default List<String> tags(RepositoryName repository, String after, int limit) {
        return read(q -> q.tags(repository, after, limit));
    }

    @Override
    default List<String> tagsOf(RepositoryName repository, Digest manifest) {
        return read(q -> q.tagsOf(repository, manifest));
    }

    @Override
    default List<TagChange> tagHistory(RepositoryName repository, String tag) {
        return read(q -> q.tagHistory(repository, tag));
    }

    @Override
    default List<ReferrerRecord> referrers(RepositoryName repository, Digest subject, String artifactType, String after, int limit) {
        return read(q -> q.referrers(repository, subject, artifactType, after, limit));
    }

    @Override
    default OptionalLong blobLastPulled(RepositoryName repository, Digest digest) {
        return read(q -> q.blobLastPulled(repository, digest));
    }

    @Override
    default OptionalLong manifestLastPulled(RepositoryName repository, Digest digest) {
        return read(q -> q.manifestLastPulled(repository, digest));
    }

    @Override
    default Optional<UploadSession> upload(UploadId id) {
        return read(q -> q.upload(id));
    }

    @Override
    default List<UploadSession> uploadsIdleSince(long before) {
        return read(q -> q.uploadsIdleSince(before));
    }

    @Override
    default boolean uploadExists(UploadId id) {
        return read(q -> q.uploadExists(id));
    }

    @Override
    default long uploadsOfClient(String client) {
        return read(q -> q.uploadsOfClient(client));
    }

    @Override
    default List<OutboxEvent> pendingEvents(int limit) {
        return read(q -> q.pendingEvents(limit));
    }

    @Override
    default OutboxStats outboxStats() {
        return read(q -> q.outboxStats());
    }

    @Override
    default List<String> repositories(String prefix, String after, int limit) {
        return read(q -> q.repositories(prefix, after, limit));
    }

    @Override
    default RepositoryStats repositoryStats(RepositoryName repository) {
        return read(q -> q.repositoryStats(repository));
    }

    @Override
    default List<TagRecord> tagRecords(RepositoryName repository, String after, int limit) {
        return read(q -> q.tagRecords(repository, after, limit));
    }

    @Override
    default List<TagRecord> tagRecordsByPushed(RepositoryName repository, long afterPushedAt, String afterName, int limit) {
        return read(q -> q.tagRecordsByPushed(repository, afterPushedAt, afterName, limit));
    }

    @Override
    default Optional<TagRecord> tagRecord(RepositoryName repository, String tag) {
        return read(q -> q.tagRecord(repository, tag));
    }

    @Override
    default long tagCount(RepositoryName repository) {
        return read(q -> q.tagCount(repository));
    }

    @Override
    default List<ManifestSummary> manifestSummaries(RepositoryName repository, String after, int limit, boolean untaggedOnly) {
        return read(q -> q.manifestSummaries(repository, after, limit, untaggedOnly));
    }

    @Override
    default long referrerCount(RepositoryName repository, Digest subject) {
        return read(q -> q.referrerCount(repository, subject));
    }

    @Override
    default List<ChildEdge> childEdges(RepositoryName repository) {
        return read(q -> q.childEdges(repository));
    }

    @Override
    default List<ImmutabilityRuleRecord> immutabilityRules() {
        return read(q -> q.immutabilityRules());
    }

    @Override
    default List<StoredRetentionPolicy> retentionPolicies() {
        return read(q -> q.retentionPolicies());
    }

    @Override
    default Optional<StoredRetentionPolicy> retentionPolicy(String name) {
        return read(q -> q.retentionPolicy(name));
    }

    @Override
    default Optional<StoredRetentionPlan> retentionPlan(String id) {
        return read(q -> q.retentionPlan(id));
    }

    @Override
    default List<BlobRecord> unreferencedBlobs(String after, long cutoff, int limit) {
        return read(q -> q.unreferencedBlobs(after, cutoff, limit));
    }

    @Override
    default List<ManifestKey> unreachableManifests(String after, long cutoff, int limit) {
        return read(q -> q.unreachableManifests(after, cutoff, limit));
    }

    @Override
    default List<Digest> manifestDigestsStartingWith(RepositoryName repository, String beginning, int limit) {
        return read(q -> q.manifestDigestsStartingWith(repository, beginning, limit));
    }

    @Override
    default List<Digest> manifestDependents(RepositoryName repository, Digest manifest) {
        return read(q -> q.manifestDependents(repository, manifest));
    }

    @Override
    default List<Digest> indexesListing(RepositoryName repository, Digest child) {
        return read(q -> q.indexesListing(repository, child));
    }

    @Override
    default List<Digest> blobsOf(RepositoryName repository, Digest manifest) {
        return read(q -> q.blobsOf(repository, manifest));
    }

    @Override
    default List<ManifestKey> manifestsReferencingBlob(Digest blob) {
        return read(q -> q.manifestsReferencingBlob(blob));
    }

    @Override
    default Optional<BlobRecord> blobUnlinkedSince(Digest blob, long cutoff) {
        return read(q -> q.blobUnlinkedSince(blob, cutoff));
    }

    @Override
    default Optional<GcRunRecord> gcRun(String id) {
        return read(q -> q.gcRun(id));
    }

    @Override
    default Optional<GcRunRecord> latestGcRun() {
        return read(q -> q.latestGcRun());
    }

    @Override
    default List<Digest> blobDeletions() {
        return read(q -> q.blobDeletions());
    }

    @Override
    default List<RobotRecord> robots() {
        return read(q -> q.robots());
    }

    @Override
    default Optional<RobotRecord> robot(String name) {
        return read(q -> q.robot(name));
    }
}
