package io.berth.core.registry;

import static io.berth.core.metadata.MetadataStore.Durability.DEFERRED;
import static io.berth.core.metadata.MetadataStore.Durability.DURABLE;

import io.berth.core.blob.BlobStore;
import io.berth.core.blob.BufferPool;
import io.berth.core.blob.DigestingInputStream;
import io.berth.core.blob.DirectSource;
import io.berth.core.blob.RequestBodyException;
import io.berth.core.blob.StagedUploadLostException;
import io.berth.core.error.ClientAbortedException;
import io.berth.core.error.ErrorCode;
import io.berth.core.error.RegistryException;
import io.berth.core.error.StorageFailures;
import io.berth.core.metadata.MetadataStore;
import io.berth.core.metadata.UploadSession;
import io.berth.core.model.Caller;
import io.berth.core.model.Digest;
import io.berth.core.model.DigestAlgorithm;
import io.berth.core.model.RepositoryName;
import io.berth.core.model.UploadId;
import io.berth.core.proxy.ProxyRoute;
import io.berth.core.proxy.UpstreamBlob;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.security.MessageDigest;
import java.time.Clock;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * Blob uploads: sessions, chunks, completion with digest verification, monolithic pushes and
 * cross-repository mounts.
 *
 * <p>The digest is computed while bytes stream in (sha256, the algorithm nearly every client uses),
 * and the running state is kept between chunks. When that state is missing — after a restart, or
 * when the client asks for sha512 — the staged bytes are hashed again at completion. A blob becomes
 * visible only once its digest matched; a mismatch discards the upload.
 */
public final class Uploads {
    private record HashState(long size, DigestAlgorithm algorithm, MessageDigest digest) {}

    private static final System.Logger LOG = System.getLogger(Uploads.class.getName());
    /** Bodies up to this size are hashed on the request's own thread (no hand-off, nothing to overlap). */
    static final long INLINE_HASH_MAX = 4L << 20;

    private static final int CORES = Runtime.getRuntime().availableProcessors();

    private final BlobStore store;
    private final MetadataStore metadata;
    private final StorageHealth health;
    private final RegistryOptions options;
    private final Clock clock;
    private final BufferPool hashBuffers;
    private final UploadLimits limits;
    private final EventRecorder events;
    private final ProxyGuard proxies;
    private final Map<UploadId, HashState> hashes = new ConcurrentHashMap<>();
    private final Map<UploadId, Boolean> busy = new ConcurrentHashMap<>();

    Uploads(
            BlobStore store,
            MetadataStore metadata,
            StorageHealth health,
            RegistryOptions options,
            Clock clock,
            BufferPool hashBuffers,
            EventRecorder events,
            ProxyGuard proxies) {
        this.events = events;
        this.proxies = proxies;
        this.store = store;
        this.metadata = metadata;
        this.health = health;
        this.options = options;
        this.clock = clock;
        this.hashBuffers = hashBuffers;
        this.limits = new UploadLimits(options.maxConcurrentUploads(), options.maxConcurrentUploadsPerClient());
    }

    /**
     * Whether a body is hashed on the thread that reads it rather than handed to a thread of its own.
     * The hand-off overlaps hashing with reading and writing, which pays while cores are idle; it
     * costs a copy of every byte, so a short body is hashed inline, and so is every body while more
     * bodies stream in than there are cores (they are busy anyway: 16 concurrent 64 MiB pushes on two
     * cores used 8 % less CPU per GiB inline).
     */
    static boolean hashInline(OptionalLong declaredLength, int bodiesStreaming, int cores) {
        return declaredLength.isPresent() && declaredLength.getAsLong() <= INLINE_HASH_MAX || bodiesStreaming > cores;
    }

    /** Upload bodies streaming in right now (a gauge). */
    public int inProgress() {
        return limits.inProgress();
    }

    /** Opens a resumable upload session on behalf of the registry itself. */
    public UploadSession start(RepositoryName repository) {
        return start(repository, Caller.internal("upload"));
    }

    /**
     * Opens a resumable upload session. A client may hold at most
     * {@code uploads.max-sessions-per-client} open sessions ({@code TOOMANYREQUESTS} beyond).
     */
    public UploadSession start(RepositoryName repository, Caller caller) {
        proxies.requireLocal(repository, "pushes");
        UploadId id = UploadId.random();
        long now = clock.millis();
        UploadSession session = new UploadSession(id, repository, 0, now, now, caller.client());
        // the row first, then the staging file: a staging file without a row is always an orphan.
        // Deferred: a session lost with the machine only makes its client start again (404 on its
        // next request), and the first acknowledged chunk's durable commit makes it durable anyway
        metadata.inTransaction(DEFERRED, tx -> {
            long open = tx.uploads().ofClient(caller.client());
            if (open >= options.maxSessionsPerClient()) {
                String why = "client " + caller.client() + " has " + open + " open upload sessions, its limit"
                        + " (uploads.max-sessions-per-client)";
                throw new RegistryException(
                        ErrorCode.TOOMANYREQUESTS,
                        why + "; complete or cancel some, or wait for" + " them to expire",
                        Map.of("setting", "uploads.max-sessions-per-client", "limit", options.maxSessionsPerClient()));
            }
            tx.uploads().create(session);
            return null;
        });
        try {
            store.createUpload(id);
        } catch (IOException e) {
            metadata.inTransaction(DEFERRED, tx -> tx.uploads().delete(id));
            RegistryException failure = StorageFailures.of("upload could not be started", e);
            health.failed(failure);
            throw failure;
        }
        return session;
    }

    /** The session, which must belong to {@code repository}. */
    public UploadSession status(RepositoryName repository, UploadId id) {
        return metadata.uploads()
                .get(id)
                .filter(s -> s.repository().equals(repository))
                .orElseThrow(() -> RegistryException.of(
                        ErrorCode.BLOB_UPLOAD_UNKNOWN,
                        "upload " + id + " is unknown to repository " + repository,
                        "upload",
                        id.value()));
    }

    /**
     * Appends a chunk.
     *
     * @param rangeStart     where the client says the chunk starts ({@code Content-Range}), if it said
     * @param declaredLength how many bytes the client says it sends, if it said
     */
    public UploadSession append(
            RepositoryName repository,
            UploadId id,
            OptionalLong rangeStart,
            OptionalLong declaredLength,
            InputStream body) {
        return append(Caller.internal("upload"), repository, id, rangeStart, declaredLength, body);
    }

    /** As above, counting against the caller's limit of concurrent upload bodies. */
    public UploadSession append(
            Caller caller,
            RepositoryName repository,
            UploadId id,
            OptionalLong rangeStart,
            OptionalLong declaredLength,
            InputStream body) {
        UploadLimits.Permit permit = limits.enter(caller);
        try (permit) {
            return exclusive(
                    id,
                    () -> appendLocked(
                            caller.client(), status(repository, id), rangeStart, declaredLength, body, true));
        }
    }

    /**
     * @param acknowledged whether the chunk is acknowledged on its own ({@code PATCH}: durable before the
     *                     answer), or is the final chunk of a completion, made durable by the commit
     */
    private UploadSession appendLocked(
            String client,
            UploadSession session,
            OptionalLong rangeStart,
            OptionalLong declaredLength,
            InputStream body,
            boolean acknowledged) {
        UploadId id = session.id();
        long start = session.size();
        if (rangeStart.isPresent() && rangeStart.getAsLong() != start) {
            throw new UploadRangeException(
                    session.repository(),
                    id,
                    start,
                    "chunk starts at " + rangeStart.getAsLong() + " but the upload holds " + start + " bytes");
        }
        HashState state = hashes.get(id);
        MessageDigest md = null;
        DigestAlgorithm algorithm = DigestAlgorithm.SHA256;
        if (state != null && state.size() == start) {
            md = state.digest();
            algorithm = state.algorithm();
        } else if (start == 0) {
            md = algorithm.newMessageDigest();
        }
        hashes.remove(id);
        long newSize;
        if (md == null) {
            newSize = write(client, id, start, body, acknowledged);
        } else {
            DigestingInputStream in;
            if (hashInline(declaredLength, limits.inProgress(), CORES)) {
                in = DigestingInputStream.inline(body, md);
            } else if (DirectSource.of(body) != null && store.fillsFromDirectSources()) {
                in = DigestingInputStream.overDirect(body, md);
            } else {
                in = new DigestingInputStream(body, md, hashBuffers);
            }
            try {
                newSize = write(client, id, start, in, acknowledged);
            } finally {
                finish(in);
            }
        }
        long written = newSize - start;
        if (declaredLength.isPresent() && declaredLength.getAsLong() != written) {
            dropUnacknowledged(id, start);
            throw RegistryException.of(
                    ErrorCode.SIZE_INVALID,
                    "chunk declared " + declaredLength.getAsLong() + " bytes but carried " + written,
                    "size",
                    written);
        }
        boolean advanced = metadata.inTransaction(
                acknowledged ? DURABLE : DEFERRED, tx -> tx.uploads().advance(id, start, newSize));
        if (!advanced) {
            UploadSession now = metadata.uploads()
                    .get(id)
                    .orElseThrow(() -> RegistryException.of(
                            ErrorCode.BLOB_UPLOAD_UNKNOWN, "upload was cancelled", "upload", id.value()));
            throw new UploadRangeException(session.repository(), id, now.size(), "upload changed concurrently");
        }
        if (md != null) {
            hashes.put(id, new HashState(newSize, algorithm, md));
            if (!metadata.uploads().exists(id)) {
                // cancelled between advancing and here: discard() may have run before the put
                hashes.remove(id);
            }
        }
        return session.advancedTo(newSize, clock.millis());
    }

    /**
     * Streams a chunk into the staged upload. On any failure the bytes written beyond {@code start} are
     * truncated away at once, so the upload holds only acknowledged bytes and a full disk frees itself.
     */
    private long write(String client, UploadId id, long start, InputStream body, boolean acknowledged) {
        try {
            // the client's identity lets a store with shared buffers (S3's part buffers) keep one client from taking
            // them all
            long end = acknowledged
                    ? store.append(id, start, body, client)
                    : store.appendBeforeCommit(id, start, body, client);
            health.succeeded();
            return end;
        } catch (StagedUploadLostException e) {
            UploadSession session = metadata.uploads().get(id).orElse(null);
            discard(id);
            throw session == null
                    ? RegistryException.of(
                            ErrorCode.BLOB_UPLOAD_UNKNOWN, "upload " + id + " is gone", "upload", id.value())
                    : lost(session, e);
        } catch (RequestBodyException e) {
            dropUnacknowledged(id, start);
            throw new ClientAbortedException(
                    "client stopped sending the chunk after " + start + " acknowledged bytes" + " (" + e.getMessage()
                            + ")",
                    e);
        } catch (IOException e) {
            dropUnacknowledged(id, start);
            RegistryException failure = StorageFailures.of("chunk could not be stored", e);
            health.failed(failure);
            throw failure;
        } catch (RuntimeException | Error e) {
            dropUnacknowledged(id, start);
            throw e;
        }
    }

    private void dropUnacknowledged(UploadId id, long size) {
        try {
            store.truncateUpload(id, size);
        } catch (IOException e) {
            // the next append or completion truncates again; the session never counted these bytes
            LOG.log(
                    System.Logger.Level.WARNING,
                    "could not drop unacknowledged bytes of upload " + id + ": " + e.getMessage());
        }
    }

    private static void finish(DigestingInputStream in) {
        try {
            in.finish();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Completes an upload with an optional final chunk and verifies its digest. */
    public BlobInfo complete(
            RepositoryName repository,
            UploadId id,
            Digest digest,
            OptionalLong rangeStart,
            OptionalLong declaredLength,
            InputStream finalChunk) {
        return complete(Caller.internal("upload"), repository, id, digest, rangeStart, declaredLength, finalChunk);
    }

    /** As above; a final chunk counts against the caller's limit of concurrent upload bodies. */
    public BlobInfo complete(
            Caller caller,
            RepositoryName repository,
            UploadId id,
            Digest digest,
            OptionalLong rangeStart,
            OptionalLong declaredLength,
            InputStream finalChunk) {
        if (finalChunk == null) {
            return completeLocked(caller, repository, id, digest, rangeStart, declaredLength, null);
        }
        UploadLimits.Permit permit = limits.enter(caller);
        try (permit) {
            return completeLocked(caller, repository, id, digest, rangeStart, declaredLength, finalChunk);
        }
    }

    private BlobInfo completeLocked(
            Caller caller,
            RepositoryName repository,
            UploadId id,
            Digest digest,
            OptionalLong rangeStart,
            OptionalLong declaredLength,
            InputStream finalChunk) {
        return exclusive(id, () -> {
            UploadSession session = status(repository, id);
            if (finalChunk != null) {
                session = appendLocked(caller.client(), session, rangeStart, declaredLength, finalChunk, false);
            }
            return commit(session, digest);
        });
    }

    /**
     * How long garbage collection may hold a claim on a digest before an upload takes it to be a
     * claim of a run that died (deleting one file takes milliseconds).
     */
    static final long STALE_CLAIM_MILLIS = TimeUnit.MINUTES.toMillis(10);

    /**
     * Verifies the staged bytes against {@code expected}, then reserves the digest, places the blob
     * and records it. The reservation is made only once the bytes verified: it is also what tells a
     * retry, after a crash that moved the staged file but did not record it, that this session's
     * bytes were this blob ({@link #recover}).
     */
    private BlobInfo commit(UploadSession session, Digest expected) {
        UploadId id = session.id();
        long size = session.size();
        Digest actual;
        try {
            long staged = store.uploadSize(id);
            if (staged < 0 && size == 0) {
                store.createUpload(id); // the row was written but the process stopped before the file
                staged = 0;
            }
            if (staged < size) {
                return recover(session, expected, staged);
            }
            if (staged > size) {
                // a chunk written but never acknowledged (the process died in between): drop its bytes
                store.truncateUpload(id, size);
            }
            actual = digestOf(session, expected.algorithm());
        } catch (IOException e) {
            RegistryException failure = StorageFailures.of("upload could not be read back", e);
            health.failed(failure);
            throw failure;
        }
        if (!actual.equals(expected)) {
            discard(id);
            throw new RegistryException(
                    ErrorCode.DIGEST_INVALID,
                    "digest " + expected + " does not match the uploaded content",
                    Map.of("digest", expected.toString()));
        }
        reserve(expected, id);
        boolean placed = false;
        try {
            try {
                store.commitUpload(id, actual);
                placed = true;
                health.repaired(actual);
            } catch (IOException e) {
                RegistryException failure = StorageFailures.of("blob could not be stored", e);
                health.failed(failure);
                throw failure;
            }
            return recordBlob(session, actual);
        } finally {
            if (!placed) {
                // placed but not recorded, the reservation stays: the retry's proof (cleared as stale later)
                release(expected, id);
            }
        }
    }

    /**
     * Completes a session whose staged bytes are gone (fewer than acknowledged). A crash after the
     * blob was moved into place but before its metadata was committed leaves exactly this, and the
     * client's retry must then succeed — but only for the digest this session's bytes verified as:
     * its running digest, or the reservation {@link #commit} makes after verifying. A blob of the
     * same size that merely exists (another repository's, pushed by someone else) is never linked
     * on the client's word: that would hand it a blob it never uploaded.
     */
    private BlobInfo recover(UploadSession session, Digest expected, long staged) throws IOException {
        UploadId id = session.id();
        Optional<Digest> running = runningDigest(session, expected.algorithm());
        if (running.isPresent() && !running.get().equals(expected)) {
            discard(id);
            throw new RegistryException(
                    ErrorCode.DIGEST_INVALID,
                    "digest " + expected + " does not match the uploaded content",
                    Map.of("digest", expected.toString()));
        }
        boolean verified = running.isPresent()
                || metadata.<Boolean>inTransaction(DEFERRED, tx -> tx.gc().reservedBy(expected, id.value()));
        if (!verified) {
            discard(id);
            throw lost(session, new StagedUploadLostException(id, staged, session.size()));
        }
        reserve(expected, id); // the stored blob stays while it is checked and linked
        boolean recorded = false;
        try {
            if (!storedBlobMatches(expected, session.size())) {
                discard(id);
                throw lost(session, new StagedUploadLostException(id, staged, session.size()));
            }
            BlobInfo blob = recordBlob(session, expected);
            recorded = true;
            return blob;
        } finally {
            if (!recorded) {
                release(expected, id);
            }
        }
    }

    /**
     * Reserves the digest against garbage collection before the blob's file is placed (see
     * {@link io.berth.core.metadata.GcRecords.Writes#reserve}); waits while a collection is deleting it.
     */
    private void reserve(Digest digest, UploadId holder) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        // deferred: a reservation matters only to a collection running while this process does
        while (!metadata.<Boolean>inTransaction(
                DEFERRED, tx -> tx.gc().reserve(digest, holder.value(), clock.millis() - STALE_CLAIM_MILLIS))) {
            if (System.nanoTime() > deadline) {
                throw RegistryException.of(
                        ErrorCode.STORAGE_UNAVAILABLE,
                        "garbage collection is deleting blob " + digest + "; retry",
                        "digest",
                        digest.toString());
            }
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw RegistryException.of(ErrorCode.STORAGE_UNAVAILABLE, "interrupted", "digest", digest.toString());
            }
        }
    }

    private void release(Digest digest, UploadId holder) {
        try {
            metadata.inTransaction(DEFERRED, tx -> {
                tx.gc().release(digest, holder.value());
                return null;
            });
        } catch (RuntimeException e) {
            // left behind, it only delays collecting this digest until reservations are cleared as stale
            LOG.log(System.Logger.Level.WARNING, "could not release the reservation of " + digest + ": " + e);
        }
    }

    private BlobInfo recordBlob(UploadSession session, Digest digest) {
        long size = session.size();
        metadata.inTransaction(DURABLE, tx -> {
            tx.blobs().put(digest, size);
            tx.repositories().ensure(session.repository());
            tx.blobs().link(session.repository(), digest);
            tx.uploads().delete(session.id());
            tx.gc().release(digest, session.id().value());
            return null;
        });
        hashes.remove(session.id());
        try {
            store.deleteUpload(session.id());
        } catch (IOException e) {
            // an orphan staging file: the janitor removes it
        }
        return new BlobInfo(digest, size);
    }

    /** Whether the store already holds {@code digest} with {@code size} bytes that hash to it. */
    private boolean storedBlobMatches(Digest digest, long size) throws IOException {
        if (store.size(digest).orElse(-1) != size) {
            return false;
        }
        MessageDigest md = digest.algorithm().newMessageDigest();
        try (InputStream in = store.open(digest, 0, size)) {
            byte[] buf = new byte[1 << 16];
            int n;
            while ((n = in.read(buf)) > 0) {
                md.update(buf, 0, n);
            }
        } catch (IOException e) {
            return false;
        }
        return Digest.of(digest.algorithm(), md.digest()).equals(digest);
    }

    private static RegistryException lost(UploadSession session, StagedUploadLostException e) {
        return new RegistryException(
                ErrorCode.BLOB_UPLOAD_UNKNOWN,
                e.getMessage() + "; the upload cannot continue, start a new one",
                Map.of("upload", session.id().value()),
                e);
    }

    /** The digest of the session's bytes from its running state, when that covers all of them. */
    private Optional<Digest> runningDigest(UploadSession session, DigestAlgorithm algorithm) {
        HashState state = hashes.get(session.id());
        if (state != null && state.size() == session.size() && state.algorithm() == algorithm) {
            try {
                // finish a copy: if completing fails after this, a retry still has the running state
                return Optional.of(
                        Digest.of(algorithm, ((MessageDigest) state.digest().clone()).digest()));
            } catch (CloneNotSupportedException e) {
                return Optional.empty();
            }
        }
        return Optional.empty();
    }

    private Digest digestOf(UploadSession session, DigestAlgorithm algorithm) throws IOException {
        Optional<Digest> running = runningDigest(session, algorithm);
        if (running.isPresent()) {
            return running.get();
        }
        MessageDigest md = algorithm.newMessageDigest();
        try (InputStream in = store.openUpload(session.id())) {
            byte[] buf = new byte[1 << 20];
            long remaining = session.size();
            int n;
            while (remaining > 0 && (n = in.read(buf, 0, (int) Math.min(buf.length, remaining))) > 0) {
                md.update(buf, 0, n);
                remaining -= n;
            }
            if (remaining != 0) {
                throw new IOException("staged upload is shorter than recorded");
            }
        }
        return Digest.of(algorithm, md.digest());
    }

    /** Pushes a whole blob in one request ({@code POST …/uploads/?digest=}). */
    public BlobInfo putMonolithic(
            RepositoryName repository, Digest digest, OptionalLong declaredLength, InputStream body) {
        return putMonolithic(Caller.internal("upload"), repository, digest, declaredLength, body);
    }

    /** As above, counting against the caller's limits. */
    public BlobInfo putMonolithic(
            Caller caller, RepositoryName repository, Digest digest, OptionalLong declaredLength, InputStream body) {
        UploadLimits.Permit permit = limits.enter(caller);
        try (permit) {
            UploadSession session = start(repository, caller);
            UploadId id = session.id();
            // hash with the client's algorithm from the first byte: no second pass even for sha512
            hashes.put(
                    id, new HashState(0, digest.algorithm(), digest.algorithm().newMessageDigest()));
            try {
                return completeLocked(caller, repository, id, digest, OptionalLong.empty(), declaredLength, body);
            } catch (RuntimeException | Error e) {
                discard(id);
                throw e;
            }
        }
    }

    /** Cancels an upload. */
    public void cancel(RepositoryName repository, UploadId id) {
        status(repository, id);
        discard(id);
    }

    private void discard(UploadId id) {
        hashes.remove(id);
        metadata.inTransaction(DEFERRED, tx -> tx.uploads().delete(id)); // if lost, the session expires
        hashes.remove(id); // a concurrent append that stored its state after the first remove
        try {
            store.deleteUpload(id);
        } catch (IOException e) {
            // left for the janitor: a staging file without a session is removed later
        }
    }

    /**
     * Makes a blob the registry already holds available in {@code repository}: from {@code from} when
     * given (and it holds the blob), else from any repository.
     */
    public Optional<BlobInfo> mount(RepositoryName repository, Digest digest, Optional<RepositoryName> from) {
        return mount(Caller.internal("upload"), repository, digest, from);
    }

    /** As above, on behalf of {@code caller} (in its event). */
    public Optional<BlobInfo> mount(
            Caller caller, RepositoryName repository, Digest digest, Optional<RepositoryName> from) {
        proxies.requireLocal(repository, "pushes and mounts");
        return metadata.inTransaction(tx -> {
            boolean available = from.isPresent()
                    ? tx.blobs().linked(from.get(), digest)
                    : tx.blobs().linkedAnywhere(digest);
            OptionalLong size = tx.blobs().size(digest);
            if (!available || size.isEmpty()) {
                return Optional.empty();
            }
            tx.repositories().ensure(repository);
            if (!tx.blobs().linked(repository, digest)) {
                tx.blobs().link(repository, digest);
                events.blobMounted(tx, caller, repository, digest, size.getAsLong());
            }
            return Optional.of(new BlobInfo(digest, size.getAsLong()));
        });
    }

    /** Where a fill's bytes failed: the upstream's body (not storage). */
    static final class UpstreamBodyException extends IOException {
        private static final long serialVersionUID = 1L;

        UpstreamBodyException(IOException cause) {
            super(cause.getMessage(), cause);
        }
    }

    /**
     * Stores a blob a pull-through cache fetches from its upstream: staged under a fresh id that has no
     * session row (held in {@code busy} so the janitor leaves it alone while this runs; after a crash it
     * is an orphan the janitor deletes), hashed as it arrives, and placed and linked only when its
     * digest (and the upstream's announced length) match. Bytes that do not match are deleted: nothing
     * of them is ever served or recorded. The cache's own write: skips {@link ProxyGuard#requireLocal}.
     *
     * @throws UpstreamBodyException when reading the upstream's body failed
     * @throws RegistryException {@code UPSTREAM_FAILED} when the bytes do not match; storage failures as for pushes
     */
    BlobInfo fill(Caller proxy, RepositoryName repository, ProxyRoute route, Digest expected, UpstreamBlob body)
            throws UpstreamBodyException {
        return fill(proxy, repository, route, expected, body, null);
    }

    /**
     * As {@link #fill(Caller, RepositoryName, ProxyRoute, Digest, UpstreamBlob)}, handing each chunk to
     * {@code readers} as it arrives (hashed, before it is stored); null: nobody reads while it fills.
     */
    BlobInfo fill(
            Caller proxy,
            RepositoryName repository,
            ProxyRoute route,
            Digest expected,
            UpstreamBlob body,
            BlobFill readers)
            throws UpstreamBodyException {
        UploadId id = UploadId.random();
        busy.put(id, Boolean.TRUE);
        boolean placed = false;
        try {
            MessageDigest md = expected.algorithm().newMessageDigest();
            // a hostile upstream cannot fill the disk beyond the length it announced (plus one byte to see it lied)
            long bound = body.length().isPresent() ? body.length().getAsLong() + 1 : Long.MAX_VALUE;
            FillStream in = new FillStream(body.body(), md, bound, readers);
            long size;
            try {
                store.createUpload(id);
                if (readers != null && store.readsUploadsWhileWritten()) {
                    readers.staging(new BlobFill.Staged() {
                        @Override
                        public long written() throws IOException {
                            return store.uploadSize(id);
                        }

                        @Override
                        public InputStream open(long offset, long length) throws IOException {
                            return store.openUpload(id, offset, length);
                        }
                    });
                }
                // durable at the commit below, which flushes it: one flush, not two; the pulling
                // client's share of shared buffers
                size = store.appendBeforeCommit(id, 0, in, proxy.client());
                health.succeeded();
            } catch (IOException e) {
                if (in.failure != null) {
                    throw in.failure;
                }
                RegistryException failure = StorageFailures.of("blob from upstream could not be stored", e);
                health.failed(failure);
                throw failure;
            }
            if (in.failure != null) {
                throw in.failure; // a store that swallowed the body's failure as an early end
            }
            Digest actual = Digest.of(expected.algorithm(), md.digest());
            boolean lengthWrong = body.length().isPresent() && body.length().getAsLong() != size;
            if (lengthWrong || !actual.equals(expected)) {
                String what = lengthWrong
                        ? size + " bytes where it announced " + body.length().getAsLong()
                        : size + " bytes that hash to " + actual;
                throw new RegistryException(
                        ErrorCode.UPSTREAM_FAILED,
                        "upstream " + route.upstream().name() + " sent " + what + " for blob " + expected
                                + ": discarded, nothing kept",
                        Map.of(
                                "digest",
                                expected.toString(),
                                "upstream",
                                route.upstream().name()));
            }
            reserve(expected, id);
            try {
                store.commitUpload(id, expected);
                placed = true;
                health.repaired(expected);
            } catch (IOException e) {
                RegistryException failure = StorageFailures.of("blob from upstream could not be stored", e);
                health.failed(failure);
                throw failure;
            } finally {
                if (!placed) {
                    release(expected, id);
                }
            }
            long stored = size;
            metadata.inTransaction(DURABLE, tx -> {
                tx.blobs().put(expected, stored);
                tx.repositories().ensure(repository);
                tx.proxy().ensureRepository(repository, route.upstream().name(), route.remote());
                tx.blobs().link(repository, expected);
                tx.gc().release(expected, id.value());
                return null;
            });
            proxies.cacheRecorded();
            return new BlobInfo(expected, size);
        } finally {
            busy.remove(id);
            if (!placed) {
                try {
                    store.deleteUpload(id);
                } catch (IOException e) {
                    // an orphan staging file without a row: the janitor removes it
                }
            }
        }
    }

    /** Reads a stored blob (a fill's readers that fell behind its window). */
    InputStream openStored(Digest digest, long offset, long length) throws IOException {
        return store.open(digest, offset, length);
    }

    /**
     * Links a blob the registry already stores into a cached repository, when one of its cached
     * manifests names it (so no upstream request is needed); the cache's own write. Empty when it is
     * not stored or not named there: a blob of another repository is never handed out on a digest alone.
     */
    Optional<BlobInfo> linkCached(RepositoryName repository, Digest digest) {
        return metadata.inTransaction(tx -> {
            OptionalLong size = tx.blobs().size(digest);
            if (size.isEmpty()
                    || !tx.blobs().linkedAnywhere(digest)
                    || tx.manifests().referencingBlob(repository, digest).isEmpty()) {
                return Optional.empty();
            }
            tx.blobs().link(repository, digest);
            return Optional.of(new BlobInfo(digest, size.getAsLong()));
        });
    }

    /** An upstream's body, hashed as it is read, bounded, remembering whether the upstream failed. */
    private static final class FillStream extends FilterInputStream {
        private final MessageDigest md;
        private final BlobFill readers;
        private long remaining;
        UpstreamBodyException failure;

        FillStream(InputStream in, MessageDigest md, long bound, BlobFill readers) {
            super(in);
            this.md = md;
            this.remaining = bound;
            this.readers = readers;
        }

        @Override
        public int read() throws IOException {
            byte[] one = new byte[1];
            int n = read(one, 0, 1);
            return n < 0 ? -1 : one[0] & 0xff;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            if (remaining <= 0) {
                return -1;
            }
            int n;
            try {
                n = in.read(b, off, (int) Math.min(len, remaining));
            } catch (IOException e) {
                failure = new UpstreamBodyException(e);
                throw failure;
            }
            if (n > 0) {
                md.update(b, off, n);
                remaining -= n;
                if (readers != null) {
                    readers.arrived(b, off, n);
                }
            }
            return n;
        }

        @Override
        public long skip(long n) {
            return 0;
        }
    }

    /** Removes sessions idle longer than {@code expiryMillis} and staging files no session owns. */
    public int purgeExpired(long expiryMillis) throws IOException {
        long cutoff = clock.millis() - expiryMillis;
        int removed = 0;
        long bytes = 0;
        for (UploadSession s : metadata.uploads().idleSince(cutoff)) {
            if (busy.containsKey(s.id())) {
                continue;
            }
            long staged = Math.max(0, store.uploadSize(s.id()));
            discard(s.id());
            removed++;
            bytes += staged;
        }
        int orphans = 0;
        for (UploadId id : store.listUploads()) {
            if (!metadata.uploads().exists(id) && !busy.containsKey(id)) {
                bytes += Math.max(0, store.uploadSize(id));
                store.deleteUpload(id);
                orphans++;
            }
        }
        if (removed + orphans > 0) {
            LOG.log(
                    System.Logger.Level.INFO,
                    "purged " + removed + " expired upload session(s) and " + orphans + " orphaned staging file(s), "
                            + bytes + " bytes freed");
        }
        // running digests of sessions that no longer exist (a backstop for any race that kept one)
        hashes.keySet()
                .removeIf(id -> !busy.containsKey(id) && !metadata.uploads().exists(id));
        return removed;
    }

    /** How many running digests are held in memory (for tests and metrics). */
    int hashStates() {
        return hashes.size();
    }

    private <T> T exclusive(UploadId id, Supplier<T> work) {
        if (busy.putIfAbsent(id, Boolean.TRUE) != null) {
            UploadSession s = metadata.uploads()
                    .get(id)
                    .orElseThrow(() -> RegistryException.of(
                            ErrorCode.BLOB_UPLOAD_UNKNOWN, "unknown upload", "upload", id.value()));
            throw new UploadRangeException(s.repository(), id, s.size(), "another request is writing to this upload");
        }
        try {
            return work.get();
        } finally {
            busy.remove(id);
        }
    }
}
