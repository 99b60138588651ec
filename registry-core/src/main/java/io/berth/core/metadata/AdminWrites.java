package io.berth.core.metadata;

import io.berth.core.model.ChangeOrigin;
import io.berth.core.model.Digest;
import io.berth.core.model.RepositoryName;

/** The changes behind the admin API, inside a {@link MetadataTransaction}. */
public interface AdminWrites {

    /**
     * Removes a repository and everything in it: tags (recorded in their history), manifests, their
     * references, blob links. Blobs themselves stay for garbage collection. False when it did not exist.
     */
    boolean deleteRepository(RepositoryName repository, ChangeOrigin origin);

    void insertImmutabilityRule(ImmutabilityRuleRecord rule);

    boolean deleteImmutabilityRule(String id);

    /** Creates or replaces a policy; true when it was created. */
    boolean putRetentionPolicy(String name, String spec);

    boolean deleteRetentionPolicy(String name);

    void recordRetentionRun(String name, String summary);

    void insertRetentionPlan(StoredRetentionPlan plan);

    /** Deletes plans created before {@code before}. */
    int pruneRetentionPlans(long before);

    /** Inserts or updates a garbage collection run. */
    void putGcRun(GcRunRecord run);

    /**
     * An upload is about to place the blob's file: reserved, unless garbage collection is deleting it
     * right now (then false, and the caller waits). A deletion claimed before {@code staleBefore} is
     * taken to be of a run that died, and is dropped.
     */
    boolean reserveBlob(Digest digest, String holder, long staleBefore);

    void releaseBlob(Digest digest, String holder);

    /**
     * Whether {@code holder} (an upload session) holds a reservation of {@code digest}: an upload
     * reserves a digest only after its bytes verified as it.
     */
    boolean blobReservedBy(Digest digest, String holder);

    /** Drops reservations made before {@code before} (of uploads that died between reserving and recording). */
    int releaseReservationsBefore(long before);

    /**
     * Garbage collection claims the digest for deletion: only when no upload reserved it, no other
     * claim exists, and no manifest references it; then its blob record and every link to it are
     * removed in the same transaction. False when any of that does not hold (the blob is kept).
     *
     * @param requireUnlinkedSince the blob must not have been recorded or linked at or after this time
     *                             (epoch millis); {@code Long.MAX_VALUE} for a file with no record at all
     */
    boolean claimBlobDeletion(Digest digest, String run, long requireUnlinkedSince);

    void endBlobDeletion(Digest digest);

    /** Stores a new robot account; false when one of that name exists. */
    boolean insertRobot(RobotRecord robot);

    /** Removes a robot account; false when there was none. */
    boolean deleteRobot(String name);
}
