package io.berth.launcher.process;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.berth.core.model.Digest;
import io.berth.core.model.DigestAlgorithm;
import io.berth.http.WireClient;
import java.net.InetAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The reproduction from the review, as a process with the default 160 MiB heap: one client opens 150 uploads
 * and sends 1 KB of each PATCH body, then waits. The server must stay healthy (no
 * OutOfMemoryError, the metadata writer intact, the listener accepting) and another client's push
 * must succeed; the stalled bodies are cut off after the read timeout.
 */
@Tag("process")
class AbuseProcessTest {
    @TempDir
    Path dir;

    @Test
    void oneClientWithHundredsOfStalledUploadsCannotHurtTheOthers() throws Exception {
        try (BerthProcess b = BerthProcess.start(
                dir, List.of("-Xmx160m"), Map.of("BERTH_HTTP_READ_TIMEOUT", "5s", "BERTH_HTTP_ACCESS_LOG", "false"))) {
            HttpClient attackerHttp = HttpClient.newBuilder()
                    .localAddress(InetAddress.getByName("127.0.0.2"))
                    .build();
            List<WireClient> stalled = new ArrayList<>();
            int refused = 0;
            try {
                for (int i = 0; i < 150; i++) {
                    HttpResponse<Void> start = attackerHttp.send(
                            HttpRequest.newBuilder(URI.create(b.base() + "/v2/abuse/a/blobs/uploads/"))
                                    .POST(HttpRequest.BodyPublishers.noBody())
                                    .build(),
                            HttpResponse.BodyHandlers.discarding());
                    assertEquals(202, start.statusCode());
                    WireClient c = new WireClient(b.httpPort, "127.0.0.2");
                    stalled.add(c);
                    c.startBody(
                            "PATCH", start.headers().firstValue("Location").orElseThrow(), 64L << 20, new byte[1024]);
                }
                // the client gets 429 for everything beyond its share and the idle room it may borrow (up to
                // 128 - max(16, 128 / 4) = 96 at once: the reserve stays for others), at once (and the
                // connection closes after a short lingering read)
                Thread.sleep(3000);
                for (WireClient c : stalled) {
                    if (!c.closedWithin(10)) {
                        continue;
                    }
                    refused++;
                }
                assertTrue(refused >= 150 - 96, "refused beyond the share and the borrowed room: " + refused);

                // meanwhile another client pushes a 20 MiB blob and reads it back
                HttpClient other = HttpClient.newBuilder()
                        .localAddress(InetAddress.getByName("127.0.0.3"))
                        .build();
                byte[] blob = new byte[20 << 20];
                new Random(5).nextBytes(blob);
                Digest d = Digest.compute(DigestAlgorithm.SHA256, blob);
                HttpResponse<String> push = other.send(
                        HttpRequest.newBuilder(URI.create(b.base() + "/v2/abuse/b/blobs/uploads/?digest=" + d))
                                .POST(HttpRequest.BodyPublishers.ofByteArray(blob))
                                .build(),
                        HttpResponse.BodyHandlers.ofString());
                assertEquals(201, push.statusCode(), push.body());
                HttpResponse<byte[]> pull = other.send(
                        HttpRequest.newBuilder(URI.create(b.base() + "/v2/abuse/b/blobs/" + d))
                                .build(),
                        HttpResponse.BodyHandlers.ofByteArray());
                assertEquals(d, Digest.compute(DigestAlgorithm.SHA256, pull.body()));
                assertEquals(
                        200,
                        other.send(
                                        HttpRequest.newBuilder(URI.create(b.base() + "/readyz"))
                                                .build(),
                                        HttpResponse.BodyHandlers.discarding())
                                .statusCode());
                // the stalled ones are cut off by the read timeout
                for (WireClient c : stalled) {
                    assertTrue(c.closedWithin(30_000), "stalled body aborted");
                }
            } finally {
                for (WireClient c : stalled) {
                    c.close();
                }
            }
            String out = b.output();
            assertFalse(out.contains("OutOfMemoryError"), out);
            assertFalse(out.contains("no transaction is active"), out);
            assertFalse(out.contains("SEVERE"), out);
            assertEquals(0, b.terminate());
        }
    }
}
