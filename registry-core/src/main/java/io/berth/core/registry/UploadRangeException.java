package io.berth.core.registry;

import io.berth.core.error.ErrorCode;
import io.berth.core.error.RegistryException;
import io.berth.core.model.RepositoryName;
import io.berth.core.model.UploadId;
import java.util.Map;

/** A chunk that does not continue the upload where it ends; carries the session's current size. */
public final class UploadRangeException extends RegistryException {
    private static final long serialVersionUID = 1L;

    private final RepositoryName repository;
    private final UploadId uploadId;
    private final long currentSize;

    public UploadRangeException(RepositoryName repository, UploadId uploadId, long currentSize, String message) {
        super(ErrorCode.RANGE_INVALID, message, Map.of("size", currentSize));
        this.repository = repository;
        this.uploadId = uploadId;
        this.currentSize = currentSize;
    }

    public RepositoryName repository() {
        return repository;
    }

    public UploadId uploadId() {
        return uploadId;
    }

    public long currentSize() {
        return currentSize;
    }
}
