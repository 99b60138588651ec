package io.berth.http;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.berth.core.model.Digest;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.net.http.HttpResponse;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A blob whose file is shorter than recorded (a crash with fsync off, a damaged disk) must never be
 * served as a short "complete" 200: before any byte is sent it is an error answer, after that the
 * connection is aborted; either way it is logged with the digest, counted, reported by /healthz,
 * and a push of the same content repairs it.
 */
class DamagedBlobTest {
    @TempDir
    Path dir;

    static byte[] random(int n) {
        byte[] b = new byte[n];
        new Random(n).nextBytes(b);
        return b;
    }

    static Path blobFile(Path dir, Digest d) {
        return dir.resolve("blobs/blobs/sha256")
                .resolve(d.hex().substring(0, 2))
                .resolve(d.hex());
    }

    static void truncate(Path file, long size) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
            ch.truncate(size);
        }
    }

    /**
     * Reads {@code in} (after what {@code got} already holds) until the server closes the connection,
     * and checks the answer was a 200 announcing {@code announced} bytes that ended short.
     */
    static void assertCutShort(InputStream in, ByteArrayOutputStream got, int announced) throws IOException {
        in.transferTo(got); // ends only because the server closes the connection
        String text = got.toString(StandardCharsets.ISO_8859_1);
        assertTrue(text.startsWith("HTTP/1.1 200"), text.substring(0, 100));
        assertTrue(text.contains("Content-Length: " + announced), text.substring(0, 400));
        int body = got.size() - (text.indexOf("\r\n\r\n") + 4);
        assertTrue(body < announced, "fewer bytes than announced, then the connection closed: " + body);
    }

    @Test
    void aShortBlobIsNeverServedAsComplete() throws Exception {
        try (TestRegistry r = new TestRegistry(dir)) {
            String repo = "damaged/blob";
            byte[] big = random(4 << 20);
            Digest bigDigest = r.pushBlob(repo, big);
            truncate(blobFile(dir, bigDigest), 1 << 20);

            // headers and the first megabyte went out: the connection is cut, not completed short
            try (Socket s = new Socket(InetAddress.getLoopbackAddress(), r.server.port())) {
                s.setSoTimeout(20_000);
                s.getOutputStream()
                        .write(("GET /v2/" + repo + "/blobs/" + bigDigest + " HTTP/1.1\r\nHost: localhost\r\n\r\n")
                                .getBytes(StandardCharsets.ISO_8859_1));
                assertCutShort(s.getInputStream(), new ByteArrayOutputStream(), big.length);
            }

            // a small one fails before any byte is sent: an honest error answer instead
            byte[] small = random(1000);
            Digest smallDigest = r.pushBlob(repo, small);
            truncate(blobFile(dir, smallDigest), 10);
            HttpResponse<byte[]> res = r.get("/v2/" + repo + "/blobs/" + smallDigest);
            assertEquals(503, res.statusCode());
            assertTrue(new String(res.body()).contains("UNAVAILABLE"), new String(res.body()));
            assertEquals(
                    Integer.toString(res.body().length),
                    res.headers().firstValue("Content-Length").orElseThrow());

            String metrics = new String(r.get("/metrics").body());
            assertTrue(metrics.contains("berth_blob_read_failures_total 2.0"), metrics);
            assertTrue(metrics.contains("berth_blobs_damaged 2.0"), metrics);
            String health = new String(r.get("/healthz").body());
            assertTrue(health.contains("status: degraded") && health.contains("blobs: 2 damaged"), health);
            assertTrue(health.contains(smallDigest.toString()), health);

            // pushing the same content again replaces the damaged file
            r.pushBlob(repo, big);
            r.pushBlob(repo, small);
            assertArrayEquals(big, r.get("/v2/" + repo + "/blobs/" + bigDigest).body());
            assertArrayEquals(
                    small, r.get("/v2/" + repo + "/blobs/" + smallDigest).body());
            assertTrue(new String(r.get("/healthz").body()).startsWith("status: ok"));
        }
    }

    @Test
    void aSmallBlobWithWrongBytesIsAnErrorNeverTheWrongBytes() throws Exception {
        try (TestRegistry r = new TestRegistry(dir)) {
            byte[] content = "a config of the right bytes".getBytes(StandardCharsets.UTF_8);
            Digest d = r.pushBlob("bitrot/config", content);
            Files.write(blobFile(dir, d), "a config of the WRONG bytes".getBytes(StandardCharsets.UTF_8));
            HttpResponse<byte[]> res = r.get("/v2/bitrot/config/blobs/" + d);
            assertEquals(503, res.statusCode());
            assertTrue(new String(res.body()).contains("UNAVAILABLE"), new String(res.body()));
            String health = new String(r.get("/healthz").body());
            assertTrue(health.contains("does not match its digest"), health);
            // a push of the right content mends it; from then on the right bytes, also from memory
            r.pushBlob("bitrot/config", content);
            assertArrayEquals(content, r.get("/v2/bitrot/config/blobs/" + d).body());
            assertArrayEquals(content, r.get("/v2/bitrot/config/blobs/" + d).body());
        }
    }

    @Test
    void aMissingBlobFileIsReportedAndANotFound() throws Exception {
        try (TestRegistry r = new TestRegistry(dir)) {
            Digest d = r.pushBlob("lost/file", "gone".getBytes(StandardCharsets.UTF_8));
            Files.delete(blobFile(dir, d));
            assertEquals(404, r.get("/v2/lost/file/blobs/" + d).statusCode());
            String health = new String(r.get("/healthz").body());
            assertTrue(health.contains("blobs: 1 damaged") && health.contains("missing"), health);
        }
    }
}
