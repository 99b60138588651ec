package io.berth.core.registry;

import io.berth.core.blob.BlobStore;
import io.berth.core.error.ErrorCode;
import io.berth.core.error.RegistryException;
import io.berth.core.metadata.MetadataStore;
import io.berth.core.model.Digest;
import io.berth.core.model.RepositoryName;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Optional;
import java.util.OptionalLong;

/** Reading and unlinking the blobs of a repository. */
public final class Blobs {
    private final BlobStore store;
    private final MetadataStore metadata;
    private final PullRecorder pulls;

    Blobs(BlobStore store, MetadataStore metadata, PullRecorder pulls) {
        this.store = store;
        this.metadata = metadata;
        this.pulls = pulls;
    }

    /** The blob as {@code repository} serves it, or {@code BLOB_UNKNOWN}. */
    public BlobInfo stat(RepositoryName repository, Digest digest) {
        OptionalLong size = metadata.linkedBlobSize(repository, digest);
        if (size.isEmpty()) {
            throw unknown(digest);
        }
        return new BlobInfo(digest, size.getAsLong());
    }

    /** Streams {@code length} bytes from {@code offset}; records the pull. */
    public InputStream open(RepositoryName repository, BlobInfo blob, long offset, long length) {
        try {
            InputStream in = store.open(blob.digest(), offset, length);
            pulls.blobPulled(repository, blob.digest());
            return in;
        } catch (NoSuchFileException e) {
            throw unknown(blob.digest());
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /** The local file of a blob, for zero-copy sending, when the backend has one; records the pull. */
    public Optional<Path> localFile(RepositoryName repository, BlobInfo blob) {
        Optional<Path> file = store.localFile(blob.digest());
        file.ifPresent(f -> pulls.blobPulled(repository, blob.digest()));
        return file;
    }

    /** Unlinks the blob from the repository; its bytes are reclaimed by garbage collection. */
    public void delete(RepositoryName repository, Digest digest) {
        boolean removed = metadata.inTransaction(tx -> tx.unlinkBlob(repository, digest));
        if (!removed) {
            throw unknown(digest);
        }
    }

    private static RegistryException unknown(Digest digest) {
        return RegistryException.of(ErrorCode.BLOB_UNKNOWN, "blob " + digest + " is unknown to the repository",
                "digest", digest.toString());
    }
}
