package io.berth.http;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.berth.core.model.Digest;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.Random;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code http.socket-reads} (on by default): upload bodies of 1 MiB or more with a Content-Length
 * are read from the socket straight into storage's buffers ({@code SocketEntity}), checked on the
 * wire — the body ends exactly where its length says, so a request pipelined behind it is answered
 * on the same connection; chunked bodies (their framing through Helidon's reader, however the
 * bytes are split, their data from the socket, the last chunk left to Helidon), broken framing;
 * {@code Expect: 100-continue}; chunks at unaligned offsets; a client that vanishes or stalls
 * mid-body leaves only acknowledged bytes; small bodies and (with the key off) all bodies go
 * through Helidon's reader.
 */
class SocketBodyTest {
    @TempDir
    Path dir;

    static double received(TestRegistry r, String path) {
        return SendfileTest.metric(
                new String(r.get("/metrics").body(), StandardCharsets.UTF_8),
                "berth_upload_received_bytes_total",
                path);
    }

    /** A request head announcing {@code length} body bytes, as ISO-8859-1 bytes. */
    static byte[] head(String method, String path, long length, String... headers) {
        StringBuilder b = new StringBuilder(method)
                .append(' ')
                .append(path)
                .append(" HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/octet-stream\r\n");
        for (int i = 0; i < headers.length; i += 2) {
            b.append(headers[i]).append(": ").append(headers[i + 1]).append("\r\n");
        }
        return b.append("Content-Length: ")
                .append(length)
                .append("\r\n\r\n")
                .toString()
                .getBytes(StandardCharsets.ISO_8859_1);
    }

    static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            out.writeBytes(p);
        }
        return out.toByteArray();
    }

    static String start(WireClient c, String repo) throws IOException {
        WireClient.Response started = c.exchange("POST", "/v2/" + repo + "/blobs/uploads/", null);
        assertEquals(202, started.status(), started.toString());
        return started.header("location");
    }

    @Test
    void largeBodiesComeFromTheSocketAndEndExactlyWhereTheirLengthSays() throws Exception {
        try (TestRegistry r = new TestRegistry(dir)) {
            byte[] first = SendfileTest.random(3 * 1024 * 1024 + 1234, 1);
            byte[] second = SendfileTest.random(2 * 1024 * 1024 + 7, 2);
            double before = received(r, "socket");
            try (WireClient c = new WireClient(r.port())) {
                String location = start(c, "sb/pipelined");
                // the body and a request behind it, in one write: the server must stop reading at the body's end
                c.sendRaw(new String(
                        concat(
                                head("PATCH", location, first.length),
                                first,
                                "GET /v2/ HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1)),
                        StandardCharsets.ISO_8859_1));
                WireClient.Response patched = c.read("PATCH");
                assertEquals(202, patched.status(), patched.toString());
                assertEquals("0-" + (first.length - 1), patched.header("range"));
                assertEquals(200, c.read("GET").status(), "the pipelined request, answered on the same connection");
                // a second chunk starts off a block boundary
                c.sendRaw(new String(
                        concat(
                                head(
                                        "PATCH",
                                        patched.header("location"),
                                        second.length,
                                        "Content-Range",
                                        first.length + "-" + (first.length + second.length - 1)),
                                second),
                        StandardCharsets.ISO_8859_1));
                WireClient.Response again = c.read("PATCH");
                assertEquals(202, again.status(), again.toString());
                Digest digest = TestRegistry.sha256(concat(first, second));
                WireClient.Response done = c.exchange("PUT", again.header("location") + "?digest=" + digest, null);
                assertEquals(201, done.status(), done.toString());
                assertArrayEquals(
                        concat(first, second),
                        r.get("/v2/sb/pipelined/blobs/" + digest).body());
            }
            assertEquals(before + 5 * 1024 * 1024 + 1241, received(r, "socket"));
        }
    }

    /** {@code data} in chunks of the given sizes (cycled), the last chunk and the empty line after it. */
    static byte[] chunked(byte[] data, int... sizes) {
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        int i = 0;
        for (int at = 0; at < data.length; i++) {
            int n = Math.min(sizes[i % sizes.length], data.length - at);
            String size = i % 3 == 1 ? "00" + Integer.toHexString(n).toUpperCase() : Integer.toHexString(n);
            body.writeBytes((size + "\r\n").getBytes(StandardCharsets.ISO_8859_1));
            body.write(data, at, n);
            body.writeBytes("\r\n".getBytes(StandardCharsets.ISO_8859_1));
            at += n;
        }
        body.writeBytes("0\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1));
        return body.toByteArray();
    }

    static byte[] chunkedHead(String method, String path) {
        return (method + " " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n")
                .getBytes(StandardCharsets.ISO_8859_1);
    }

    @Test
    void chunkedBodiesComeFromTheSocketAndEndAtTheirLastChunk() throws Exception {
        try (TestRegistry r = new TestRegistry(dir)) {
            byte[] blob = SendfileTest.random(3 * 1024 * 1024 + 17, 8);
            byte[] body = chunked(blob, 32 * 1024, 1, 300_000, 7, 1024 * 1024 + 3);
            try (WireClient c = new WireClient(r.port())) {
                String location = start(c, "sb/chunked");
                // the whole body and a request behind it in one write
                c.sendRaw(new String(
                        concat(chunkedHead("PATCH", location), Arrays.copyOf(body, 1 << 20)),
                        StandardCharsets.ISO_8859_1));
                // the rest in small pieces, so chunk-size lines and CRLFs straddle the server's reads
                Random cut = new Random(9);
                for (int at = 1 << 20; at < body.length; ) {
                    int n = Math.min(body.length - at, 1 + cut.nextInt(at < (1 << 20) + 200_000 ? 40 : 400_000));
                    c.sendRaw(new String(body, at, n, StandardCharsets.ISO_8859_1));
                    at += n;
                }
                c.sendRaw("GET /v2/ HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
                WireClient.Response patched = c.read("PATCH");
                assertEquals(202, patched.status(), patched.toString());
                assertEquals("0-" + (blob.length - 1), patched.header("range"));
                assertEquals(200, c.read("GET").status(), "the pipelined request, answered on the same connection");
                Digest digest = TestRegistry.sha256(blob);
                WireClient.Response done = c.exchange("PUT", patched.header("location") + "?digest=" + digest, null);
                assertEquals(201, done.status(), done.toString());
                assertArrayEquals(blob, r.get("/v2/sb/chunked/blobs/" + digest).body());
            }
            assertEquals(blob.length, received(r, "socket"));
        }
    }

    @Test
    void brokenChunkedFramingKeepsNothingOfTheChunk() throws Exception {
        try (TestRegistry r = new TestRegistry(dir)) {
            byte[] blob = SendfileTest.random(200_000, 10);
            String location;
            try (WireClient c = new WireClient(r.port())) {
                location = start(c, "sb/broken");
            }
            byte[] good = chunked(blob, 50_000);
            int head = "c350\r\n".length(); // the first chunk's size line (50 000 bytes)
            int next = head + 50_000 + 2; // where the second chunk's size line "00C350" starts
            Function<String, byte[]> secondLine = line -> concat(
                    Arrays.copyOf(good, next),
                    line.getBytes(StandardCharsets.US_ASCII),
                    Arrays.copyOfRange(good, next + "00C350\r\n".length(), good.length));
            // as Helidon's chunked reader refuses them: not hex, an extension, a bare LF, a minus sign
            for (byte[] broken : new byte[][] {
                secondLine.apply("zz\r\n"),
                secondLine.apply("c350;x=y\r\n"),
                secondLine.apply("c350\n"),
                secondLine.apply("-c350\r\n")
            }) {
                try (WireClient c = new WireClient(r.port())) {
                    // the server may close while the rest of the body is still being sent
                    c.sendRawUntilClosed(
                            new String(concat(chunkedHead("PATCH", location), broken), StandardCharsets.ISO_8859_1));
                    assertTrue(c.closedWithin(15_000), "the connection is closed after broken framing");
                }
                try (WireClient c = new WireClient(r.port())) {
                    WireClient.Response status = c.exchange("GET", location, null);
                    assertEquals(204, status.status(), status.toString());
                    assertEquals("0-0", status.header("range"), "nothing of the broken chunk was kept");
                }
            }
            try (WireClient c = new WireClient(r.port())) {
                c.sendRaw(new String(concat(chunkedHead("PATCH", location), good), StandardCharsets.ISO_8859_1));
                WireClient.Response patched = c.read("PATCH");
                assertEquals(202, patched.status(), patched.toString());
                assertEquals("0-" + (blob.length - 1), patched.header("range"));
            }
        }
    }

    /**
     * Chunk-size lines as Helidon's own chunked reader takes them: any number of leading zeros (also
     * on the last chunk), hex of either case, an optional plus sign.
     */
    @Test
    void chunkSizeLinesAreTakenExactlyAsHelidonTakesThem() throws Exception {
        try (TestRegistry r = new TestRegistry(dir)) {
            byte[] blob = SendfileTest.random(1024 * 1024 + 100_000, 11);
            String body = new String(blob, StandardCharsets.ISO_8859_1);
            String framed = "0000000000000000100000\r\n" + body.substring(0, 1 << 20) + "\r\n" + "+186A0\r\n"
                    + body.substring(1 << 20) + "\r\n" + "000\r\n\r\n";
            try (WireClient c = new WireClient(r.port())) {
                String location = start(c, "sb/lines");
                c.sendRaw("PATCH " + location + " HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n"
                        + framed + "GET /v2/ HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
                WireClient.Response patched = c.read("PATCH");
                assertEquals(202, patched.status(), patched.toString());
                assertEquals("0-" + (blob.length - 1), patched.header("range"));
                assertEquals(200, c.read("GET").status(), "the pipelined request, answered on the same connection");
            }
            assertEquals(blob.length, received(r, "socket"));
        }
    }

    /** A chunk size Helidon refuses (2^31 or more) is refused at once, not waited for. */
    @Test
    void aChunkSizeHelidonRefusesIsRefusedAtOnce() throws Exception {
        try (TestRegistry r = new TestRegistry(dir)) {
            for (String size : new String[] {"80000000", "100000000"}) {
                try (WireClient c = new WireClient(r.port())) {
                    String location = start(c, "sb/huge");
                    c.sendRaw("PATCH " + location + " HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n"
                            + size + "\r\n" + "x".repeat(1000));
                    WireClient.Response refused = c.read("PATCH");
                    assertEquals(400, refused.status(), refused.toString());
                    assertTrue(c.closedWithin(5_000), "the connection is closed after broken framing");
                }
            }
        }
    }

    @Test
    void aMonolithicPushAndExpectContinueWork() throws Exception {
        try (TestRegistry r = new TestRegistry(dir)) {
            byte[] blob = SendfileTest.random(2 * 1024 * 1024 + 99, 3);
            Digest digest = TestRegistry.sha256(blob);
            try (WireClient c = new WireClient(r.port())) {
                c.sendRaw(new String(
                        head(
                                "POST",
                                "/v2/sb/continue/blobs/uploads/?digest=" + digest,
                                blob.length,
                                "Expect",
                                "100-continue"),
                        StandardCharsets.ISO_8859_1));
                assertEquals(100, c.read("POST").status(), "100 Continue before the body is sent");
                c.sendRaw(new String(blob, StandardCharsets.ISO_8859_1));
                WireClient.Response created = c.read("POST");
                assertEquals(201, created.status(), created.toString());
                assertEquals(digest.toString(), created.header("docker-content-digest"));
                assertEquals(200, c.exchange("GET", "/v2/", null).status(), "the connection goes on");
            }
            assertEquals(blob.length, received(r, "socket"));
            assertArrayEquals(blob, r.get("/v2/sb/continue/blobs/" + digest).body());
        }
    }

    @Test
    void aClientThatVanishesOrStallsMidBodyLeavesOnlyAcknowledgedBytes() throws Exception {
        try (TestRegistry r = new TestRegistry(dir, Map.of("http.read-timeout", "1s"))) {
            byte[] blob = SendfileTest.random(6 * 1024 * 1024, 4);
            int acknowledged = 1024 * 1024 + 1;
            String location;
            try (WireClient c = new WireClient(r.port())) {
                location = start(c, "sb/gone");
                c.sendRaw(new String(
                        concat(head("PATCH", location, acknowledged), Arrays.copyOf(blob, acknowledged)),
                        StandardCharsets.ISO_8859_1));
                WireClient.Response ok = c.read("PATCH");
                assertEquals(202, ok.status(), ok.toString());
                location = ok.header("location");
            }
            String rest = "Content-Range";
            String range = acknowledged + "-" + (blob.length - 1);
            // vanishes: 1.5 MiB of the 5 MiB it announced, then a reset
            try (Socket gone = SendfileTest.connect(r, 0)) {
                gone.getOutputStream()
                        .write(concat(
                                head("PATCH", location, blob.length - acknowledged, rest, range),
                                Arrays.copyOfRange(blob, acknowledged, acknowledged + 1536 * 1024)));
                gone.getOutputStream().flush();
                Thread.sleep(200);
                gone.setSoLinger(true, 0);
            }
            // stalls: 1.5 MiB, then nothing until http.read-timeout cuts it
            try (WireClient stalled = new WireClient(r.port())) {
                stalled.sendRaw(new String(
                        concat(
                                head("PATCH", location, blob.length - acknowledged, rest, range),
                                Arrays.copyOfRange(blob, acknowledged, acknowledged + 1536 * 1024)),
                        StandardCharsets.ISO_8859_1));
                assertTrue(stalled.closedWithin(15_000), "a stalled body is cut");
            }
            try (WireClient c = new WireClient(r.port())) {
                WireClient.Response status = c.exchange("GET", location, null);
                assertEquals(204, status.status(), status.toString());
                assertEquals("0-" + (acknowledged - 1), status.header("range"), "only acknowledged bytes");
                c.sendRaw(new String(
                        concat(
                                head("PATCH", location, blob.length - acknowledged, rest, range),
                                Arrays.copyOfRange(blob, acknowledged, blob.length)),
                        StandardCharsets.ISO_8859_1));
                WireClient.Response patched = c.read("PATCH");
                assertEquals(202, patched.status(), patched.toString());
                Digest digest = TestRegistry.sha256(blob);
                assertEquals(
                        201,
                        c.exchange("PUT", patched.header("location") + "?digest=" + digest, null)
                                .status());
                assertArrayEquals(blob, r.get("/v2/sb/gone/blobs/" + digest).body());
            }
        }
    }

    @Test
    void smallBodiesAndAllBodiesWithTheKeyOffGoThroughTheStream() throws Exception {
        for (String on : new String[] {"true", "false"}) {
            try (TestRegistry r = new TestRegistry(dir.resolve(on), Map.of("http.socket-reads", on))) {
                byte[] small = SendfileTest.random(100_000, 5);
                byte[] large = SendfileTest.random(2 * 1024 * 1024, 6);
                byte[] chunked = SendfileTest.random(2 * 1024 * 1024 + 3, 7);
                try (WireClient c = new WireClient(r.port())) {
                    for (byte[] blob : new byte[][] {small, large}) {
                        Digest d = TestRegistry.sha256(blob);
                        WireClient.Response res = c.exchange("POST", "/v2/sb/paths/blobs/uploads/?digest=" + d, blob);
                        assertEquals(201, res.status(), res.toString());
                    }
                    String location = start(c, "sb/paths");
                    ByteArrayOutputStream body = new ByteArrayOutputStream();
                    for (int at = 0; at < chunked.length; at += 300_000) {
                        int n = Math.min(300_000, chunked.length - at);
                        body.writeBytes((Integer.toHexString(n) + "\r\n").getBytes(StandardCharsets.ISO_8859_1));
                        body.write(chunked, at, n);
                        body.writeBytes("\r\n".getBytes(StandardCharsets.ISO_8859_1));
                    }
                    body.writeBytes("0\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1));
                    c.sendRaw("PATCH " + location + " HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n"
                            + body.toString(StandardCharsets.ISO_8859_1));
                    WireClient.Response patched = c.read("PATCH");
                    assertEquals(202, patched.status(), patched.toString());
                    Digest d = TestRegistry.sha256(chunked);
                    assertEquals(
                            201,
                            c.exchange("PUT", patched.header("location") + "?digest=" + d, null)
                                    .status());
                }
                long all = small.length + large.length + chunked.length;
                if (on.equals("true")) {
                    assertEquals(large.length + chunked.length, received(r, "socket"));
                    assertEquals(small.length, received(r, "stream"));
                } else {
                    assertEquals(0, received(r, "socket"));
                    assertEquals(all, received(r, "stream"));
                }
                assertArrayEquals(
                        large,
                        r.get("/v2/sb/paths/blobs/" + TestRegistry.sha256(large))
                                .body());
            }
        }
    }
}
