package io.berth.core.metadata;

import io.berth.core.model.RepositoryName;
import io.berth.core.model.UploadId;

/** A resumable upload: which repository it is for and how many bytes it holds. */
public record UploadSession(UploadId id, RepositoryName repository, long size, long startedAt, long updatedAt) {
}
