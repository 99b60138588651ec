package io.berth.storage.s3;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.berth.core.blob.BlobStore;
import io.berth.core.config.BerthConfig;
import io.berth.core.model.Digest;
import io.berth.core.model.DigestAlgorithm;
import io.berth.core.model.UploadId;
import io.berth.testsupport.S3Endpoint;
import io.berth.testsupport.contract.BlobStoreContract;
import io.minio.MinioClient;
import io.minio.PutObjectArgs;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.io.SequenceInputStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The blob store contract on S3 (S3Proxy started by the tests), and what only S3 has: uploads
 * staged as parts another instance can read, server-side composition, presigned redirects, and a
 * failing endpoint answered with an IOException (503 upstream), never a hang.
 */
@Tag("services")
class S3BlobStoreTest extends BlobStoreContract {
    static final String BUCKET = "berth-test";
    private static final AtomicInteger STORES = new AtomicInteger();
    private String prefix;

    static S3BlobStore.Settings settings(String prefix, Duration redirect) {
        S3Endpoint s3 = S3Endpoint.shared();
        return new S3BlobStore.Settings(
                s3.endpoint(), "", BUCKET, s3.accessKey(), s3.secretKey(), prefix, true, redirect);
    }

    @Override
    protected BlobStore newStore(Path dir) throws IOException {
        prefix = "contract-" + ProcessHandle.current().pid() + "-" + STORES.incrementAndGet() + "/";
        return new S3BlobStore(settings(prefix, Duration.ZERO));
    }

    @Override
    protected void damage(Digest d, byte[] content) throws IOException {
        S3Endpoint s3 = S3Endpoint.shared();
        MinioClient c = MinioClient.builder()
                .endpoint(s3.endpoint())
                .credentials(s3.accessKey(), s3.secretKey())
                .build();
        try {
            c.putObject(PutObjectArgs.builder()
                    .bucket(BUCKET)
                    .object(prefix + "blobs/sha256/" + d.hex().substring(0, 2) + "/" + d.hex())
                    .data(content, content.length)
                    .build());
        } catch (Exception e) {
            throw new IOException(e);
        }
    }

    @Test
    void anUploadStagedByOneInstanceIsReadAndCompletedByAnother() throws IOException {
        byte[] content = new byte[(int) (2.5 * S3BlobStore.PART)];
        new Random(7).nextBytes(content);
        UploadId id = UploadId.random();
        S3BlobStore other = new S3BlobStore(settings(prefix, Duration.ZERO));
        store.createUpload(id);
        int first = 2 * S3BlobStore.PART + 1000;
        assertEquals(first, store.append(id, 0, new ByteArrayInputStream(content, 0, first)));
        // the second instance sees the staged bytes, continues, and reads everything back (to hash it)
        assertEquals(first, other.uploadSize(id));
        assertEquals(
                content.length,
                other.append(id, first, new ByteArrayInputStream(content, first, content.length - first)));
        try (InputStream in = other.openUpload(id)) {
            assertArrayEquals(content, in.readAllBytes());
        }
        Digest d = Digest.compute(DigestAlgorithm.SHA256, content);
        store.commitUpload(id, d);
        assertEquals(content.length, other.size(d).orElseThrow());
        try (InputStream in = other.open(d, 0, content.length)) {
            assertArrayEquals(content, in.readAllBytes(), "parts joined in order, whether composed or copied");
        }
        assertEquals(-1, other.uploadSize(id), "parts removed after completion");
        assertTrue(other.listUploads().stream().noneMatch(id::equals));
    }

    @Test
    void largePartsAreComposedOnTheServer() throws IOException {
        byte[] content = new byte[2 * S3BlobStore.PART + 5];
        new Random(11).nextBytes(content);
        UploadId id = UploadId.random();
        store.createUpload(id);
        store.append(id, 0, new ByteArrayInputStream(content));
        Digest d = Digest.compute(DigestAlgorithm.SHA256, content);
        store.commitUpload(id, d);
        try (InputStream in = store.open(d, 0, content.length)) {
            assertArrayEquals(content, in.readAllBytes());
        }
    }

    @Test
    void concurrentLargeUploadsHoldNoMorePartBuffersThanThePoolHas() throws Exception {
        // more parts wanted at once (6 uploads x 4) than the pool has: uploads wait for a buffer
        byte[] content = new byte[3 * S3BlobStore.PART + 17];
        new Random(13).nextBytes(content);
        Digest d = Digest.compute(DigestAlgorithm.SHA256, content);
        int uploads = 6;
        S3BlobStore.BUFFER_POOL.takePeak();
        List<CompletableFuture<Long>> pushes = new ArrayList<>();
        for (int i = 0; i < uploads; i++) {
            pushes.add(CompletableFuture.supplyAsync(
                    () -> {
                        try {
                            UploadId id = UploadId.random();
                            store.createUpload(id);
                            long size = store.append(id, 0, new ByteArrayInputStream(content));
                            store.commitUpload(id, d);
                            return size;
                        } catch (IOException e) {
                            throw new UncheckedIOException(e);
                        }
                    },
                    Executors.newVirtualThreadPerTaskExecutor()));
        }
        for (CompletableFuture<Long> push : pushes) {
            assertEquals(content.length, push.get(120, TimeUnit.SECONDS));
        }
        int peak = S3BlobStore.BUFFER_POOL.takePeak();
        System.out.printf(
                "%d concurrent uploads of %d MiB: at most %d part buffers of %d in use at once%n",
                uploads, content.length >> 20, peak, S3BlobStore.BUFFERS);
        assertTrue(peak <= S3BlobStore.BUFFERS, peak + " buffers in use, the pool has " + S3BlobStore.BUFFERS);
        assertTrue(peak >= 2, "parts travel in parallel: " + peak);
        assertEquals(0, S3BlobStore.BUFFER_POOL.inUse(), "every buffer back in the pool");
        assertEquals(Map.of("s3_part", 0), store.buffersInUse());
        try (InputStream in = store.open(d, 0, content.length)) {
            assertArrayEquals(content, in.readAllBytes());
        }
    }

    /** A body that sends {@code head} at once, then nothing until {@code release} completes, then ends. */
    private static InputStream stalling(byte[] head, CompletableFuture<Void> release) {
        return new SequenceInputStream(new ByteArrayInputStream(head), new InputStream() {
            @Override
            public int read() throws IOException {
                release.join();
                return -1;
            }
        });
    }

    /**
     * A body that sends {@code chunk} bytes every {@code every} (what it sent is kept in {@code sent})
     * until {@code stop} completes, then ends.
     */
    private static InputStream trickling(
            int chunk, Duration every, long seed, ByteArrayOutputStream sent, CompletableFuture<Void> stop) {
        Random random = new Random(seed);
        return new InputStream() {
            @Override
            public int read() throws IOException {
                byte[] one = new byte[1];
                return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
            }

            @Override
            public int read(byte[] b, int off, int len) throws IOException {
                try {
                    stop.get(every.toMillis(), TimeUnit.MILLISECONDS);
                    return -1;
                } catch (TimeoutException e) {
                    // not stopped: the next chunk
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new InterruptedIOException();
                } catch (ExecutionException e) {
                    throw new IOException(e);
                }
                byte[] next = new byte[Math.min(len, chunk)];
                random.nextBytes(next);
                synchronized (sent) {
                    sent.write(next, 0, next.length);
                }
                System.arraycopy(next, 0, b, off, next.length);
                return next.length;
            }
        };
    }

    private static CompletableFuture<Long> appendLater(S3BlobStore s3, UploadId id, InputStream body, String client) {
        return CompletableFuture.supplyAsync(
                () -> {
                    try {
                        return s3.append(id, 0, body, client);
                    } catch (IOException e) {
                        throw new UncheckedIOException(e);
                    }
                },
                Executors.newVirtualThreadPerTaskExecutor());
    }

    private static void awaitBuffersHeld(String client, int n) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (S3BlobStore.BUFFER_POOL.heldBy(client) < n) {
            assertTrue(System.nanoTime() < deadline, S3BlobStore.BUFFER_POOL.heldBy(client) + " buffers held");
            Thread.sleep(20);
        }
    }

    @Test
    void oneClientsStalledUploadsLeaveOtherClientsTheirShareOfPartBuffers() throws Exception {
        // as many uploads as the pool has buffers, from one address, each stalled in the middle of its
        // first part: before, they took every buffer and every other S3 upload waited as long as they did
        String slow = "10.0.0.66";
        CompletableFuture<Void> release = new CompletableFuture<>();
        List<CompletableFuture<Long>> stalled = new ArrayList<>();
        List<UploadId> ids = new ArrayList<>();
        byte[] head = new byte[64 << 10];
        for (int i = 0; i < S3BlobStore.BUFFERS; i++) {
            UploadId id = UploadId.random();
            store.createUpload(id);
            ids.add(id);
            stalled.add(appendLater((S3BlobStore) store, id, stalling(head, release), slow));
        }
        int borrowed = S3BlobStore.BUFFERS - S3BlobStore.BUFFER_POOL.share();
        try {
            awaitBuffersHeld(slow, borrowed);
            Thread.sleep(200);
            assertEquals(borrowed, S3BlobStore.BUFFER_POOL.heldBy(slow), "all but a share of the pool at most");
            // another client's push of several parts goes through meanwhile
            byte[] content = new byte[2 * S3BlobStore.PART + 5];
            new Random(23).nextBytes(content);
            UploadId other = UploadId.random();
            store.createUpload(other);
            long t0 = System.nanoTime();
            assertEquals(
                    content.length,
                    appendLater((S3BlobStore) store, other, new ByteArrayInputStream(content), "10.0.0.7")
                            .get(60, TimeUnit.SECONDS));
            System.out.printf(
                    "%d stalled uploads of one client hold %d of %d part buffers; another client's %d MiB took %d ms%n",
                    S3BlobStore.BUFFERS,
                    borrowed,
                    S3BlobStore.BUFFERS,
                    content.length >> 20,
                    (System.nanoTime() - t0) / 1_000_000);
            Digest d = Digest.compute(DigestAlgorithm.SHA256, content);
            store.commitUpload(other, d);
            try (InputStream in = store.open(d, 0, content.length)) {
                assertArrayEquals(content, in.readAllBytes());
            }
        } finally {
            release.complete(null);
        }
        for (CompletableFuture<Long> f : stalled) {
            assertEquals(head.length, f.get(60, TimeUnit.SECONDS), "the stalled ones end once their bodies do");
        }
        assertEquals(0, S3BlobStore.BUFFER_POOL.inUse());
        assertEquals(head.length, store.uploadSize(ids.get(0)));
    }

    @Test
    void aTricklingBodyGivesItsBufferBackWhenAnotherClientWaitsForOne() throws Exception {
        // a body at 20 KiB/s takes 7 minutes to fill 8 MiB; clients each within their share take every
        // buffer with such bodies, and another client's push waits only about partHold (1 s here)
        S3Endpoint s3 = S3Endpoint.shared();
        S3BlobStore cutting = new S3BlobStore(new S3BlobStore.Settings(
                s3.endpoint(),
                "",
                BUCKET,
                s3.accessKey(),
                s3.secretKey(),
                prefix,
                true,
                Duration.ZERO,
                true,
                S3BlobStore.CALL_TIMEOUT,
                S3BlobStore.UPLOAD_PARALLELISM,
                Duration.ofSeconds(1)));
        CompletableFuture<Void> stop = new CompletableFuture<>();
        List<CompletableFuture<Long>> slow = new ArrayList<>();
        List<UploadId> ids = new ArrayList<>();
        List<ByteArrayOutputStream> sent = new ArrayList<>();
        for (int i = 0; i < S3BlobStore.BUFFERS; i++) {
            UploadId id = UploadId.random();
            cutting.createUpload(id);
            ids.add(id);
            sent.add(new ByteArrayOutputStream());
            slow.add(appendLater(
                    cutting, id, trickling(1 << 10, Duration.ofMillis(50), i, sent.get(i), stop), "10.0.1." + i));
        }
        try {
            for (int i = 0; i < S3BlobStore.BUFFERS; i++) {
                awaitBuffersHeld("10.0.1." + i, 1);
            }
            assertEquals(S3BlobStore.BUFFERS, S3BlobStore.BUFFER_POOL.inUse(), "trickling bodies hold every buffer");
            byte[] content = new byte[2 * S3BlobStore.PART + 5];
            new Random(29).nextBytes(content);
            UploadId other = UploadId.random();
            cutting.createUpload(other);
            long t0 = System.nanoTime();
            assertEquals(
                    content.length,
                    appendLater(cutting, other, new ByteArrayInputStream(content), "10.0.0.7")
                            .get(30, TimeUnit.SECONDS));
            System.out.printf(
                    "%d trickling bodies held every part buffer; another client's %d MiB took %d ms%n",
                    S3BlobStore.BUFFERS, content.length >> 20, (System.nanoTime() - t0) / 1_000_000);
            try (InputStream in = cutting.openUpload(other)) {
                assertArrayEquals(content, in.readAllBytes());
            }
        } finally {
            stop.complete(null);
        }
        // the slow bodies lost nothing: their shorter parts join up, and complete by copying through
        for (int i = 0; i < S3BlobStore.BUFFERS; i++) {
            long size = slow.get(i).get(60, TimeUnit.SECONDS);
            byte[] expected = sent.get(i).toByteArray();
            assertEquals(expected.length, size);
            try (InputStream in = cutting.openUpload(ids.get(i))) {
                assertArrayEquals(expected, in.readAllBytes());
            }
        }
        assertEquals(0, S3BlobStore.BUFFER_POOL.inUse());
        byte[] first = sent.get(0).toByteArray();
        Digest d = Digest.compute(DigestAlgorithm.SHA256, first);
        cutting.commitUpload(ids.get(0), d);
        try (InputStream in = cutting.open(d, 0, first.length)) {
            assertArrayEquals(first, in.readAllBytes());
        }
    }

    @Test
    void oneUploadSendsAtMostItsParallelismOfPartsAtOnce() throws Exception {
        S3Endpoint s3 = S3Endpoint.shared();
        S3BlobStore two = new S3BlobStore(new S3BlobStore.Settings(
                s3.endpoint(),
                "",
                BUCKET,
                s3.accessKey(),
                s3.secretKey(),
                prefix,
                true,
                Duration.ZERO,
                true,
                S3BlobStore.CALL_TIMEOUT,
                2));
        byte[] content = new byte[5 * S3BlobStore.PART];
        new Random(17).nextBytes(content);
        UploadId id = UploadId.random();
        two.createUpload(id);
        S3BlobStore.BUFFER_POOL.takePeak();
        assertEquals(content.length, two.append(id, 0, new ByteArrayInputStream(content)));
        assertTrue(S3BlobStore.BUFFER_POOL.takePeak() <= 2, "storage.s3.upload-parallelism 2");
        try (InputStream in = two.openUpload(id)) {
            assertArrayEquals(content, in.readAllBytes(), "parts stored in order though sent at once");
        }
        // a body that fails in the middle: nothing of it stays once append has thrown, no buffer is held
        InputStream failing =
                new SequenceInputStream(new ByteArrayInputStream(content, 0, 3 * S3BlobStore.PART), new InputStream() {
                    @Override
                    public int read() throws IOException {
                        throw new IOException("client went away");
                    }
                });
        assertThrows(IOException.class, () -> two.append(id, content.length, failing));
        assertEquals(0, S3BlobStore.BUFFER_POOL.inUse());
        two.truncateUpload(id, content.length);
        assertEquals(content.length, two.uploadSize(id));
    }

    @Test
    void smallChunksAreJoinedByCopyingAndPartsAreReplacedOnRetry() throws IOException {
        UploadId id = UploadId.random();
        store.createUpload(id);
        store.append(id, 0, new ByteArrayInputStream(bytes("abc")));
        store.append(id, 3, new ByteArrayInputStream(bytes("XYZ")));
        // a retried chunk at 3 replaces what the failed attempt staged
        store.append(id, 3, new ByteArrayInputStream(bytes("def")));
        Digest d = Digest.compute(DigestAlgorithm.SHA256, bytes("abcdef"));
        store.commitUpload(id, d);
        try (InputStream in = store.open(d, 0, 6)) {
            assertArrayEquals(bytes("abcdef"), in.readAllBytes());
        }
    }

    @Test
    void anInterruptedAppendStillEndsOnlyOnceNoPartIsInFlight() throws Exception {
        // a server that stops interrupts the threads reading bodies: the parts already handed off must
        // still have landed (and given their buffers back) when append throws, or the registry's drop of
        // the unacknowledged bytes runs before they land and leaves them behind
        byte[] content = new byte[3 * S3BlobStore.PART];
        new Random(19).nextBytes(content);
        UploadId id = UploadId.random();
        store.createUpload(id);
        InputStream interrupted = new SequenceInputStream(new ByteArrayInputStream(content), new InputStream() {
            @Override
            public int read() throws IOException {
                Thread.currentThread().interrupt();
                throw new InterruptedIOException("stopping");
            }
        });
        try {
            assertThrows(InterruptedIOException.class, () -> store.append(id, 0, interrupted));
            assertEquals(0, S3BlobStore.BUFFER_POOL.inUse(), "no part still in flight");
            assertTrue(Thread.currentThread().isInterrupted(), "the interrupt is kept for the caller");
        } finally {
            Thread.interrupted();
        }
        store.truncateUpload(id, 0);
        Thread.sleep(200); // a part that was still in flight would land now
        assertEquals(0, store.uploadSize(id), "nothing of the failed append lands after it was dropped");
    }

    @Test
    void presignedRedirectsFetchTheBlobFromTheStoreItself() throws Exception {
        S3BlobStore redirecting = new S3BlobStore(settings(prefix, Duration.ofMinutes(5)));
        UploadId id = UploadId.random();
        redirecting.createUpload(id);
        redirecting.append(id, 0, new ByteArrayInputStream(bytes("fetched from s3")));
        Digest d = Digest.compute(DigestAlgorithm.SHA256, bytes("fetched from s3"));
        redirecting.commitUpload(id, d);
        URI url = redirecting.redirect(d).orElseThrow();
        HttpResponse<byte[]> r = HttpClient.newHttpClient()
                .send(HttpRequest.newBuilder(url).build(), HttpResponse.BodyHandlers.ofByteArray());
        assertEquals(200, r.statusCode());
        assertArrayEquals(bytes("fetched from s3"), r.body());
        assertTrue(store.redirect(d).isEmpty(), "off unless configured");
    }

    @Test
    void anUnreachableEndpointFailsWithAnIOExceptionQuickly() {
        S3BlobStore.Settings dead =
                new S3BlobStore.Settings("http://127.0.0.1:9", "", BUCKET, "a", "b", "", false, Duration.ZERO);
        IOException e = assertThrows(IOException.class, () -> new S3BlobStore(dead));
        assertTrue(e.getMessage().contains("127.0.0.1:9"), e.getMessage());
    }

    static S3BlobStore.Settings hostile(HostileS3 s3, Duration callTimeout) {
        // a region given: no bucket-location lookup before the calls under test
        return new S3BlobStore.Settings(
                s3.endpoint(), "us-east-1", BUCKET, "a", "b", "", false, Duration.ZERO, true, callTimeout);
    }

    @Test
    void aListingThatTricklesFailsAtTheCallDeadlineNotAtTheReadTimeout() throws Exception {
        try (HostileS3 s3 = new HostileS3(HostileS3.Mode.TRICKLE)) {
            S3BlobStore store = new S3BlobStore(hostile(s3, Duration.ofSeconds(2)));
            CompletableFuture<Throwable> failure = new CompletableFuture<>();
            long t0 = System.nanoTime();
            // an upload's size is a listing of its parts (every chunk of a push asks it)
            Thread.ofPlatform().daemon().start(() -> {
                try {
                    store.uploadSize(UploadId.random());
                    failure.complete(null);
                } catch (Throwable t) {
                    failure.complete(t);
                }
            });
            Throwable t = failure.get(150, TimeUnit.SECONDS);
            long ms = (System.nanoTime() - t0) / 1_000_000;
            assertTrue(t instanceof IOException, String.valueOf(t));
            assertTrue(t.getMessage().contains(s3.endpoint().substring("http://".length())), t.getMessage());
            assertTrue(
                    t.getMessage().contains("no complete answer within 2s (storage.s3.call-timeout)"), t.getMessage());
            System.out.printf(
                    "trickling S3 listing (a byte a second, call-timeout 2s, 3 tries): failed after %d ms, "
                            + "%d listing requests: %s%n",
                    ms, s3.listings.get(), t.getMessage());
        }
    }

    @Test
    void aListingStreamsPageByPageAndStopsWhenTheVisitorSays() throws Exception {
        try (HostileS3 s3 = new HostileS3(HostileS3.Mode.ENDLESS)) {
            S3BlobStore store = new S3BlobStore(hostile(s3, Duration.ofSeconds(30)));
            Runtime rt = Runtime.getRuntime();
            System.gc();
            long before = rt.totalMemory() - rt.freeMemory();
            long[] seen = {0};
            long[] peak = {0};
            String[] last = {""};
            long t0 = System.nanoTime();
            // a bucket without end: a listing that held it whole would never return
            CompletableFuture<Throwable> done = new CompletableFuture<>();
            Thread.ofPlatform().daemon().start(() -> {
                try {
                    store.list("", d -> {
                        assertTrue(d.toString().compareTo(last[0]) > 0, "in order of the digests' text");
                        last[0] = d.toString();
                        if (++seen[0] % 10_000 == 0) {
                            System.gc();
                            peak[0] = Math.max(peak[0], rt.totalMemory() - rt.freeMemory());
                        }
                        return seen[0] < 30_000;
                    });
                    done.complete(null);
                } catch (Throwable t) {
                    done.complete(t);
                }
            });
            assertEquals(null, done.get(120, TimeUnit.SECONDS));
            assertEquals(30_000, seen[0]);
            assertEquals(30, s3.listings.get(), "one request per page of 1000, none ahead");
            // resuming from a cursor asks S3 to start after it
            long[] resumed = {0};
            String[] first = {null};
            store.list(last[0], d -> {
                first[0] = d.toString();
                resumed[0]++;
                return false;
            });
            assertEquals(1, resumed[0]);
            assertTrue(first[0].compareTo(last[0]) > 0, first[0]);
            System.out.printf(
                    "endless S3 listing: 30,000 blobs visited in %d ms, 30 page requests; heap after a "
                            + "GC %d MiB before, at most %d MiB while listing (every 10,000)%n",
                    (System.nanoTime() - t0) / 1_000_000, before >> 20, peak[0] >> 20);
        }
    }

    @Test
    void presignedUrlsLiveAsLongAsConfiguredFiveMinutesByDefault() throws Exception {
        S3BlobStore redirecting = new S3BlobStore(settings(prefix, Duration.ofSeconds(90)));
        Digest d = Digest.compute(DigestAlgorithm.SHA256, bytes("short-lived"));
        assertTrue(
                redirecting.redirect(d).orElseThrow().getQuery().contains("X-Amz-Expires=90"),
                redirecting.redirect(d).toString());
        BerthConfig config = BerthConfig.load(
                Optional.empty(),
                Map.of(
                        "BERTH_STORAGE_TYPE",
                        "s3",
                        "BERTH_STORAGE_S3_ENDPOINT",
                        "http://s3:9000",
                        "BERTH_STORAGE_S3_REDIRECT",
                        "true"),
                w -> {});
        assertEquals(Duration.ofMinutes(5), S3BlobStoreProvider.settings(config).redirect(), "short by default");
    }
}
