package io.berth.core.metadata;

import io.berth.core.model.ChangeOrigin;
import io.berth.core.model.Digest;
import io.berth.core.model.RepositoryName;
import io.berth.core.model.UploadId;
import java.util.List;
import java.util.Optional;

/**
 * Changes to registry metadata that commit together or not at all. Later features (the event
 * outbox) add their rows through the same transaction as the change they describe.
 */
public interface MetadataTransaction extends MetadataReads, AdminWrites {

    /** The transaction's clock (epoch millis), one value for every row it writes. */
    long now();

    void ensureRepository(RepositoryName repository);

    /** Records a verified blob (idempotent). */
    void putBlob(Digest digest, long size);

    /** Lets {@code repository} serve the blob (idempotent; refreshes when it was linked). */
    void linkBlob(RepositoryName repository, Digest digest);

    boolean unlinkBlob(RepositoryName repository, Digest digest);

    /** Stores a manifest with its references, replacing an earlier push of the same digest. */
    void putManifest(ManifestRecord manifest, ManifestReferences references);

    /** Removes a manifest, its references and every tag pointing at it (recorded in tag history). */
    boolean deleteManifest(RepositoryName repository, Digest digest, ChangeOrigin origin);

    /** Points a tag at a manifest; records the change in tag history. Returns the previous target. */
    Optional<Digest> setTag(RepositoryName repository, String tag, Digest manifest, ChangeOrigin origin);

    boolean deleteTag(RepositoryName repository, String tag, ChangeOrigin origin);

    void createUpload(UploadSession session);

    /** Moves an upload from {@code expectedSize} to {@code newSize}; false when it was not at {@code expectedSize}. */
    boolean advanceUpload(UploadId id, long expectedSize, long newSize);

    boolean deleteUpload(UploadId id);

    void recordManifestPull(RepositoryName repository, Digest digest, long at);

    void recordBlobPull(RepositoryName repository, Digest digest, long at);

    /** The next value of a counter (1 for a new counter); counts only if the transaction commits. */
    long nextSequence(String name);

    /** Adds an event to the outbox; it is published once this transaction committed. */
    void insertEvent(OutboxEvent event);

    /** Marks outbox rows as published. */
    int markEventsSent(List<Long> seqs, long at);

    /** Deletes published outbox rows older than {@code before} (epoch millis). */
    int pruneSentEvents(long before);

    /**
     * Takes or renews the lease {@code name} for {@code owner} until {@code until} (epoch millis):
     * true when {@code owner} holds it afterwards (it was free, expired, or already its own).
     */
    boolean acquireLease(String name, String owner, long until);

    /** Runs {@code action} after this transaction committed (never if it rolls back). */
    void afterCommit(Runnable action);
}
