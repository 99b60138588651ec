package io.berth.launcher.process;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.berth.core.model.Digest;
import io.berth.core.model.DigestAlgorithm;
import io.berth.testsupport.GeneratedContent;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Streaming, not buffering: 5 GiB blobs pushed chunked and monolithically and pulled back through a
 * registry whose heap is 256 MiB. Size is {@code -Dberth.test.large-blob-bytes} (default 5 GiB).
 */
@Tag("process")
class LargeBlobTest {
    static final long SIZE = Long.getLong("berth.test.large-blob-bytes", 5L << 30);
    static final long CHUNK = 1L << 30;
    static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

    @TempDir
    Path dir;

    static HttpRequest.BodyPublisher body(long seed, long from, long length) {
        return HttpRequest.BodyPublishers.fromPublisher(HttpRequest.BodyPublishers.ofInputStream(
                () -> new GeneratedContent(seed, from, length)), length);
    }

    static HttpResponse<String> send(HttpRequest.Builder b) throws IOException, InterruptedException {
        return HTTP.send(b.timeout(Duration.ofMinutes(20)).build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void fiveGibChunkedAndMonolithicThroughA256MibHeap() throws Exception {
        try (BerthProcess b = BerthProcess.start(dir, List.of("-Xmx256m"), Map.of("BERTH_HTTP_ACCESS_LOG", "false"))) {
            // chunked: 1 GiB PATCHes with Content-Range, then PUT with the digest
            long chunkedSeed = 1;
            Digest chunked = GeneratedContent.digest(chunkedSeed, SIZE);
            HttpResponse<String> start = send(HttpRequest.newBuilder(URI.create(b.base() + "/v2/big/blob/blobs/uploads/"))
                    .POST(HttpRequest.BodyPublishers.noBody()));
            String location = start.headers().firstValue("Location").orElseThrow();
            for (long from = 0; from < SIZE; from += CHUNK) {
                long len = Math.min(CHUNK, SIZE - from);
                HttpResponse<String> patch = send(HttpRequest.newBuilder(URI.create(b.base() + location))
                        .header("Content-Range", from + "-" + (from + len - 1))
                        .header("Content-Type", "application/octet-stream")
                        .method("PATCH", body(chunkedSeed, from, len)));
                assertEquals(202, patch.statusCode(), patch.body());
                assertEquals("0-" + (from + len - 1), patch.headers().firstValue("Range").orElseThrow());
            }
            HttpResponse<String> put = send(HttpRequest.newBuilder(URI.create(b.base() + location + "?digest=" + chunked))
                    .PUT(HttpRequest.BodyPublishers.noBody()));
            assertEquals(201, put.statusCode(), put.body());
            assertEquals(chunked, pull(b, chunked));

            // monolithic: one POST carrying the whole blob
            long monoSeed = 2;
            Digest mono = GeneratedContent.digest(monoSeed, SIZE);
            HttpResponse<String> post = send(HttpRequest.newBuilder(URI.create(b.base()
                    + "/v2/big/blob/blobs/uploads/?digest=" + mono)).POST(body(monoSeed, 0, SIZE)));
            assertEquals(201, post.statusCode(), post.body());
            assertEquals(mono, pull(b, mono));

            assertTrue(b.process.process().isAlive());
            assertFalse(b.output().contains("OutOfMemoryError"), b.output());
            assertEquals(0, b.terminate());
        }
    }

    /** Pulls a blob and returns the digest of what arrived. */
    static Digest pull(BerthProcess b, Digest d) throws IOException, InterruptedException {
        HttpResponse<InputStream> res = HTTP.send(HttpRequest.newBuilder(URI.create(b.base() + "/v2/big/blob/blobs/" + d))
                .timeout(Duration.ofMinutes(20)).build(), HttpResponse.BodyHandlers.ofInputStream());
        assertEquals(200, res.statusCode());
        assertEquals(Long.toString(SIZE), res.headers().firstValue("Content-Length").orElseThrow());
        MessageDigest md = DigestAlgorithm.SHA256.newMessageDigest();
        long total = 0;
        try (InputStream in = res.body()) {
            byte[] buf = new byte[1 << 20];
            int n;
            while ((n = in.read(buf)) > 0) {
                md.update(buf, 0, n);
                total += n;
            }
        }
        assertEquals(SIZE, total);
        return Digest.of(DigestAlgorithm.SHA256, md.digest());
    }
}
