package io.berth.core.metadata;

import io.berth.core.model.Digest;
import io.berth.core.model.RepositoryName;
import io.berth.core.model.UploadId;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;

/** Queries over registry metadata; available on the store and inside a transaction. */
public interface MetadataReads extends AdminReads {

    boolean repositoryExists(RepositoryName repository);

    long repositoryCount();

    /** Up to {@code limit} repository names sorted lexically, starting after {@code after} (null: from the start). */
    List<String> repositories(String after, int limit);

    /** Size of a verified blob held by the registry in any repository, if known. */
    OptionalLong blobSize(Digest digest);

    boolean blobLinked(RepositoryName repository, Digest digest);

    /** Size of a blob that {@code repository} may serve, or empty when it may not. */
    OptionalLong linkedBlobSize(RepositoryName repository, Digest digest);

    /** Some repository that links the blob, if any (for mounting without {@code from}). */
    boolean blobLinkedAnywhere(Digest digest);

    Optional<ManifestRecord> manifest(RepositoryName repository, Digest digest);

    /** A manifest of the repository that references the blob (config or layer), if any. */
    Optional<Digest> manifestReferencingBlob(RepositoryName repository, Digest blob);

    /** An index of the repository that lists {@code child} as one of its manifests, if any. */
    Optional<Digest> indexReferencingManifest(RepositoryName repository, Digest child);

    boolean manifestExists(RepositoryName repository, Digest digest);

    Optional<Digest> tag(RepositoryName repository, String tag);

    /** Up to {@code limit} tags sorted lexically, starting after {@code after} (null: from the start). */
    List<String> tags(RepositoryName repository, String after, int limit);

    List<String> tagsOf(RepositoryName repository, Digest manifest);

    List<TagChange> tagHistory(RepositoryName repository, String tag);

    /**
     * Up to {@code limit} manifests whose subject is {@code subject}, sorted by digest, after digest
     * {@code after} (null: from the start); {@code artifactType} null means all.
     */
    List<ReferrerRecord> referrers(RepositoryName repository, Digest subject, String artifactType, String after,
                                   int limit);

    /** When {@code repository} last served the blob, if ever (recorded in batches). */
    OptionalLong blobLastPulled(RepositoryName repository, Digest digest);

    /** When the manifest was last pulled, if ever (recorded in batches). */
    OptionalLong manifestLastPulled(RepositoryName repository, Digest digest);

    Optional<UploadSession> upload(UploadId id);

    /** Sessions not touched since {@code before} (epoch millis). */
    List<UploadSession> uploadsIdleSince(long before);

    boolean uploadExists(UploadId id);

    /** Open upload sessions that {@code client} started. */
    long uploadsOfClient(String client);

    /** Up to {@code limit} unpublished outbox events, oldest first. */
    List<OutboxEvent> pendingEvents(int limit);

    /** How many events wait to be published, and since when the oldest waits (epoch millis, 0 when none). */
    OutboxStats outboxStats();

    /** The outbox backlog. */
    record OutboxStats(long pending, long oldestCreatedAt) {
    }
}
