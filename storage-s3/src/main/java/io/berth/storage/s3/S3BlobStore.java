package io.berth.storage.s3;

import io.berth.core.blob.BlobStore;
import io.berth.core.blob.StagedUploadLostException;
import io.berth.core.config.BerthConfig;
import io.berth.core.io.ExactLengthInputStream;
import io.berth.core.model.Digest;
import io.berth.core.model.UploadId;
import io.github.resilience4j.circuitbreaker.CallNotPermittedException;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.github.resilience4j.circuitbreaker.CircuitBreakerConfig;
import io.github.resilience4j.retry.Retry;
import io.github.resilience4j.retry.RetryConfig;
import io.minio.AbortMultipartUploadArgs;
import io.minio.BucketExistsArgs;
import io.minio.Checksum;
import io.minio.CompleteMultipartUploadArgs;
import io.minio.ComposeObjectArgs;
import io.minio.CopyObjectArgs;
import io.minio.CreateMultipartUploadArgs;
import io.minio.GetObjectArgs;
import io.minio.GetPresignedObjectUrlArgs;
import io.minio.Http;
import io.minio.ListObjectsArgs;
import io.minio.MakeBucketArgs;
import io.minio.MinioAsyncClient;
import io.minio.MinioClient;
import io.minio.PutObjectArgs;
import io.minio.RemoveObjectArgs;
import io.minio.RemoveObjectsArgs;
import io.minio.Result;
import io.minio.SourceObject;
import io.minio.StatObjectArgs;
import io.minio.StatObjectResponse;
import io.minio.UploadPartArgs;
import io.minio.UploadPartCopyArgs;
import io.minio.errors.ErrorResponseException;
import io.minio.messages.DeleteRequest;
import io.minio.messages.DeleteResult;
import io.minio.messages.Item;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.io.SequenceInputStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.NoSuchFileException;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Enumeration;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.StringJoiner;
import java.util.TreeSet;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Blobs in an S3 bucket (MinIO, AWS S3, Ceph RGW, Garage, S3Proxy) through the MinIO Java client.
 *
 * <p>Keys: {@code <prefix>blobs/<algorithm>/<2 hex>/<hex>} for blobs; an upload is staged as part
 * objects {@code <prefix>uploads/<id>/<offset as 16 hex digits>} of at most {@link #PART} bytes
 * (read into buffers of a pool shared by all uploads: at most {@link #BUFFERS} exist at once, shared
 * out by client so that one cannot starve the others, see {@link PartBuffers} and {@link #PART_HOLD};
 * up to {@code storage.s3.upload-parallelism} parts of one upload travel to S3 at once), plus a marker
 * {@code <prefix>uploads/<id>/created}. Because the parts are plain objects, every instance can read
 * what another staged: the registry re-hashes an upload from its parts when the running hash state is
 * on another instance (or was lost in a restart). Completing joins the parts into the blob's key on
 * the server — CopyObject for one part, a multipart upload of UploadPartCopy's when every part but the
 * last has the S3 minimum of 5 MiB — else copies them through in one multipart upload with parallel
 * parts; then the upload's keys are deleted in one call. A blob key is written whole or not at all.
 *
 * <p>Every call goes through a circuit breaker; idempotent calls (all but none: stat, get, list,
 * put of a part or blob under a fixed key, delete, compose) are retried with backoff. Failures are
 * {@link IOException}s, which the registry answers with 503 and its readiness reports.
 */
public final class S3BlobStore implements BlobStore {
    static final int PART = 8 << 20;
    static final long MIN_COMPOSE_PART = 5L << 20;
    /**
     * Part buffers in use at once, all uploads together: 16, or fewer on a small heap (at most a
     * quarter of it; at least 2), so that concurrent S3 uploads wait for a buffer rather than fill it.
     */
    static final int BUFFERS =
            (int) Math.max(2, Math.min(16, Runtime.getRuntime().maxMemory() / 4 / PART));

    /**
     * How long a part may keep its buffer while filling from a client once another client waits for
     * a buffer: then what arrived is stored as a shorter part and the buffer goes back to the pool
     * (the next part waits its turn for one). Parts are objects at their offset, of any size; an
     * upload with parts under S3's 5 MiB minimum is completed by copying it through (as for small
     * chunks) rather than composed on the server. 10 s: a body at 1 MiB/s or more fills its 8 MiB
     * part sooner, so only slow ones are cut, and only while a buffer is wanted.
     */
    public static final Duration PART_HOLD = Duration.ofSeconds(10);

    /** The default of {@code storage.s3.upload-parallelism}. */
    public static final int UPLOAD_PARALLELISM = 4;

    /**
     * The part buffers of every S3 store in the process: at most {@link #BUFFERS} exist at once, each
     * held by one part between being read from a client and being stored; freed ones are reused
     * rather than left to the collector (8 MiB arrays go straight to the old generation).
     *
     * <p>A client (its {@code Caller.client()}) always has a share of a quarter of the pool (at least
     * one); beyond it, it borrows buffers only while more than a share of them are free, as
     * {@code uploads.max-concurrent-per-client} does for upload slots. So however many bodies one client
     * sends or stalls, the last quarter of the pool stays for the others. Parts without a client (the
     * registry copying its own staged parts) take any free buffer. Waiters are served in turn (a fair
     * lock), those a share rule holds back excepted.
     */
    static final class PartBuffers {
        private final int count;
        private final int share;
        private final int borrowBelow;
        private final ReentrantLock lock = new ReentrantLock(true);
        private final Condition freed = lock.newCondition();
        // all guarded by lock
        private final ArrayDeque<byte[]> free = new ArrayDeque<>();
        private final Map<String, Integer> held = new HashMap<>();
        private final Map<String, Integer> waiting = new HashMap<>();
        private int inUse;
        private int waiters;
        private int peak;

        PartBuffers(int count) {
            this.count = count;
            this.share = Math.max(1, count / 4);
            this.borrowBelow = count - share;
        }

        /** Buffers one client always may hold; beyond it, only while more than this many are free. */
        int share() {
            return share;
        }

        /** A buffer for a part {@code client} sends (null: none, no share), once the rules allow. */
        byte[] take(String client) throws InterruptedIOException {
            byte[] buf;
            lock.lock();
            try {
                if (!mayTake(client)) {
                    waiters++;
                    waiting.merge(client, 1, Integer::sum);
                    try {
                        do {
                            freed.await();
                        } while (!mayTake(client));
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        throw new InterruptedIOException("interrupted waiting for a part buffer");
                    } finally {
                        waiters--;
                        waiting.computeIfPresent(client, (k, n) -> n <= 1 ? null : n - 1);
                    }
                }
                inUse++;
                peak = Math.max(peak, inUse);
                if (client != null) {
                    held.merge(client, 1, Integer::sum);
                }
                buf = free.poll();
            } finally {
                lock.unlock();
            }
            return buf != null ? buf : new byte[PART];
        }

        private boolean mayTake(String client) {
            return inUse < count && (client == null || inUse < borrowBelow || held.getOrDefault(client, 0) < share);
        }

        void give(byte[] buf, String client) {
            lock.lock();
            try {
                free.push(buf);
                inUse--;
                if (client != null) {
                    held.computeIfPresent(client, (k, n) -> n <= 1 ? null : n - 1);
                }
                freed.signalAll();
            } finally {
                lock.unlock();
            }
        }

        /** Whether a part of another client than {@code client} waits for a buffer. */
        boolean othersWaiting(String client) {
            lock.lock();
            try {
                return waiters > waiting.getOrDefault(client, 0);
            } finally {
                lock.unlock();
            }
        }

        int inUse() {
            lock.lock();
            try {
                return inUse;
            } finally {
                lock.unlock();
            }
        }

        /** The buffers {@code client} holds (for tests). */
        int heldBy(String client) {
            lock.lock();
            try {
                return held.getOrDefault(client, 0);
            } finally {
                lock.unlock();
            }
        }

        /** The most buffers in use at once since the last call (for tests). */
        int takePeak() {
            lock.lock();
            try {
                int p = peak;
                peak = inUse;
                return p;
            } finally {
                lock.unlock();
            }
        }
    }

    static final PartBuffers BUFFER_POOL = new PartBuffers(BUFFERS);

    /** Runs part uploads and copies: each blocks on its S3 call, so a virtual thread each. */
    private static final ExecutorService UPLOADS = Executors.newVirtualThreadPerTaskExecutor();

    /** The default of {@code storage.s3.call-timeout}. */
    public static final Duration CALL_TIMEOUT = Duration.ofSeconds(60);
    /** Keys a listing asks S3 for at once, and the most it holds. */
    static final int LIST_PAGE = 1000;

    /**
     * Connection settings of the bucket. {@code redirect}: lifetime of presigned URLs (zero: none
     * handed out). {@code callTimeout}: deadline of one whole S3 call (a listing page, a stat, a part's
     * put) — the body of a blob being read excepted, which is bounded by the read timeout.
     * {@code uploadParallelism}: parts of one upload travelling to S3 at once (each in a buffer of
     * the shared pool). {@code partHold}: how long a part may hold a pool buffer while its body
     * trickles in and another client waits for one ({@link #PART_HOLD}).
     */
    public record Settings(
            String endpoint,
            String region,
            String bucket,
            String accessKey,
            String secretKey,
            String prefix,
            boolean createBucket,
            Duration redirect,
            boolean pathStyle,
            Duration callTimeout,
            int uploadParallelism,
            Duration partHold) {
        public Settings {
            if (uploadParallelism < 1) {
                throw new IllegalArgumentException("uploadParallelism must be at least 1: " + uploadParallelism);
            }
            if (partHold.isNegative() || partHold.isZero()) {
                throw new IllegalArgumentException("partHold must be positive: " + partHold);
            }
        }

        /** The default part hold ({@link #PART_HOLD}). */
        public Settings(
                String endpoint,
                String region,
                String bucket,
                String accessKey,
                String secretKey,
                String prefix,
                boolean createBucket,
                Duration redirect,
                boolean pathStyle,
                Duration callTimeout,
                int uploadParallelism) {
            this(
                    endpoint,
                    region,
                    bucket,
                    accessKey,
                    secretKey,
                    prefix,
                    createBucket,
                    redirect,
                    pathStyle,
                    callTimeout,
                    uploadParallelism,
                    PART_HOLD);
        }

        /** The default upload parallelism. */
        public Settings(
                String endpoint,
                String region,
                String bucket,
                String accessKey,
                String secretKey,
                String prefix,
                boolean createBucket,
                Duration redirect,
                boolean pathStyle,
                Duration callTimeout) {
            this(
                    endpoint,
                    region,
                    bucket,
                    accessKey,
                    secretKey,
                    prefix,
                    createBucket,
                    redirect,
                    pathStyle,
                    callTimeout,
                    UPLOAD_PARALLELISM);
        }

        /** Path-style addressing (MinIO, Ceph, S3Proxy, Garage). */
        public Settings(
                String endpoint,
                String region,
                String bucket,
                String accessKey,
                String secretKey,
                String prefix,
                boolean createBucket,
                Duration redirect) {
            this(endpoint, region, bucket, accessKey, secretKey, prefix, createBucket, redirect, true);
        }

        /** The default call timeout. */
        public Settings(
                String endpoint,
                String region,
                String bucket,
                String accessKey,
                String secretKey,
                String prefix,
                boolean createBucket,
                Duration redirect,
                boolean pathStyle) {
            this(
                    endpoint,
                    region,
                    bucket,
                    accessKey,
                    secretKey,
                    prefix,
                    createBucket,
                    redirect,
                    pathStyle,
                    CALL_TIMEOUT);
        }

        @Override
        public String toString() {
            return "Settings[endpoint=" + endpoint + ", bucket=" + bucket + ", prefix=" + prefix + "]";
        }
    }

    /** An error the S3 endpoint answered, with its S3 error code. */
    static final class S3Failure extends IOException {
        final String code;

        S3Failure(String code, ErrorResponseException cause) {
            super("S3 " + code + ": " + cause.errorResponse().message(), cause);
            this.code = code;
        }
    }

    /** What endpoints without (conditional) UploadPartCopy answer to a compose, e.g. S3Proxy. */
    private static final Set<String> CANNOT_COMPOSE = Set.of("PreconditionFailed", "NotImplemented");

    @FunctionalInterface
    private interface Call<T> {
        T run() throws Exception;
    }

    /** For every call whose answer is read whole: each call has {@code call-timeout} for all of it. */
    private final MinioClient client;
    /** The same, for the multipart calls only the asynchronous client offers (awaited at once). */
    private final MinioAsyncClient async;
    /**
     * For object bodies streamed to a reader (a pull of a blob of gigabytes may take long): a
     * deadline per read, none for the whole body.
     */
    private final MinioClient streams;

    private final Settings settings;
    private final String prefix;
    private final CircuitBreaker breaker;
    private final Retry retry;
    /** Whether the endpoint composes objects server-side; false once it said it cannot. */
    private volatile boolean composes = true;

    public S3BlobStore(Settings settings) throws IOException {
        this.settings = settings;
        this.prefix = settings.prefix().isEmpty() || settings.prefix().endsWith("/")
                ? settings.prefix()
                : settings.prefix() + "/";
        // bounded waits: a store that stops answering fails requests (503) instead of hanging them. A read
        // timeout alone does not bound a call: an endpoint trickling a byte a minute never trips it, so
        // every call whose answer is read whole has a deadline for all of it (OkHttp's call timeout)
        // the client runs every call through OkHttp's dispatcher, which by default lets 5 run at once per
        // host: parallel part uploads and concurrent pulls would queue behind each other
        okhttp3.Dispatcher dispatcher = new okhttp3.Dispatcher();
        dispatcher.setMaxRequests(256);
        dispatcher.setMaxRequestsPerHost(256);
        okhttp3.OkHttpClient streaming = new okhttp3.OkHttpClient.Builder()
                .dispatcher(dispatcher)
                .connectionPool(new okhttp3.ConnectionPool(64, 5, TimeUnit.MINUTES))
                .connectTimeout(Duration.ofSeconds(10))
                .readTimeout(Duration.ofSeconds(60))
                .writeTimeout(Duration.ofSeconds(60))
                .build();
        okhttp3.OkHttpClient whole =
                streaming.newBuilder().callTimeout(settings.callTimeout()).build();
        this.client = minio(settings, whole);
        this.async = minioAsync(settings, whole);
        this.streams = minio(settings, streaming);
        this.breaker = CircuitBreaker.of(
                "s3",
                CircuitBreakerConfig.custom()
                        .failureRateThreshold(50)
                        .slidingWindowSize(20)
                        .minimumNumberOfCalls(10)
                        .waitDurationInOpenState(Duration.ofSeconds(5))
                        .recordException(
                                e -> !(e instanceof NoSuchFileException) && !(e instanceof StagedUploadLostException))
                        .build());
        this.retry = Retry.of(
                "s3",
                RetryConfig.custom()
                        .maxAttempts(3)
                        .waitDuration(Duration.ofMillis(200))
                        .retryOnException(e -> !(e instanceof NoSuchFileException)
                                && !(e instanceof CallNotPermittedException)
                                && !(e instanceof ErrorResponseException))
                        .build());
        boolean exists = call(() -> client.bucketExists(
                BucketExistsArgs.builder().bucket(settings.bucket()).build()));
        if (!exists) {
            if (!settings.createBucket()) {
                throw new IOException(
                        "bucket " + settings.bucket() + " does not exist (storage.s3.create-bucket is " + "false)");
            }
            call(() -> {
                client.makeBucket(
                        MakeBucketArgs.builder().bucket(settings.bucket()).build());
                return null;
            });
        }
    }

    private static MinioClient minio(Settings settings, okhttp3.OkHttpClient http) {
        MinioClient.Builder b = MinioClient.builder()
                .endpoint(settings.endpoint())
                .httpClient(http, true)
                .credentials(settings.accessKey(), settings.secretKey());
        if (!settings.region().isEmpty()) {
            b.region(settings.region());
        }
        MinioClient c = b.build();
        if (settings.pathStyle()) {
            c.disableVirtualStyleEndpoint();
        } else {
            c.enableVirtualStyleEndpoint();
        }
        return c;
    }

    private static MinioAsyncClient minioAsync(Settings settings, okhttp3.OkHttpClient http) {
        MinioAsyncClient.Builder b = MinioAsyncClient.builder()
                .endpoint(settings.endpoint())
                .httpClient(http, true)
                .credentials(settings.accessKey(), settings.secretKey());
        if (!settings.region().isEmpty()) {
            b.region(settings.region());
        }
        MinioAsyncClient c = b.build();
        if (settings.pathStyle()) {
            c.disableVirtualStyleEndpoint();
        } else {
            c.enableVirtualStyleEndpoint();
        }
        return c;
    }

    @Override
    public Map<String, Integer> buffersInUse() {
        return Map.of("s3_part", BUFFER_POOL.inUse());
    }

    private <T> T call(Call<T> call) throws IOException {
        Callable<T> attempt = () -> {
            long start = System.nanoTime();
            try {
                return call.run();
            } catch (ErrorResponseException | NoSuchFileException e) {
                throw e; // an answer
            } catch (Exception e) {
                // OkHttp ends a call past its deadline by closing the socket: say what happened
                if (System.nanoTime() - start >= settings.callTimeout().toNanos()) {
                    throw new IOException(
                            "S3 endpoint " + settings.endpoint() + ": no complete answer within "
                                    + BerthConfig.formatMillis(
                                            settings.callTimeout().toMillis())
                                    + " (storage.s3.call-timeout)",
                            e);
                }
                throw e;
            }
        };
        try {
            return Retry.decorateCallable(retry, CircuitBreaker.decorateCallable(breaker, attempt))
                    .call();
        } catch (IOException e) {
            throw e;
        } catch (CallNotPermittedException e) {
            throw new IOException("S3 endpoint " + settings.endpoint() + " is failing; calls paused for a few seconds");
        } catch (ErrorResponseException e) {
            if (isMissing(e)) {
                throw new NoSuchFileException(e.errorResponse().objectName());
            }
            throw new S3Failure(e.errorResponse().code(), e);
        } catch (Exception e) {
            throw new IOException("S3 endpoint " + settings.endpoint() + ": " + reason(e), e);
        }
    }

    /** The deepest cause's message ("Connection refused"), not a wrapper's class name and message. */
    private static String reason(Throwable e) {
        Throwable root = e;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        return root.getMessage() == null ? root.getClass().getSimpleName() : root.getMessage();
    }

    private static final Set<String> MISSING = Set.of("NoSuchKey", "NoSuchObject", "NotFound");

    private static boolean isMissing(ErrorResponseException e) {
        return MISSING.contains(e.errorResponse().code());
    }

    private String blobKey(Digest d) {
        return prefix + "blobs/" + d.algorithm().prefix() + "/" + d.hex().substring(0, 2) + "/" + d.hex();
    }

    private String uploadPrefix(UploadId id) {
        return prefix + "uploads/" + id.value() + "/";
    }

    private String partKey(UploadId id, long offset) {
        return uploadPrefix(id) + String.format("%016x", offset);
    }

    @Override
    public String kind() {
        return "s3";
    }

    @Override
    public String describe() {
        return "s3 bucket " + settings.bucket() + (prefix.isEmpty() ? "" : " prefix " + prefix) + " at "
                + settings.endpoint();
    }

    private Optional<StatObjectResponse> stat(String key) throws IOException {
        try {
            return Optional.of(call(() -> client.statObject(StatObjectArgs.builder()
                    .bucket(settings.bucket())
                    .object(key)
                    .build())));
        } catch (NoSuchFileException e) {
            return Optional.empty();
        }
    }

    @Override
    public OptionalLong size(Digest digest) throws IOException {
        return stat(blobKey(digest)).map(s -> OptionalLong.of(s.size())).orElse(OptionalLong.empty());
    }

    @Override
    public InputStream open(Digest digest, long offset, long length) throws IOException {
        String key = blobKey(digest);
        if (length == 0) {
            if (stat(key).isEmpty()) {
                throw new NoSuchFileException(key);
            }
            return InputStream.nullInputStream();
        }
        InputStream in = call(() -> streams.getObject(GetObjectArgs.builder()
                .bucket(settings.bucket())
                .object(key)
                .offset(offset)
                .length(length)
                .build()));
        return exactly(in, length, key);
    }

    /** {@code in}, failing loudly when it ends before {@code length} bytes. */
    private static InputStream exactly(InputStream in, long length, String key) {
        return new ExactLengthInputStream(in, length, key);
    }

    @Override
    public Optional<URI> redirect(Digest digest) throws IOException {
        if (settings.redirect().isZero()) {
            return Optional.empty();
        }
        String url = call(() -> client.getPresignedObjectUrl(GetPresignedObjectUrlArgs.builder()
                .method(Http.Method.GET)
                .bucket(settings.bucket())
                .object(blobKey(digest))
                .expiry((int) settings.redirect().toSeconds(), TimeUnit.SECONDS)
                .build()));
        return Optional.of(URI.create(url));
    }

    @Override
    public boolean delete(Digest digest) throws IOException {
        String key = blobKey(digest);
        if (stat(key).isEmpty()) {
            return false;
        }
        remove(key);
        return true;
    }

    private void remove(String key) throws IOException {
        call(() -> {
            client.removeObject(RemoveObjectArgs.builder()
                    .bucket(settings.bucket())
                    .object(key)
                    .build());
            return null;
        });
    }

    /** Receives listed objects; false stops the listing. */
    @FunctionalInterface
    private interface ItemVisitor {
        boolean visit(Item item) throws IOException;
    }

    /**
     * The objects under {@code keyPrefix} whose keys sort after {@code startAfter} (empty: all), in key
     * order, a page of {@link #LIST_PAGE} at a time: each page is one call (with its deadline and
     * retries) and is all that is held; the visitor runs between pages, outside the call.
     */
    private void list(String keyPrefix, String startAfter, ItemVisitor visitor) throws IOException {
        String after = startAfter;
        while (true) {
            String from = after;
            List<Item> page = call(() -> {
                List<Item> items = new ArrayList<>();
                ListObjectsArgs.Builder args = ListObjectsArgs.builder()
                        .bucket(settings.bucket())
                        .prefix(keyPrefix)
                        .recursive(true)
                        .maxKeys(LIST_PAGE);
                if (!from.isEmpty()) {
                    args.startAfter(from);
                }
                for (Result<Item> r : client.listObjects(args.build())) {
                    items.add(r.get());
                    if (items.size() == LIST_PAGE) {
                        break; // the next page is the next call's
                    }
                }
                return items;
            });
            for (Item item : page) {
                if (!visitor.visit(item)) {
                    return;
                }
            }
            if (page.size() < LIST_PAGE) {
                return;
            }
            after = page.getLast().objectName();
        }
    }

    /** The objects under {@code keyPrefix} as one list (an upload's parts: a few hundred at most). */
    private List<Item> list(String keyPrefix) throws IOException {
        List<Item> items = new ArrayList<>();
        list(keyPrefix, "", items::add);
        return items;
    }

    @Override
    public void list(String after, Visitor visitor) throws IOException {
        String root = prefix + "blobs/";
        String startAfter = "";
        if (!after.isEmpty()) {
            try {
                startAfter = blobKey(Digest.parse(after));
            } catch (RuntimeException e) {
                startAfter = ""; // not a digest: from the first
            }
        }
        list(root, startAfter, item -> {
            String[] parts = item.objectName().substring(root.length()).split("/");
            if (parts.length == 3) {
                Digest d;
                try {
                    d = Digest.parse(parts[0] + ":" + parts[2]);
                } catch (RuntimeException e) {
                    return true; // not a blob of ours
                }
                return d.toString().compareTo(after) <= 0 || visitor.visit(d);
            }
            return true;
        });
    }

    @Override
    public OptionalLong modifiedAt(Digest digest) throws IOException {
        return stat(blobKey(digest))
                .map(s -> OptionalLong.of(s.lastModified().toInstant().toEpochMilli()))
                .orElse(OptionalLong.empty());
    }

    // ---- uploads

    private record Part(long offset, long size, String key) {}

    /** The upload's parts in order, as far as they join up; null when the upload does not exist. */
    private List<Part> parts(UploadId id) throws IOException {
        return parts(id, list(uploadPrefix(id)));
    }

    /** As {@link #parts(UploadId)}, from a listing of the upload's keys already made. */
    private List<Part> parts(UploadId id, List<Item> items) {
        String p = uploadPrefix(id);
        List<Part> parts = new ArrayList<>();
        boolean exists = false;
        for (Item item : items) {
            String name = item.objectName().substring(p.length());
            if (name.equals("created")) {
                exists = true;
            } else if (name.length() == 16) {
                try {
                    parts.add(new Part(Long.parseUnsignedLong(name, 16), item.size(), item.objectName()));
                    exists = true;
                } catch (NumberFormatException e) {
                    // not a part
                }
            }
        }
        if (!exists) {
            return null;
        }
        parts.sort((a, b) -> Long.compare(a.offset(), b.offset()));
        List<Part> joined = new ArrayList<>();
        long end = 0;
        for (Part part : parts) {
            if (part.offset() != end) {
                break;
            }
            joined.add(part);
            end += part.size();
        }
        return joined;
    }

    private static long end(List<Part> parts) {
        return parts.isEmpty()
                ? 0
                : parts.get(parts.size() - 1).offset()
                        + parts.get(parts.size() - 1).size();
    }

    private void put(String key, byte[] data, int length) throws IOException {
        // CRC32 (the JDK's, an intrinsic) rather than the client's default CRC32C, which it computes a
        // byte at a time: that alone took most of a push's CPU (docs/benchmarks.md, "S3 path")
        call(() -> client.putObject(PutObjectArgs.builder()
                .bucket(settings.bucket())
                .object(key)
                .data(data, length)
                .checksum(Checksum.Algorithm.CRC32)
                .build()));
    }

    /** The result of a future of the asynchronous client, its failure unwrapped (an S3 answer stays one). */
    private static <T> T await(CompletableFuture<T> future) throws Exception {
        try {
            return future.get();
        } catch (ExecutionException | CompletionException e) {
            Throwable cause = e.getCause();
            while ((cause instanceof CompletionException || cause instanceof ExecutionException)
                    && cause.getCause() != null) {
                cause = cause.getCause();
            }
            if (cause instanceof Exception x) {
                throw x;
            }
            throw e;
        }
    }

    /** Writes one part held in a pool buffer; what it returns is kept in the part's order. */
    @FunctionalInterface
    private interface PartWrite<T> {
        T write(int index, long offset, byte[] buf, int length) throws IOException;
    }

    /**
     * Reads {@code data} to its end in parts of {@link #PART} bytes, each into a buffer of the shared
     * pool, and writes them with {@code write}, up to {@code storage.s3.upload-parallelism} at once:
     * the next part is read from the client while the ones before it travel to S3. Every write has
     * ended (and its buffer is back in the pool) when this returns or throws; the first failure is
     * thrown.
     *
     * <p>A part takes its buffer only once its first byte has arrived (a body stalled between parts
     * holds none), counted against {@code client}'s share of the pool (null: a body of the registry's
     * own, no share). With {@code cutsSlowParts}, a part that has held its buffer for
     * {@link Settings#partHold} while another client waits for one is written as it is, shorter, and
     * the buffer goes back: a trickling body holds a shared buffer for seconds, not for the hours it
     * takes to fill 8 MiB at {@code http.min-body-rate}.
     *
     * @return the bytes read
     */
    private <T> long writeParts(
            InputStream data, long offset, String client, boolean cutsSlowParts, PartWrite<T> write, List<T> results)
            throws IOException {
        ArrayDeque<Future<T>> inFlight = new ArrayDeque<>();
        Throwable failure = null;
        long end = offset;
        byte[] first = new byte[1];
        long hold = settings.partHold().toNanos();
        try {
            for (int index = 0; ; index++) {
                while (inFlight.size() >= settings.uploadParallelism()) {
                    // removed once ended: a part whose wait was interrupted is still awaited below
                    results.add(result(inFlight.getFirst()));
                    inFlight.removeFirst();
                }
                if (data.read(first, 0, 1) < 0) {
                    if (end == offset) {
                        results.add(write.write(index, end, first, 0)); // an empty body: what the write makes of it
                    }
                    break;
                }
                byte[] buf = BUFFER_POOL.take(client);
                int n = 1;
                boolean ended = false;
                try {
                    buf[0] = first[0];
                    long taken = System.nanoTime();
                    while (n < PART) {
                        int r = data.read(buf, n, PART - n);
                        if (r < 0) {
                            ended = true;
                            break;
                        }
                        n += r;
                        if (cutsSlowParts
                                && n < PART
                                && System.nanoTime() - taken >= hold
                                && BUFFER_POOL.othersWaiting(client)) {
                            break; // a slow body: its bytes so far are a part, the buffer is wanted
                        }
                    }
                } catch (Throwable t) {
                    BUFFER_POOL.give(buf, client);
                    throw t;
                }
                int i = index;
                int length = n;
                long at = end;
                inFlight.addLast(UPLOADS.submit(() -> {
                    try {
                        return write.write(i, at, buf, length);
                    } finally {
                        BUFFER_POOL.give(buf, client);
                    }
                }));
                end += n;
                if (ended) {
                    break;
                }
            }
            while (!inFlight.isEmpty()) {
                results.add(result(inFlight.getFirst()));
                inFlight.removeFirst();
            }
            return end - offset;
        } catch (Throwable t) {
            failure = t;
            throw t;
        } finally {
            if (failure != null) {
                // no part may land after the caller has dropped what this write staged, not even when
                // the thread was interrupted (a server stopping): each part ends within its call timeout
                for (Future<T> f : inFlight) {
                    Throwable failed = awaitEnd(f);
                    if (failed != null && failed != failure) {
                        failure.addSuppressed(failed);
                    }
                }
            }
        }
    }

    /**
     * Waits for {@code f} to end, however often the thread is interrupted meanwhile (the interrupt is
     * kept for the caller); what it failed with, or null.
     */
    private static Throwable awaitEnd(Future<?> f) {
        boolean interrupted = false;
        try {
            while (true) {
                try {
                    f.get();
                    return null;
                } catch (InterruptedException e) {
                    interrupted = true;
                } catch (ExecutionException e) {
                    return e.getCause();
                }
            }
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private static <T> T result(Future<T> f) throws IOException {
        try {
            return f.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted waiting for a part's upload");
        } catch (ExecutionException e) {
            if (e.getCause() instanceof IOException io) {
                throw io;
            }
            if (e.getCause() instanceof RuntimeException r) {
                throw r;
            }
            throw new IOException(e.getCause());
        }
    }

    @Override
    public void createUpload(UploadId id) throws IOException {
        put(uploadPrefix(id) + "created", new byte[0], 0);
    }

    @Override
    public long uploadSize(UploadId id) throws IOException {
        List<Part> parts = parts(id);
        return parts == null ? -1 : end(parts);
    }

    @Override
    public long append(UploadId id, long offset, InputStream data) throws IOException {
        return append(id, offset, data, null);
    }

    /** As {@link #append(UploadId, long, InputStream)}; its parts count against {@code client}'s share of buffers. */
    @Override
    public long appendBeforeCommit(UploadId id, long offset, InputStream data, String client) throws IOException {
        return append(id, offset, data, client);
    }

    /** As {@link #append(UploadId, long, InputStream)}; its parts count against {@code client}'s share of buffers. */
    @Override
    public long append(UploadId id, long offset, InputStream data, String client) throws IOException {
        List<Part> parts = parts(id);
        long staged = parts == null ? -1 : end(parts);
        if (staged < offset && !(staged < 0 && offset == 0)) {
            throw new StagedUploadLostException(id, staged, offset);
        }
        if (parts == null) {
            createUpload(id);
        } else if (staged > offset) {
            truncateUpload(id, offset);
        }
        return offset
                + writeParts(
                        data,
                        offset,
                        client,
                        true,
                        (index, at, buf, n) -> {
                            if (n > 0) {
                                put(partKey(id, at), buf, n);
                            }
                            return null;
                        },
                        new ArrayList<>());
    }

    @Override
    public void truncateUpload(UploadId id, long size) throws IOException {
        List<Part> parts = parts(id);
        if (parts == null) {
            return;
        }
        for (Item item : list(uploadPrefix(id))) {
            String name = item.objectName().substring(uploadPrefix(id).length());
            if (name.length() == 16 && parts.stream().noneMatch(p -> p.key().equals(item.objectName()))) {
                remove(item.objectName()); // beyond a gap: never acknowledged
            }
        }
        for (Part part : parts) {
            if (part.offset() >= size) {
                remove(part.key());
            } else if (part.offset() + part.size() > size) {
                int keep = (int) (size - part.offset());
                byte[] head;
                try (InputStream in = call(() -> client.getObject(GetObjectArgs.builder()
                        .bucket(settings.bucket())
                        .object(part.key())
                        .offset(0L)
                        .length((long) keep)
                        .build()))) {
                    head = in.readNBytes(keep);
                }
                put(part.key(), head, head.length);
            }
        }
    }

    @Override
    public InputStream openUpload(UploadId id) throws IOException {
        List<Part> parts = parts(id);
        if (parts == null) {
            throw new NoSuchFileException(uploadPrefix(id));
        }
        return read(parts);
    }

    /** The parts' bytes in order, each part fetched when the one before it is read to its end. */
    private InputStream read(List<Part> parts) {
        Iterator<Part> it = parts.iterator();
        return new SequenceInputStream(new Enumeration<InputStream>() {
            @Override
            public boolean hasMoreElements() {
                return it.hasNext();
            }

            @Override
            public InputStream nextElement() {
                Part p = it.next();
                try {
                    return exactly(
                            call(() -> streams.getObject(GetObjectArgs.builder()
                                    .bucket(settings.bucket())
                                    .object(p.key())
                                    .build())),
                            p.size(),
                            p.key());
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            }
        }) {
            @Override
            public int read(byte[] b, int off, int len) throws IOException {
                try {
                    return super.read(b, off, len);
                } catch (UncheckedIOException e) {
                    throw e.getCause();
                }
            }
        };
    }

    @Override
    public void commitUpload(UploadId id, Digest digest) throws IOException {
        List<Item> items = list(uploadPrefix(id));
        List<Part> parts = parts(id, items);
        if (parts == null) {
            throw new NoSuchFileException(uploadPrefix(id));
        }
        String key = blobKey(digest);
        boolean joined = false;
        if (parts.isEmpty()) {
            put(key, new byte[0], 0);
            joined = true;
        } else if (composes) {
            try {
                if (parts.size() == 1) {
                    copy(parts.get(0).key(), key);
                    joined = true;
                } else if (parts.subList(0, parts.size() - 1).stream().allMatch(p -> p.size() >= MIN_COMPOSE_PART)) {
                    compose(parts, key);
                    joined = true;
                }
            } catch (S3Failure e) {
                if (!CANNOT_COMPOSE.contains(e.code)) {
                    throw e;
                }
                // an endpoint without CopyObject or UploadPartCopy: copy through instead
                composes = false;
                System.getLogger(S3BlobStore.class.getName())
                        .log(
                                System.Logger.Level.INFO,
                                "the S3 endpoint " + settings.endpoint() + " cannot copy objects (" + e.getMessage()
                                        + "); uploads are joined by copying their parts through this instance");
            }
        }
        if (!joined) {
            copyThrough(parts, key);
        }
        remove(items.stream().map(Item::objectName).toList());
    }

    /** Copies {@code source} to {@code target} on the server (CopyObject: up to 5 GiB; a part is 8 MiB). */
    private void copy(String source, String target) throws IOException {
        call(() -> client.copyObject(CopyObjectArgs.builder()
                .bucket(settings.bucket())
                .object(target)
                .source(SourceObject.builder()
                        .bucket(settings.bucket())
                        .object(source)
                        .build())
                .build()));
    }

    /**
     * Joins the parts into {@code target} on the server: one multipart upload whose parts are copies
     * of the staged ones (UploadPartCopy), up to {@code storage.s3.upload-parallelism} at once, no byte
     * through Berth. The target appears whole when the upload completes; a failure aborts it.
     */
    private void compose(List<Part> parts, String target) throws IOException {
        String uploadId = createMultipart(target);
        boolean completed = false;
        try {
            // the client's UploadPartCopyArgs has no usable builder; this constructor takes bucket and object from here
            ComposeObjectArgs args = ComposeObjectArgs.builder()
                    .bucket(settings.bucket())
                    .object(target)
                    .sources(List.of(SourceObject.builder()
                            .bucket(settings.bucket())
                            .object(parts.get(0).key())
                            .build()))
                    .build();
            List<Future<io.minio.messages.Part>> copies = new ArrayList<>();
            Semaphore slots = new Semaphore(settings.uploadParallelism());
            try {
                for (int i = 0; i < parts.size(); i++) {
                    int number = i + 1;
                    String source =
                            "/" + settings.bucket() + "/" + escape(parts.get(i).key());
                    slots.acquire();
                    copies.add(UPLOADS.submit(() -> {
                        try {
                            Http.Headers headers = new Http.Headers();
                            headers.put("x-amz-copy-source", source);
                            return call(() -> await(async.uploadPartCopy(
                                            new UploadPartCopyArgs(args, uploadId, number, headers)))
                                    .part());
                        } finally {
                            slots.release();
                        }
                    }));
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new InterruptedIOException("interrupted composing " + target);
            } finally {
                for (Future<io.minio.messages.Part> f : copies) {
                    awaitEnd(f); // every copy ended before this returns or aborts, even when interrupted
                }
            }
            io.minio.messages.Part[] copied = new io.minio.messages.Part[copies.size()];
            for (int i = 0; i < copies.size(); i++) {
                copied[i] = result(copies.get(i));
            }
            completeMultipart(target, uploadId, copied);
            completed = true;
        } finally {
            if (!completed) {
                abortMultipart(target, uploadId);
            }
        }
    }

    /** An object key in an {@code x-amz-copy-source} header: each segment percent-encoded. */
    private static String escape(String key) {
        StringJoiner out = new StringJoiner("/");
        for (String segment : key.split("/", -1)) {
            out.add(URLEncoder.encode(segment, StandardCharsets.UTF_8).replace("+", "%20"));
        }
        return out.toString();
    }

    /**
     * Copies the parts through this instance into {@code target} (endpoints that cannot copy on the
     * server, or parts under S3's 5 MiB minimum): one put when it fits a part, else one multipart
     * upload whose parts travel in parallel from pool buffers.
     */
    private void copyThrough(List<Part> parts, String target) throws IOException {
        long size = end(parts);
        try (InputStream in = read(parts)) {
            if (size <= PART) {
                writeParts(
                        in,
                        0,
                        null,
                        false,
                        (index, at, buf, n) -> {
                            put(target, buf, n);
                            return null;
                        },
                        new ArrayList<>());
                return;
            }
            String uploadId = createMultipart(target);
            boolean completed = false;
            try {
                List<io.minio.messages.Part> written = new ArrayList<>();
                // parts of a multipart upload: every one but the last a full 8 MiB (S3's 5 MiB minimum)
                writeParts(
                        in,
                        0,
                        null,
                        false,
                        (index, at, buf, n) -> call(() -> await(async.uploadPart(UploadPartArgs.builder()
                                        .bucket(settings.bucket())
                                        .object(target)
                                        .uploadId(uploadId)
                                        .partNumber(index + 1)
                                        .data(buf, n)
                                        .build()))
                                .part()),
                        written);
                completeMultipart(target, uploadId, written.toArray(io.minio.messages.Part[]::new));
                completed = true;
            } finally {
                if (!completed) {
                    abortMultipart(target, uploadId);
                }
            }
        }
    }

    private String createMultipart(String key) throws IOException {
        return call(() -> await(async.createMultipartUpload(CreateMultipartUploadArgs.builder()
                        .bucket(settings.bucket())
                        .object(key)
                        .build()))
                .result()
                .uploadId());
    }

    private void completeMultipart(String key, String uploadId, io.minio.messages.Part[] parts) throws IOException {
        call(() -> await(async.completeMultipartUpload(CompleteMultipartUploadArgs.builder()
                .bucket(settings.bucket())
                .object(key)
                .uploadId(uploadId)
                .parts(parts)
                .build())));
    }

    /** Best effort: what is left of an unfinished multipart upload is the bucket lifecycle rule's. */
    private void abortMultipart(String key, String uploadId) {
        try {
            await(async.abortMultipartUpload(AbortMultipartUploadArgs.builder()
                    .bucket(settings.bucket())
                    .object(key)
                    .uploadId(uploadId)
                    .build()));
        } catch (Exception e) {
            System.getLogger(S3BlobStore.class.getName())
                    .log(
                            System.Logger.Level.WARNING,
                            "could not abort the multipart upload of " + key + ": " + e.getMessage());
        }
    }

    /** Removes keys with one DeleteObjects call per 1000 rather than a call per key. */
    private void remove(List<String> keys) throws IOException {
        for (int from = 0; from < keys.size(); from += LIST_PAGE) {
            List<DeleteRequest.Object> batch = keys.subList(from, Math.min(keys.size(), from + LIST_PAGE)).stream()
                    .map(DeleteRequest.Object::new)
                    .toList();
            call(() -> {
                for (Result<DeleteResult.Error> r : client.removeObjects(RemoveObjectsArgs.builder()
                        .bucket(settings.bucket())
                        .objects(batch)
                        .build())) {
                    DeleteResult.Error error = r.get();
                    if (!MISSING.contains(error.code())) {
                        throw new IOException(
                                "S3 " + error.code() + " deleting " + error.objectName() + ": " + error.message());
                    }
                }
                return null;
            });
        }
    }

    @Override
    public void deleteUpload(UploadId id) throws IOException {
        remove(list(uploadPrefix(id)).stream().map(Item::objectName).toList());
    }

    @Override
    public List<UploadId> listUploads() throws IOException {
        Set<String> ids = new TreeSet<>();
        list(prefix + "uploads/", "", item -> {
            String rest = item.objectName().substring(prefix.length() + "uploads/".length());
            int slash = rest.indexOf('/');
            if (slash > 0) {
                ids.add(rest.substring(0, slash));
            }
            return true;
        });
        List<UploadId> out = new ArrayList<>();
        for (String s : ids) {
            try {
                out.add(new UploadId(s));
            } catch (RuntimeException e) {
                // not an upload of ours
            }
        }
        return Collections.unmodifiableList(out);
    }

    @Override
    public void checkAvailable() throws IOException {
        boolean exists = call(() -> client.bucketExists(
                BucketExistsArgs.builder().bucket(settings.bucket()).build()));
        if (!exists) {
            throw new IOException("bucket " + settings.bucket() + " is gone");
        }
    }

    @Override
    public void close() {
        // the client's connections close with the process
    }
}
