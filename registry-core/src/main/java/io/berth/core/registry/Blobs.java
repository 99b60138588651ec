package io.berth.core.registry;

import io.berth.core.blob.BlobReadException;
import io.berth.core.blob.BlobStore;
import io.berth.core.error.ErrorCode;
import io.berth.core.error.RegistryException;
import io.berth.core.metadata.MetadataStore;
import io.berth.core.model.Caller;
import io.berth.core.model.Digest;
import io.berth.core.model.RepositoryName;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;

/** Reading and unlinking the blobs of a repository. */
public final class Blobs {
    private static final System.Logger LOG = System.getLogger(Blobs.class.getName());

    private final BlobStore store;
    private final MetadataStore metadata;
    private final PullRecorder pulls;
    private final StorageHealth health;
    private final EventRecorder events;
    private final ProxyGuard proxies;
    /** Blobs up to this size are served by {@link #readSmall}. */
    public static final int SMALL_BLOB = SmallBlobCache.MAX_ENTRY;

    private final SmallBlobCache cache = new SmallBlobCache(16L << 20);

    Blobs(
            BlobStore store,
            MetadataStore metadata,
            PullRecorder pulls,
            StorageHealth health,
            EventRecorder events,
            ProxyGuard proxies) {
        this.store = store;
        this.proxies = proxies;
        this.metadata = metadata;
        this.pulls = pulls;
        this.health = health;
        this.events = events;
    }

    /** The blob as {@code repository} serves it, or {@code BLOB_UNKNOWN}. */
    public BlobInfo stat(RepositoryName repository, Digest digest) {
        OptionalLong size = metadata.blobs().linkedSize(repository, digest);
        if (size.isEmpty()) {
            throw unknown(digest);
        }
        return new BlobInfo(digest, size.getAsLong());
    }

    /**
     * Streams {@code length} bytes from {@code offset}; records the pull. A read that fails, or ends
     * before {@code length} bytes, throws {@link BlobReadException} and records the blob as damaged.
     */
    public InputStream open(RepositoryName repository, BlobInfo blob, long offset, long length) {
        Digest digest = blob.digest();
        try {
            InputStream in = store.open(digest, offset, length);
            pulls.blobPulled(repository, digest);
            return new DamageReporting(in, digest);
        } catch (NoSuchFileException e) {
            damaged(digest, "its file is missing from storage");
            throw unknown(digest);
        } catch (IOException e) {
            damaged(digest, e.getMessage());
            throw new UncheckedIOException(new BlobReadException(digest, e.getMessage(), e));
        }
    }

    /**
     * The bytes {@code [offset, offset + length)} of a blob of at most {@link #SMALL_BLOB} bytes, read
     * whole (and kept in memory for the next pull): no stream to hold open while they are sent.
     *
     * @throws java.io.UncheckedIOException with a {@link BlobReadException} when storage cannot return them
     */
    public byte[] readSmall(RepositoryName repository, BlobInfo blob, long offset, int length) {
        if (blob.size() > SMALL_BLOB || offset < 0 || offset + length > blob.size()) {
            throw new IllegalArgumentException("not a small blob or range: " + blob + " " + offset + "+" + length);
        }
        Digest digest = blob.digest();
        byte[] content = cache.get(digest);
        if (content == null && blob.size() == 0) {
            pulls.blobPulled(repository, digest);
            content = new byte[0]; // nothing to read (and a ranged read of nothing is an error on S3)
        } else if (content == null) {
            try (InputStream in = open(repository, blob, 0, blob.size())) {
                content = in.readNBytes((int) blob.size()); // a failure was reported as damage by open's stream
            } catch (IOException e) {
                throw new UncheckedIOException(
                        e instanceof BlobReadException ? e : new BlobReadException(digest, e.getMessage(), e));
            }
            String wrong = content.length < blob.size()
                    ? "it ended after " + content.length + " of " + blob.size() + " bytes"
                    : Digest.compute(digest.algorithm(), content).equals(digest)
                            ? null
                            : "its content does not match its digest";
            if (wrong != null) {
                damaged(digest, wrong);
                throw new UncheckedIOException(new BlobReadException(digest, wrong, null));
            }
            cache.put(digest, content);
        } else {
            pulls.blobPulled(repository, digest);
        }
        return offset == 0 && length == content.length
                ? content
                : Arrays.copyOfRange(content, (int) offset, (int) offset + length);
    }

    private void damaged(Digest digest, String reason) {
        health.damaged(digest, reason);
        LOG.log(
                System.Logger.Level.ERROR,
                "blob " + digest + " is recorded but cannot be read: " + reason + " (push it again to repair it)");
    }

    /** Turns read failures into {@link BlobReadException} and reports the blob as damaged. */
    private final class DamageReporting extends FilterInputStream {
        private final Digest digest;

        DamageReporting(InputStream in, Digest digest) {
            super(in);
            this.digest = digest;
        }

        @Override
        public int read() throws IOException {
            try {
                return super.read();
            } catch (IOException e) {
                throw failed(e);
            }
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            try {
                return super.read(b, off, len);
            } catch (IOException e) {
                throw failed(e);
            }
        }

        private BlobReadException failed(IOException e) {
            damaged(digest, e.getMessage());
            return e instanceof BlobReadException b ? b : new BlobReadException(digest, e.getMessage(), e);
        }
    }

    /**
     * Where the client may fetch the blob from the store itself (a presigned URL), when the backend is
     * configured for it; records the pull. Storage failures are {@link java.io.UncheckedIOException}s.
     */
    public Optional<URI> redirect(RepositoryName repository, BlobInfo blob) {
        try {
            Optional<URI> url = store.redirect(blob.digest());
            url.ifPresent(u -> pulls.blobPulled(repository, blob.digest()));
            return url;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The local file of a blob, for zero-copy sending, when the backend has one; records the pull. */
    public Optional<Path> localFile(RepositoryName repository, BlobInfo blob) {
        Optional<Path> file = store.localFile(blob.digest());
        file.ifPresent(f -> pulls.blobPulled(repository, blob.digest()));
        return file;
    }

    /**
     * Unlinks the blob from the repository; its bytes are reclaimed by garbage collection. A blob a
     * manifest of the repository still references stays ({@code REFERENCED}): deleting it would leave
     * an image that cannot be pulled.
     */
    public void delete(RepositoryName repository, Digest digest) {
        delete(Caller.internal("registry"), repository, digest);
    }

    /** As {@link #delete(RepositoryName, Digest)}, on behalf of {@code caller} (in its event). */
    public void delete(Caller caller, RepositoryName repository, Digest digest) {
        proxies.requireLocal(repository, "deletes");
        boolean removed = metadata.inTransaction(tx -> {
            Optional<Digest> user = tx.manifests().referencingBlob(repository, digest);
            if (user.isPresent() && tx.blobs().linked(repository, digest)) {
                throw new RegistryException(
                        ErrorCode.REFERENCED,
                        "blob " + digest + " is referenced by manifest " + user.get() + " in " + repository
                                + "; delete the manifest first",
                        Map.of(
                                "digest",
                                digest.toString(),
                                "manifest",
                                user.get().toString()));
            }
            boolean unlinked = tx.blobs().unlink(repository, digest);
            if (unlinked) {
                events.blobDeleted(tx, caller, repository, digest);
            }
            return unlinked;
        });
        if (!removed) {
            throw unknown(digest);
        }
    }

    private static RegistryException unknown(Digest digest) {
        return RegistryException.of(
                ErrorCode.BLOB_UNKNOWN,
                "blob " + digest + " is unknown to the repository",
                "digest",
                digest.toString());
    }
}
