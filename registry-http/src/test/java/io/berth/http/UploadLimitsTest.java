package io.berth.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.berth.core.model.Digest;
import java.io.IOException;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * One client must not hurt the others: caps on concurrent upload bodies (per client address and in
 * all) and on open sessions per client answer 429 with Retry-After at once; a body that stalls is
 * aborted after http.read-timeout and its upload keeps only acknowledged bytes; a client that
 * vanishes mid-PATCH is counted as 499, not as a server error. Client addresses are told apart by
 * binding to different loopback addresses (127.0.0.2, 127.0.0.3, …).
 */
class UploadLimitsTest {
    static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    static String location(TestRegistry r, String repo) {
        HttpResponse<byte[]> res = r.send("POST", "/v2/" + repo + "/blobs/uploads/", null);
        assertEquals(202, res.statusCode(), new String(res.body()));
        return res.headers().firstValue("Location").orElseThrow();
    }

    static void assertTooMany(WireClient.Response res) throws IOException {
        assertEquals(429, res.status(), res.toString());
        assertTrue(res.header("Retry-After") != null, res.toString());
        assertEquals(
                "TOOMANYREQUESTS",
                JSON.readTree(res.body()).get("errors").get(0).get("code").asText());
    }

    @Test
    void concurrentUploadBodiesAreCappedPerClientAndInAll() throws Exception {
        try (TestRegistry r = new TestRegistry(
                dir, Map.of("uploads.max-concurrent-per-client", "2", "uploads.max-concurrent", "3"))) {
            List<WireClient> stalled = new ArrayList<>();
            try {
                // client A: two bodies in flight is its limit, the third is refused at once
                for (int i = 0; i < 2; i++) {
                    WireClient c = new WireClient(r.server.port(), "127.0.0.2");
                    c.startBody("PATCH", location(r, "limits/a"), 64 << 20, new byte[1000]);
                    stalled.add(c);
                }
                waitForUploads(r, 2);
                try (WireClient third = new WireClient(r.server.port(), "127.0.0.2")) {
                    third.startBody("PATCH", location(r, "limits/a"), 64 << 20, new byte[1000]);
                    WireClient.Response res = third.read("PATCH");
                    assertTooMany(res);
                    assertTrue(JSON.readTree(res.body()).toString().contains("uploads.max-concurrent-per-client"));
                    assertEquals("close", res.header("Connection"), "an unread large body closes the connection");
                    assertTrue(third.closedWithin(5000), "and the server closes it");
                }
                // client B may still upload: one more is the registry's total limit
                WireClient b = new WireClient(r.server.port(), "127.0.0.3");
                b.startBody("PATCH", location(r, "limits/b"), 64 << 20, new byte[1000]);
                stalled.add(b);
                waitForUploads(r, 3);
                try (WireClient fourth = new WireClient(r.server.port(), "127.0.0.4")) {
                    fourth.startBody("PATCH", location(r, "limits/c"), 10, new byte[10]);
                    WireClient.Response res = fourth.read("PATCH");
                    assertTooMany(res);
                    assertTrue(JSON.readTree(res.body()).toString().contains("uploads.max-concurrent"));
                }
            } finally {
                for (WireClient c : stalled) {
                    c.close();
                }
            }
            waitForUploads(r, 0);
            // the places are free again
            byte[] blob = "after the storm".getBytes(StandardCharsets.UTF_8);
            Digest d = r.pushBlob("limits/a", blob);
            assertEquals(200, r.send("HEAD", "/v2/limits/a/blobs/" + d, null).statusCode());
            String metrics = metricsWith(r, "status=\"429\"");
            assertTrue(metrics.contains("status=\"429\""), metrics);
            assertFalse(metrics.contains("status=\"500\""), metrics);
        }
    }

    /** The metrics once they contain {@code text} (a request is counted just after its handler returns). */
    static String metricsWith(TestRegistry r, String text) throws InterruptedException {
        long deadline = System.currentTimeMillis() + 10_000;
        String metrics = new String(r.get("/metrics").body());
        while (!metrics.contains(text) && System.currentTimeMillis() < deadline) {
            Thread.sleep(20);
            metrics = new String(r.get("/metrics").body());
        }
        return metrics;
    }

    static void waitForUploads(TestRegistry r, int n) throws InterruptedException {
        long deadline = System.currentTimeMillis() + 10_000;
        while (r.registry.uploads().inProgress() != n && System.currentTimeMillis() < deadline) {
            Thread.sleep(10);
        }
        assertEquals(n, r.registry.uploads().inProgress());
    }

    @Test
    void openSessionsAreCappedPerClient() throws Exception {
        try (TestRegistry r = new TestRegistry(dir, Map.of("uploads.max-sessions-per-client", "3"))) {
            List<String> locations = new ArrayList<>();
            try (WireClient a = new WireClient(r.server.port(), "127.0.0.2")) {
                for (int i = 0; i < 3; i++) {
                    WireClient.Response res = a.exchange("POST", "/v2/sessions/a/blobs/uploads/", null);
                    assertEquals(202, res.status());
                    locations.add(res.header("Location"));
                }
                WireClient.Response refused = a.exchange("POST", "/v2/sessions/a/blobs/uploads/", null);
                assertTooMany(refused);
                assertTrue(refused.text().contains("uploads.max-sessions-per-client"), refused.text());
                // another client is not affected
                try (WireClient b = new WireClient(r.server.port(), "127.0.0.3")) {
                    assertEquals(
                            202,
                            b.exchange("POST", "/v2/sessions/b/blobs/uploads/", null)
                                    .status());
                }
                // finishing one makes room
                assertEquals(204, a.exchange("DELETE", locations.get(0), null).status());
                assertEquals(
                        202,
                        a.exchange("POST", "/v2/sessions/a/blobs/uploads/", null)
                                .status());
            }
        }
    }

    @Test
    void aStalledBodyIsAbortedAndItsUploadKeepsOnlyAcknowledgedBytes() throws Exception {
        try (TestRegistry r = new TestRegistry(dir, Map.of("http.read-timeout", "1s"))) {
            String location = location(r, "stall/app");
            byte[] first = "acknowledged".getBytes(StandardCharsets.UTF_8);
            assertEquals(
                    202,
                    r.send("PATCH", location, first, "Content-Type", "application/octet-stream")
                            .statusCode());
            try (WireClient c = new WireClient(r.server.port())) {
                c.startBody("PATCH", location, 1 << 20, new byte[5000]);
                assertTrue(c.closedWithin(15_000), "the stalled request is cut off");
            }
            waitForUploads(r, 0);
            HttpResponse<byte[]> status = r.get(location);
            assertEquals(
                    "0-" + (first.length - 1),
                    status.headers().firstValue("Range").orElseThrow());
            String metrics = metricsWith(r, "status=\"499\"");
            assertTrue(metrics.contains("status=\"499\""), "counted as the client's: " + metrics);
            assertFalse(metrics.contains("status=\"500\""), metrics);
            // the upload goes on from what was acknowledged
            byte[] rest = " and the rest".getBytes(StandardCharsets.UTF_8);
            assertEquals(
                    202,
                    r.send("PATCH", location, rest, "Content-Type", "application/octet-stream")
                            .statusCode());
            byte[] all = (new String(first, StandardCharsets.UTF_8) + new String(rest, StandardCharsets.UTF_8))
                    .getBytes(StandardCharsets.UTF_8);
            assertEquals(
                    201,
                    r.send("PUT", location + "?digest=" + TestRegistry.sha256(all), null)
                            .statusCode());
        }
    }

    @Test
    void aClientThatVanishesMidPatchIsNotAServerError() throws Exception {
        try (TestRegistry r = new TestRegistry(dir)) {
            String location = location(r, "vanish/app");
            try (WireClient c = new WireClient(r.server.port())) {
                c.startBody("PATCH", location, 1 << 20, new byte[100_000]);
                waitForUploads(r, 1);
            }
            waitForUploads(r, 0);
            assertEquals("0-0", r.get(location).headers().firstValue("Range").orElseThrow());
            String metrics = metricsWith(r, "status=\"499\"");
            assertTrue(metrics.contains("status=\"499\""), metrics);
            assertFalse(metrics.contains("status=\"500\""), metrics);
        }
    }

    @Test
    void unknownMethodsAndPathsDoNotMultiplyMetricSeries() throws Exception {
        try (TestRegistry r = new TestRegistry(dir)) {
            try (WireClient c = new WireClient(r.server.port())) {
                for (int i = 0; i < 5; i++) {
                    c.exchange("FOO" + i, "/v2/", null);
                    c.exchange("GET", "/v2/x/y/unknown-" + i, null);
                    c.exchange("GET", "/nothing-" + i, null);
                }
            }
            String metrics = new String(r.get("/metrics").body());
            assertFalse(metrics.contains("FOO"), metrics);
            assertTrue(metrics.contains("method=\"other\""), metrics);
            assertFalse(metrics.contains("unknown-"), metrics);
            assertFalse(metrics.contains("nothing-"), metrics);
            assertTrue(metrics.contains("route=\"unmatched\""), metrics);
        }
    }
}
