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
import java.io.IOException;
import java.io.InputStream;
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
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
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
