package io.berth.core.metadata;

import io.berth.core.model.UploadId;
import java.util.List;
import java.util.Optional;

/** Upload sessions: resumable uploads and how far each got. */
public interface UploadRecords {

    Optional<UploadSession> get(UploadId id);

    /** Sessions not touched since {@code before} (epoch millis). */
    List<UploadSession> idleSince(long before);

    boolean exists(UploadId id);

    /** Open upload sessions that {@code client} started. */
    long ofClient(String client);

    /** The changes, inside a {@link MetadataTransaction}. */
    interface Writes extends UploadRecords {

        void create(UploadSession session);

        /** Moves an upload from {@code expectedSize} to {@code newSize}; false when it was not at {@code expectedSize}. */
        boolean advance(UploadId id, long expectedSize, long newSize);

        boolean delete(UploadId id);
    }
}
