package io.berth.core.metadata;

import io.berth.core.model.Digest;
import io.berth.core.model.RepositoryName;
import java.util.List;
import java.util.OptionalLong;

/** Verified blobs, and which repositories may serve them (links). */
public interface BlobRecords {

    /** Size of a verified blob held by the registry in any repository, if known. */
    OptionalLong size(Digest digest);

    boolean linked(RepositoryName repository, Digest digest);

    /** Size of a blob that {@code repository} may serve, or empty when it may not. */
    OptionalLong linkedSize(RepositoryName repository, Digest digest);

    /** Some repository that links the blob, if any (for mounting without {@code from}). */
    boolean linkedAnywhere(Digest digest);

    /** When {@code repository} last served the blob, if ever (recorded in batches). */
    OptionalLong lastPulled(RepositoryName repository, Digest digest);

    /**
     * The blobs {@code repository} links, sorted by digest after {@code after} (null or empty: from the
     * start), at most {@code limit}: with their sizes (0 for a link without a blob record), link and
     * last pull times.
     */
    List<LinkedBlob> linkedTo(RepositoryName repository, String after, int limit);

    /** The changes, inside a {@link MetadataTransaction}. */
    interface Writes extends BlobRecords {

        /** Records a verified blob (idempotent). */
        void put(Digest digest, long size);

        /** Lets {@code repository} serve the blob (idempotent; refreshes when it was linked). */
        void link(RepositoryName repository, Digest digest);

        boolean unlink(RepositoryName repository, Digest digest);

        void recordPull(RepositoryName repository, Digest digest, long at);
    }
}
