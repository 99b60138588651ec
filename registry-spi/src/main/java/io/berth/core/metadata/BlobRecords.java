package io.berth.core.metadata;

import io.berth.core.model.Digest;
import io.berth.core.model.RepositoryName;
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
