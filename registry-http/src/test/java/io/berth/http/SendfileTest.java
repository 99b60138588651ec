package io.berth.http;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.berth.core.model.Digest;
import io.berth.testsupport.MutableClock;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code http.sendfile}: blob GETs redirected to the zero-copy listener, checked on the wire — exact
 * framing of GET, ranged GET and HEAD on one keep-alive connection, signatures bound to the digest
 * and a minute, the size threshold, the connection limit, and an ordinary client following the 307.
 */
class SendfileTest {
    @TempDir
    Path dir;

    /** One response read exactly as its head announces: status line, headers, and Content-Length bytes. */
    record Response(String status, Map<String, String> headers, byte[] body) {
    }

    static Response read(InputStream in, boolean head) throws IOException {
        ByteArrayOutputStream h = new ByteArrayOutputStream();
        int state = 0;
        while (state < 4) {
            int b = in.read();
            if (b < 0) {
                throw new IOException("connection ended in a response head");
            }
            h.write(b);
            state = (b == '\r' && (state == 0 || state == 2)) || (b == '\n' && (state == 1 || state == 3)) ? state + 1
                    : b == '\r' ? 1 : 0;
        }
        String[] lines = h.toString(StandardCharsets.ISO_8859_1).split("\r\n");
        Map<String, String> headers = new LinkedHashMap<>();
        for (int i = 1; i < lines.length; i++) {
            int colon = lines[i].indexOf(':');
            headers.put(lines[i].substring(0, colon).toLowerCase(), lines[i].substring(colon + 1).trim());
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

    @Test
    void largeBlobsAreRedirectedAndSentExactlyOnKeepAliveConnections() throws Exception {
        try (TestRegistry r = new TestRegistry(dir, Map.of("http.sendfile", "true", "http.sendfile-min-size", "4KiB"))) {
            byte[] content = new byte[300_000];
            new Random(5).nextBytes(content);
            Digest d = r.pushBlob("sf/app", content);
            byte[] small = "small blob".getBytes(StandardCharsets.UTF_8);
            Digest s = r.pushBlob("sf/app", small);
            int sendfilePort = r.server.sendfilePort().orElseThrow();
            String location;
            try (Socket api = new Socket(InetAddress.getLoopbackAddress(), r.port())) {
                api.setSoTimeout(10_000);
                write(api.getOutputStream(), "GET /v2/sf/app/blobs/" + d + " HTTP/1.1\r\nHost: 127.0.0.1:" + r.port()
                        + "\r\n\r\n");
                Response redirect = read(api.getInputStream(), false);
                assertEquals("HTTP/1.1 307 Temporary Redirect", redirect.status());
                assertEquals(d.toString(), redirect.headers().get("docker-content-digest"));
                location = redirect.headers().get("location");
                assertTrue(location.startsWith("http://127.0.0.1:" + sendfilePort + "/blobs/" + d + "?e="), location);
                // HEAD and small blobs are answered by the API port itself
                write(api.getOutputStream(), "HEAD /v2/sf/app/blobs/" + d + " HTTP/1.1\r\nHost: x\r\n\r\n");
                Response head = read(api.getInputStream(), true);
                assertEquals("HTTP/1.1 200 OK", head.status());
                write(api.getOutputStream(), "GET /v2/sf/app/blobs/" + s + " HTTP/1.1\r\nHost: x\r\n\r\n");
                assertArrayEquals(small, read(api.getInputStream(), false).body());
                // a blob not in the repository is never redirected
                write(api.getOutputStream(), "GET /v2/other/repo/blobs/" + d + " HTTP/1.1\r\nHost: x\r\n\r\n");
                assertTrue(read(api.getInputStream(), false).status().startsWith("HTTP/1.1 404"));
            }
            String target = location.substring(location.indexOf("/blobs/"));
            try (Socket fast = new Socket(InetAddress.getLoopbackAddress(), sendfilePort)) {
                fast.setSoTimeout(10_000);
                InputStream in = fast.getInputStream();
                OutputStream out = fast.getOutputStream();
                write(out, "GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
                Response whole = read(in, false);
                assertEquals("HTTP/1.1 200 OK", whole.status());
                assertEquals(d.toString(), whole.headers().get("docker-content-digest"));
                assertArrayEquals(content, whole.body());
                write(out, "GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nRange: bytes=1000-1999\r\n\r\n");
                Response part = read(in, false);
                assertEquals("HTTP/1.1 206 Partial Content", part.status());
                assertEquals("bytes 1000-1999/300000", part.headers().get("content-range"));
                assertArrayEquals(java.util.Arrays.copyOfRange(content, 1000, 2000), part.body());
                write(out, "HEAD " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
                Response head = read(in, true);
                assertEquals("300000", head.headers().get("content-length"));
                write(out, "GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nRange: bytes=400000-\r\n\r\n");
                assertEquals("HTTP/1.1 416 Range Not Satisfiable", read(in, false).status());
                // a changed digest or signature is refused, with an OCI body
                String forged = target.replace(d.hex().substring(0, 8), "00000000");
                write(out, "GET " + forged + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
                Response refused = read(in, false);
                assertEquals("HTTP/1.1 403 Forbidden", refused.status());
                assertTrue(new String(refused.body(), StandardCharsets.UTF_8).contains("\"DENIED\""));
                // and the connection still serves
                write(out, "GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
                assertArrayEquals(content, read(in, false).body());
                assertEquals(-1, in.read(), "closed as asked");
            }
            // an ordinary client follows the redirect
            HttpResponse<byte[]> followed = HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NORMAL).build()
                    .send(HttpRequest.newBuilder(r.uri("/v2/sf/app/blobs/" + d)).build(),
                            HttpResponse.BodyHandlers.ofByteArray());
            assertEquals(200, followed.statusCode());
            assertArrayEquals(content, followed.body());
        }
    }

    @Test
    void signaturesExpireAndConnectionsAreLimited() throws Exception {
        try (TestRegistry r = new TestRegistry(dir)) {
            byte[] content = "expiring".getBytes(StandardCharsets.UTF_8);
            Digest d = r.pushBlob("sf/app", content);
            MutableClock clock = new MutableClock(Instant.now());
            try (SendfileListener l = new SendfileListener(r.registry, "127.0.0.1", 0, 1, clock)) {
                String path = l.signedPath(d);
                assertEquals(d, l.verify(path).orElseThrow());
                clock.advance(Duration.ofSeconds(61));
                assertTrue(l.verify(path).isEmpty(), "a minute later the link is dead");
                assertTrue(l.verify(path.replace("e=", "e=9")).isEmpty(), "a later expiry breaks the signature");
                // one connection at a time: a second one is closed at once
                try (Socket first = new Socket(InetAddress.getLoopbackAddress(), l.port());
                     Socket second = new Socket(InetAddress.getLoopbackAddress(), l.port())) {
                    second.setSoTimeout(5_000);
                    assertEquals(-1, second.getInputStream().read());
                    first.setSoTimeout(5_000);
                    write(first.getOutputStream(), "GET " + path + " HTTP/1.1\r\nHost: x\r\n\r\n");
                    assertEquals("HTTP/1.1 403 Forbidden", read(first.getInputStream(), false).status());
                }
            }
        }
    }
}
