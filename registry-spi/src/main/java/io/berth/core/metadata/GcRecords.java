package io.berth.core.metadata;

import io.berth.core.model.Digest;
import java.util.List;
import java.util.Optional;

/** Garbage collection's state: its mark, its runs, the reservations of uploads and the claims of deletions. */
public interface GcRecords {

    /**
     * Garbage collection's mark: up to {@code limit} blobs after digest {@code after}, sorted by digest,
     * that no manifest of any repository references, recorded before {@code cutoff} and linked to no
     * repository since.
     */
    List<BlobRecord> unreferencedBlobs(String after, long cutoff, int limit);

    /**
     * Up to {@code limit} manifests, sorted by repository and digest after {@code after}
     * ({@code repository@digest}, null: from the start), that no tag points at, no index of their
     * repository lists, that are not a referrer of a manifest their repository holds, and that were
     * pushed before {@code cutoff}.
     */
    List<ManifestKey> unreachableManifests(String after, long cutoff, int limit);

    /**
     * The blob, when it was recorded before {@code cutoff} and linked to no repository since: the mark of
     * {@link #unreferencedBlobs} without its condition on references.
     */
    Optional<BlobRecord> blobUnlinkedSince(Digest blob, long cutoff);

    Optional<GcRunRecord> run(String id);

    /** The most recently started run, if any. */
    Optional<GcRunRecord> latestRun();

    /** Digests garbage collection claimed and has not finished deleting (a run stopped in between). */
    List<Digest> deletions();

    /** The changes, inside a {@link MetadataTransaction}. */
    interface Writes extends GcRecords {

        /** Inserts or updates a garbage collection run. */
        void putRun(GcRunRecord run);

        /**
         * An upload is about to place the blob's file: reserved, unless garbage collection is deleting it
         * right now (then false, and the caller waits). A deletion claimed before {@code staleBefore} is
         * taken to be of a run that died, and is dropped.
         */
        boolean reserve(Digest digest, String holder, long staleBefore);

        void release(Digest digest, String holder);

        /**
         * Whether {@code holder} (an upload session) holds a reservation of {@code digest}: an upload
         * reserves a digest only after its bytes verified as it.
         */
        boolean reservedBy(Digest digest, String holder);

        /** Drops reservations made before {@code before} (of uploads that died between reserving and recording). */
        int releaseBefore(long before);

        /**
         * Garbage collection claims the digest for deletion: only when no upload reserved it, no other
         * claim exists, and no manifest references it; then its blob record and every link to it are
         * removed in the same transaction. False when any of that does not hold (the blob is kept).
         *
         * @param requireUnlinkedSince the blob must not have been recorded or linked at or after this time
         *                             (epoch millis); {@code Long.MAX_VALUE} for a file with no record at all
         */
        boolean claimDeletion(Digest digest, String run, long requireUnlinkedSince);

        void endDeletion(Digest digest);
    }
}
