package io.berth.core.blob;

import io.berth.core.model.Digest;
import io.berth.core.model.UploadId;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * Content-addressed byte storage, neutral of backend (filesystem now, S3 later). It stores and
 * returns bytes; it knows no registry rule. Digest verification, repository links and upload
 * bookkeeping belong to the caller in registry-core.
 *
 * <p>Uploads are staged under an {@link UploadId} and become a blob only through
 * {@link #commitUpload}, which is atomic: a blob is either fully present under its digest or absent.
 * Every implementation passes {@code BlobStoreContract}.
 */
public interface BlobStore extends AutoCloseable {

    /** A short name of the backend, e.g. {@code filesystem}. */
    String kind();

    /** Where the blobs are, for the start-up line: {@code filesystem /srv/blobs}, an S3 bucket. */
    default String describe() {
        return kind();
    }

    /** The size of a stored blob, or empty when it is absent. */
    OptionalLong size(Digest digest) throws IOException;

    /**
     * Streams {@code length} bytes of a blob from {@code offset}.
     *
     * @throws java.nio.file.NoSuchFileException when the blob is absent
     */
    InputStream open(Digest digest, long offset, long length) throws IOException;

    /** A local file holding the blob, when the backend has one (lets the server send it zero-copy). */
    default Optional<Path> localFile(Digest digest) {
        return Optional.empty();
    }

    /**
     * Where a client may fetch the blob itself instead (a presigned URL of an object store), when the
     * backend is configured to hand out such URLs; empty otherwise.
     */
    default Optional<URI> redirect(Digest digest) throws IOException {
        return Optional.empty();
    }

    /** Removes a blob; false when it was absent. */
    boolean delete(Digest digest) throws IOException;

    /** Receives stored blobs one at a time; false stops the listing. */
    @FunctionalInterface
    interface Visitor {
        boolean visit(Digest digest) throws IOException;
    }

    /**
     * Every stored blob whose text ({@code sha256:…}) sorts after {@code after} (empty: from the first),
     * in the order of that text, handed to {@code visitor} a page at a time as the store lists them:
     * a listing never holds the whole store in memory (a bucket may hold millions of blobs), and a
     * garbage collection resumes from its cursor.
     */
    void list(String after, Visitor visitor) throws IOException;

    /** Every stored blob as one list: for tests and small stores; garbage collection streams ({@link #list(String, Visitor)}). */
    default List<Digest> list() throws IOException {
        List<Digest> out = new ArrayList<>();
        list("", d -> out.add(d));
        return out;
    }

    /**
     * When the blob was last written (epoch millis), or empty when it is absent. Garbage collection
     * leaves files with no metadata younger than its grace period alone: a push places its file
     * before its metadata commits.
     */
    OptionalLong modifiedAt(Digest digest) throws IOException;

    /** Creates an empty upload. */
    void createUpload(UploadId id) throws IOException;

    /** Bytes staged so far, or -1 when the upload does not exist. */
    long uploadSize(UploadId id) throws IOException;

    /**
     * Writes {@code data} to the upload starting at {@code offset}, dropping anything staged beyond
     * it (a chunk retried after a failure replaces what the failed attempt left). An upload with no
     * staged data yet is created when {@code offset} is 0. When it returns the chunk is acknowledged:
     * its bytes (and the upload itself) survive a crash of the process and, where the store flushes,
     * of the machine.
     *
     * @return the upload's size afterwards
     * @throws StagedUploadLostException when fewer than {@code offset} bytes are staged: writing would
     *                                   leave a hole
     */
    long append(UploadId id, long offset, InputStream data) throws IOException;

    /**
     * Whether {@link #append} fills its own buffers from a {@link DirectSource} body, and
     * {@linkplain DirectSource#release releases} each before filling it again. The caller then hashes
     * such a body in those buffers, where the kernel put the bytes, rather than in copies of its own.
     */
    default boolean fillsFromDirectSources() {
        return false;
    }

    /**
     * As {@link #append}, for a final chunk the caller commits right away ({@code PUT} with a body):
     * its bytes need to be durable only once {@link #commitUpload} returns, which makes them so, so a
     * store may skip the flush an acknowledged chunk needs.
     */
    default long appendBeforeCommit(UploadId id, long offset, InputStream data) throws IOException {
        return append(id, offset, data);
    }

    /**
     * As {@link #append}, for a body {@code client} sends (its {@code Caller.client()}: the
     * authenticated user, else the address). A store whose buffers are shared by all uploads uses it
     * to keep one client from holding all of them; by default it is not looked at.
     */
    default long append(UploadId id, long offset, InputStream data, String client) throws IOException {
        return append(id, offset, data);
    }

    /** As {@link #appendBeforeCommit}, for a body {@code client} sends, as {@link #append(UploadId, long, InputStream, String)}. */
    default long appendBeforeCommit(UploadId id, long offset, InputStream data, String client) throws IOException {
        return appendBeforeCommit(id, offset, data);
    }

    /**
     * Drops staged bytes beyond {@code size}: the remains of a chunk that failed or was never
     * acknowledged, so the upload holds only acknowledged bytes and the space is free again.
     */
    void truncateUpload(UploadId id, long size) throws IOException;

    /** Reads back what has been staged (to recompute a digest after a restart). */
    InputStream openUpload(UploadId id) throws IOException;

    /**
     * Whether {@link #openUpload(UploadId, long, long)} reads an upload that another thread is still
     * {@linkplain #append appending} to: every byte below the {@link #uploadSize} seen is written, in
     * order, and readable at once. A pull-through cache's readers that fell behind what it holds in
     * memory read the rest there instead of waiting for the commit.
     */
    default boolean readsUploadsWhileWritten() {
        return false;
    }

    /**
     * {@code length} staged bytes from {@code offset}, all below an {@link #uploadSize} seen before,
     * while the upload may still be written; only when {@link #readsUploadsWhileWritten()}.
     */
    default InputStream openUpload(UploadId id, long offset, long length) throws IOException {
        throw new UnsupportedOperationException(kind() + " does not read uploads while they are written");
    }

    /**
     * Makes the staged bytes the blob {@code digest}, atomically, replacing what is stored under that
     * digest (so a damaged blob is mended by pushing it again); the caller has verified the digest.
     * When it returns the blob is durable, including bytes staged by {@link #appendBeforeCommit}.
     */
    void commitUpload(UploadId id, Digest digest) throws IOException;

    /** Discards an upload; absent uploads are ignored. */
    void deleteUpload(UploadId id) throws IOException;

    /** Ids of all staged uploads (to remove those no session knows any more). */
    List<UploadId> listUploads() throws IOException;

    /** Free and total bytes of the storage holding blobs, when the backend can tell. */
    default Optional<Space> space() {
        return Optional.empty();
    }

    /** Buffers of the backend's shared pools in use now, by pool name (for metrics). */
    default Map<String, Integer> buffersInUse() {
        return Map.of();
    }

    /** Room on the storage: bytes still usable by Berth and bytes in all. */
    record Space(long usable, long total) {}

    /** Throws when the backend cannot currently be used (readiness). */
    void checkAvailable() throws IOException;

    @Override
    void close() throws IOException;
}
