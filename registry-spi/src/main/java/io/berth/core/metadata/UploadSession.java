package io.berth.core.metadata;

import io.berth.core.model.RepositoryName;
import io.berth.core.model.UploadId;

/** A resumable upload: which repository it is for, how many bytes it holds, and who opened it. */
public record UploadSession(
        UploadId id, RepositoryName repository, long size, long startedAt, long updatedAt, String client) {
    public UploadSession {
        client = client == null ? "" : client;
    }

    /** The session after a chunk: {@code size} bytes, touched at {@code at}. */
    public UploadSession advancedTo(long size, long at) {
        return new UploadSession(id, repository, size, startedAt, at, client);
    }
}
