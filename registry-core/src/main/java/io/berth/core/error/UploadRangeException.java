package io.berth.core.error;

import java.util.Map;

/** A chunk that does not continue the upload where it ends; carries the session's current size. */
public final class UploadRangeException extends RegistryException {
    private static final long serialVersionUID = 1L;

    private final io.berth.core.model.RepositoryName repository;
    private final io.berth.core.model.UploadId uploadId;
    private final long currentSize;

    public UploadRangeException(io.berth.core.model.RepositoryName repository, io.berth.core.model.UploadId uploadId,
                                long currentSize, String message) {
        super(ErrorCode.RANGE_INVALID, message, Map.of("size", currentSize));
        this.repository = repository;
        this.uploadId = uploadId;
        this.currentSize = currentSize;
    }

    public io.berth.core.model.RepositoryName repository() {
        return repository;
    }

    public io.berth.core.model.UploadId uploadId() {
        return uploadId;
    }

    public long currentSize() {
        return currentSize;
    }
}
