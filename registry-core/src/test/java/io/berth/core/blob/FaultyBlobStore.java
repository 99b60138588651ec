package io.berth.core.blob;

import io.berth.core.model.Digest;
import io.berth.core.model.UploadId;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A blob store that fails chosen operations a given number of times: for faults that cannot be
 * caused for real at a precise point (an I/O error between verifying a digest and committing).
 */
public final class FaultyBlobStore implements BlobStore {
    private final BlobStore delegate;
    public final AtomicInteger commitFailures = new AtomicInteger();
    /** A slow store: time between a blob's file being in place and the commit returning. */
    public volatile long pauseAfterCommitMillis;
    /** The client each body was appended for, in order (a store's shared buffers are shared out by it). */
    public final List<String> clients = new CopyOnWriteArrayList<>();

    public FaultyBlobStore(BlobStore delegate) {
        this.delegate = delegate;
    }

    @Override
    public String kind() {
        return delegate.kind();
    }

    @Override
    public OptionalLong size(Digest digest) throws IOException {
        return delegate.size(digest);
    }

    @Override
    public InputStream open(Digest digest, long offset, long length) throws IOException {
        return delegate.open(digest, offset, length);
    }

    @Override
    public Optional<Path> localFile(Digest digest) {
        return delegate.localFile(digest);
    }

    @Override
    public boolean delete(Digest digest) throws IOException {
        return delegate.delete(digest);
    }

    @Override
    public void list(String after, Visitor visitor) throws IOException {
        delegate.list(after, visitor);
    }

    @Override
    public OptionalLong modifiedAt(Digest digest) throws IOException {
        return delegate.modifiedAt(digest);
    }

    @Override
    public void createUpload(UploadId id) throws IOException {
        delegate.createUpload(id);
    }

    @Override
    public long uploadSize(UploadId id) throws IOException {
        return delegate.uploadSize(id);
    }

    @Override
    public long append(UploadId id, long offset, InputStream data) throws IOException {
        return delegate.append(id, offset, data);
    }

    @Override
    public long append(UploadId id, long offset, InputStream data, String client) throws IOException {
        clients.add(client);
        return delegate.append(id, offset, data, client);
    }

    @Override
    public long appendBeforeCommit(UploadId id, long offset, InputStream data, String client) throws IOException {
        clients.add(client);
        return delegate.appendBeforeCommit(id, offset, data, client);
    }

    @Override
    public void truncateUpload(UploadId id, long size) throws IOException {
        delegate.truncateUpload(id, size);
    }

    @Override
    public InputStream openUpload(UploadId id) throws IOException {
        return delegate.openUpload(id);
    }

    @Override
    public void commitUpload(UploadId id, Digest digest) throws IOException {
        if (commitFailures.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
            throw new IOException("Input/output error (injected)");
        }
        delegate.commitUpload(id, digest);
        if (pauseAfterCommitMillis > 0) {
            try {
                Thread.sleep(pauseAfterCommitMillis);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    @Override
    public void deleteUpload(UploadId id) throws IOException {
        delegate.deleteUpload(id);
    }

    @Override
    public List<UploadId> listUploads() throws IOException {
        return delegate.listUploads();
    }

    @Override
    public Optional<Space> space() {
        return delegate.space();
    }

    @Override
    public void checkAvailable() throws IOException {
        delegate.checkAvailable();
    }

    @Override
    public void close() throws IOException {
        delegate.close();
    }
}
