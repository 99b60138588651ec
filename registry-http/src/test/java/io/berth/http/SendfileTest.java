package io.berth.http;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.berth.core.model.Digest;
import io.berth.http.helidon.HelidonFastPaths;
import io.berth.testsupport.TestPki;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.MessageDigest;
import java.security.cert.CertificateFactory;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code http.sendfile} (on by default): blob bodies sent with sendfile straight to the connection's
 * socket behind the headers Helidon wrote, checked on the wire — exact framing of GETs, ranges and
 * HEAD on one keep-alive connection, a reader slower than the socket (the wait after EAGAIN), a
 * client that vanishes mid-body, a file that shrinks mid-body, the key off, and TLS (never sendfile).
 */
class SendfileTest {
    @TempDir
    Path dir;

    /** One response read exactly as its head announces: status line, headers, and Content-Length bytes. */
    record Response(String status, Map<String, String> headers, byte[] body) {}

    static Response read(InputStream in, boolean head) throws IOException {
        ByteArrayOutputStream h = new ByteArrayOutputStream();
        int state = 0;
        while (state < 4) {
            int b = in.read();
            if (b < 0) {
                throw new IOException("connection ended in a response head");
            }
            h.write(b);
            state = (b == '\r' && (state == 0 || state == 2)) || (b == '\n' && (state == 1 || state == 3))
                    ? state + 1
                    : b == '\r' ? 1 : 0;
        }
        String[] lines = h.toString(StandardCharsets.ISO_8859_1).split("\r\n");
        Map<String, String> headers = new LinkedHashMap<>();
        for (int i = 1; i < lines.length; i++) {
            int colon = lines[i].indexOf(':');
            headers.put(
                    lines[i].substring(0, colon).toLowerCase(),
                    lines[i].substring(colon + 1).trim());
        }
        int length = head ? 0 : Integer.parseInt(headers.getOrDefault("content-length", "0"));
        byte[] body = in.readNBytes(length);
        assertEquals(length, body.length);
        return new Response(lines[0], headers, body);
    }

    static void write(OutputStream out, String request) throws IOException {
        out.write(request.getBytes(StandardCharsets.ISO_8859_1));
        out.flush();
    }

    static byte[] random(int n, long seed) {
        byte[] b = new byte[n];
        new Random(seed).nextBytes(b);
        return b;
    }

    /** The value of {@code berth_blob_sent_bytes_total{path="..."}} in {@code /metrics}. */
    static double sentBytes(TestRegistry r, String path) {
        return sentBytes(new String(r.get("/metrics").body(), StandardCharsets.UTF_8), path);
    }

    static double sentBytes(String metrics, String path) {
        return metric(metrics, "berth_blob_sent_bytes_total", path);
    }

    /** The value of the counter {@code name{path="..."}} in a {@code /metrics} text. */
    static double metric(String metrics, String name, String path) {
        Matcher m = Pattern.compile("(?m)^" + name + "\\{path=\"" + path + "\"\\} (\\S+)$")
                .matcher(metrics);
        assertTrue(m.find(), metrics);
        return Double.parseDouble(m.group(1));
    }

    static Socket connect(TestRegistry r, int receiveBuffer) throws IOException {
        Socket s = new Socket();
        if (receiveBuffer > 0) {
            s.setReceiveBufferSize(receiveBuffer); // before connecting: the window a slow client offers
        }
        s.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), r.port()));
        s.setSoTimeout(20_000);
        return s;
    }

    @Test
    void blobsGoWithSendfileAndAreFramedExactlyOnKeepAliveConnections() throws Exception {
        assertTrue(
                HelidonFastPaths.detect(true, true).sendfileOn(),
                "Helidon's socket internals changed: see io.berth.http.helidon.HelidonConnections");
        try (TestRegistry r = new TestRegistry(dir)) {
            byte[] content = random(3_000_000, 5);
            Digest d = r.pushBlob("sf/app", content);
            byte[] medium = random(100_000, 6); // just above the small-blob path
            Digest m = r.pushBlob("sf/app", medium);
            byte[] small = "small blob".getBytes(StandardCharsets.UTF_8);
            Digest s = r.pushBlob("sf/app", small);
            double before = sentBytes(r, "sendfile");
            try (Socket api = connect(r, 0)) {
                InputStream in = api.getInputStream();
                OutputStream out = api.getOutputStream();
                write(out, "GET /v2/sf/app/blobs/" + d + " HTTP/1.1\r\nHost: localhost\r\n\r\n");
                Response whole = read(in, false);
                assertEquals("HTTP/1.1 200 OK", whole.status());
                assertEquals(d.toString(), whole.headers().get("docker-content-digest"));
                assertEquals("3000000", whole.headers().get("content-length"));
                assertTrue(
                        !whole.headers().containsKey("transfer-encoding"),
                        whole.headers().toString());
                assertArrayEquals(content, whole.body());
                write(
                        out,
                        "GET /v2/sf/app/blobs/" + d + " HTTP/1.1\r\nHost: localhost\r\nRange: bytes=1000-1999\r\n\r\n");
                Response part = read(in, false);
                assertEquals("HTTP/1.1 206 Partial Content", part.status());
                assertEquals("bytes 1000-1999/3000000", part.headers().get("content-range"));
                assertArrayEquals(Arrays.copyOfRange(content, 1000, 2000), part.body());
                write(
                        out,
                        "GET /v2/sf/app/blobs/" + d + " HTTP/1.1\r\nHost: localhost\r\nRange: bytes=-500000\r\n\r\n");
                Response tail = read(in, false);
                assertEquals("bytes 2500000-2999999/3000000", tail.headers().get("content-range"));
                assertArrayEquals(Arrays.copyOfRange(content, 2_500_000, 3_000_000), tail.body());
                write(out, "HEAD /v2/sf/app/blobs/" + d + " HTTP/1.1\r\nHost: localhost\r\n\r\n");
                Response head = read(in, true);
                assertEquals("HTTP/1.1 200 OK", head.status());
                assertEquals("3000000", head.headers().get("content-length"));
                write(out, "GET /v2/sf/app/blobs/" + m + " HTTP/1.1\r\nHost: localhost\r\n\r\n");
                assertArrayEquals(medium, read(in, false).body());
                write(out, "GET /v2/sf/app/blobs/" + s + " HTTP/1.1\r\nHost: localhost\r\n\r\n");
                assertArrayEquals(small, read(in, false).body());
                write(
                        out,
                        "GET /v2/sf/app/blobs/" + d + " HTTP/1.1\r\nHost: localhost\r\nRange: bytes=4000000-\r\n\r\n");
                assertEquals(
                        "HTTP/1.1 416 Requested Range Not Satisfiable",
                        read(in, false).status());
                write(out, "GET /v2/other/repo/blobs/" + d + " HTTP/1.1\r\nHost: localhost\r\n\r\n");
                assertTrue(read(in, false).status().startsWith("HTTP/1.1 404"));
                // two requests written at once (pipelined): the second answer follows the first body
                write(
                        out,
                        "GET /v2/sf/app/blobs/" + d + " HTTP/1.1\r\nHost: localhost\r\n\r\n" + "GET /v2/sf/app/blobs/"
                                + m + " HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
                assertArrayEquals(content, read(in, false).body());
                assertArrayEquals(medium, read(in, false).body());
                assertEquals(-1, in.read(), "closed as asked, nothing after the last body");
            }
            // every body of the big and the medium blob went the zero-copy way
            assertEquals(before + 2 * 3_000_000 + 1000 + 500_000 + 2 * 100_000, sentBytes(r, "sendfile"));
        }
    }

    @Test
    void aReaderSlowerThanTheSocketGetsEveryByte() throws Exception {
        try (TestRegistry r = new TestRegistry(dir)) {
            byte[] content = random(8 << 20, 7);
            Digest d = r.pushBlob("sf/slow", content);
            for (int round = 0; round < 2; round++) {
                try (Socket slow = connect(r, 4096)) {
                    write(
                            slow.getOutputStream(),
                            "GET /v2/sf/slow/blobs/" + d + " HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
                    InputStream in = slow.getInputStream();
                    // the server's socket buffer fills while this sleeps: sendfile meets EAGAIN and waits
                    Thread.sleep(300);
                    byte[] chunk = new byte[4096];
                    ByteArrayOutputStream got = new ByteArrayOutputStream();
                    for (int i = 0; i < 64; i++) {
                        int n = in.read(chunk);
                        got.write(chunk, 0, n);
                        Thread.sleep(2);
                    }
                    in.transferTo(got);
                    byte[] all = got.toByteArray();
                    String text = new String(all, 0, 2000, StandardCharsets.ISO_8859_1);
                    int start = text.indexOf("\r\n\r\n") + 4;
                    assertTrue(text.startsWith("HTTP/1.1 200 OK"), text);
                    assertEquals(content.length, all.length - start, "exactly the blob after the head");
                    assertEquals(
                            d.hex(),
                            HexFormat.of()
                                    .formatHex(MessageDigest.getInstance("SHA-256")
                                            .digest(Arrays.copyOfRange(all, start, all.length))));
                }
            }
        }
    }

    @Test
    void aClientThatVanishesMidBodyIsAnAbortAndTheServerGoesOn() throws Exception {
        for (String sendfile : new String[] {"true", "false"}) {
            try (TestRegistry r = new TestRegistry(dir.resolve(sendfile), Map.of("http.sendfile", sendfile))) {
                byte[] content = random(32 << 20, 8);
                Digest d = r.pushBlob("sf/gone", content);
                try (Socket gone = connect(r, 4096)) {
                    write(
                            gone.getOutputStream(),
                            "GET /v2/sf/gone/blobs/" + d + " HTTP/1.1\r\nHost: localhost\r\n\r\n");
                    gone.getInputStream().readNBytes(100_000);
                    gone.setSoLinger(true, 0); // reset, as a killed client does
                }
                long deadline = System.currentTimeMillis() + 20_000;
                String metrics;
                do {
                    Thread.sleep(100);
                    metrics = new String(r.get("/metrics").body(), StandardCharsets.UTF_8);
                } while (!metrics.contains("status=\"499\"") && System.currentTimeMillis() < deadline);
                assertTrue(
                        metrics.contains("route=\"/v2/{name}/blobs/{digest}\",status=\"499\""),
                        "counted as a client abort (http.sendfile=" + sendfile + "): " + metrics);
                assertArrayEquals(content, r.get("/v2/sf/gone/blobs/" + d).body());
            }
        }
    }

    @Test
    void aFileThatShrinksMidBodyCutsTheConnection() throws Exception {
        try (TestRegistry r = new TestRegistry(dir)) {
            byte[] content = random(32 << 20, 9);
            Digest d = r.pushBlob("sf/shrinks", content);
            try (Socket s = connect(r, 4096)) {
                write(s.getOutputStream(), "GET /v2/sf/shrinks/blobs/" + d + " HTTP/1.1\r\nHost: localhost\r\n\r\n");
                InputStream in = s.getInputStream();
                ByteArrayOutputStream got = new ByteArrayOutputStream();
                got.write(in.readNBytes(100_000));
                DamagedBlobTest.truncate(DamagedBlobTest.blobFile(dir, d), 1 << 20);
                DamagedBlobTest.assertCutShort(in, got, content.length);
            }
            String metrics = new String(r.get("/metrics").body(), StandardCharsets.UTF_8);
            assertTrue(metrics.contains("berth_blob_read_failures_total 1.0"), metrics);
        }
    }

    @Test
    void offTheBodiesAreCopied() throws Exception {
        try (TestRegistry r = new TestRegistry(dir, Map.of("http.sendfile", "false"))) {
            byte[] content = random(1_000_000, 10);
            Digest d = r.pushBlob("sf/off", content);
            try (Socket api = connect(r, 0)) {
                write(api.getOutputStream(), "GET /v2/sf/off/blobs/" + d + " HTTP/1.1\r\nHost: localhost\r\n\r\n");
                assertArrayEquals(content, read(api.getInputStream(), false).body());
            }
            assertEquals(0.0, sentBytes(r, "sendfile"));
            assertEquals(1_000_000.0, sentBytes(r, "copy"));
        }
    }

    @Test
    void withTlsTheBodiesAreEncryptedNotSentFromTheFile() throws Exception {
        byte[] content = random(1_000_000, 11);
        Digest d;
        try (TestRegistry plain = new TestRegistry(dir)) {
            d = plain.pushBlob("sf/tls", content);
        }
        TestPki pki = TestPki.create(dir.resolve("pki"));
        pki.server("server", "1001");
        try (TestRegistry r = new TestRegistry(
                dir,
                Map.of(
                        "http.tls.cert",
                        pki.cert("server").toString(),
                        "http.tls.key",
                        pki.key("server").toString()))) {
            KeyStore trust = KeyStore.getInstance(KeyStore.getDefaultType());
            trust.load(null, null);
            try (InputStream ca = Files.newInputStream(pki.ca())) {
                trust.setCertificateEntry(
                        "ca", CertificateFactory.getInstance("X.509").generateCertificate(ca));
            }
            TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            tmf.init(trust);
            SSLContext ssl = SSLContext.getInstance("TLS");
            ssl.init(null, tmf.getTrustManagers(), null);
            try (SSLSocket tls =
                    (SSLSocket) ssl.getSocketFactory().createSocket(InetAddress.getLoopbackAddress(), r.port())) {
                tls.setSoTimeout(20_000);
                write(tls.getOutputStream(), "GET /v2/sf/tls/blobs/" + d + " HTTP/1.1\r\nHost: localhost\r\n\r\n");
                assertArrayEquals(content, read(tls.getInputStream(), false).body());
                write(tls.getOutputStream(), "HEAD /v2/sf/tls/blobs/" + d + " HTTP/1.1\r\nHost: localhost\r\n\r\n");
                assertEquals(
                        "1000000", read(tls.getInputStream(), true).headers().get("content-length"));
                write(tls.getOutputStream(), "GET /metrics HTTP/1.1\r\nHost: localhost\r\n\r\n");
                String metrics = new String(read(tls.getInputStream(), false).body(), StandardCharsets.UTF_8);
                assertEquals(0.0, sentBytes(metrics, "sendfile"));
                assertEquals(1_000_000.0, sentBytes(metrics, "copy"));
            }
        }
    }
}
