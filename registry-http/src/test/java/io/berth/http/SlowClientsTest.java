package io.berth.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.berth.core.model.Digest;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.security.crypto.bcrypt.BCrypt;

/**
 * Clients that send or read a byte now and then, never quite stalling (http.read-timeout never fires),
 * must not hold a connection, an upload or the manifest memory budget for as long as they like: a
 * request body under http.min-body-rate, a response taken under http.min-send-rate and a manifest body
 * past manifests.body-timeout are cut and their connection closed. The windows are shortened to seconds
 * here; the trickles are a byte every 200–300 ms.
 */
@Tag("slow")
class SlowClientsTest {
    @TempDir
    Path dir;

    /** Sends a byte every {@code gapMillis} until the server closes the connection; the millis that took, or -1. */
    static long trickleUntilClosed(WireClient c, long gapMillis, long maxMillis) throws IOException {
        long start = System.nanoTime();
        while ((System.nanoTime() - start) / 1_000_000 < maxMillis) {
            try {
                c.sendRaw(" ");
            } catch (IOException gone) {
                return (System.nanoTime() - start) / 1_000_000;
            }
            if (c.closedWithin(gapMillis)) {
                return (System.nanoTime() - start) / 1_000_000;
            }
        }
        return -1;
    }

    static double cuts(TestRegistry r, String limit) {
        String metrics = new String(r.get("/metrics").body(), StandardCharsets.UTF_8);
        for (String line : metrics.split("\n")) {
            if (line.startsWith("berth_http_transfers_cut_total{") && line.contains("limit=\"" + limit + "\"")) {
                return Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
            }
        }
        return 0;
    }

    @Test
    void aBodyTrickledUnderTheMinimumRateIsCutAndItsUploadKeepsOnlyAcknowledgedBytes() throws Exception {
        try (TestRegistry r =
                new TestRegistry(dir, Map.of("http.min-body-rate", "1KiB", "http.min-rate-window", "2s"))) {
            String location = UploadLimitsTest.location(r, "trickle/app");
            byte[] first = "acknowledged".getBytes(StandardCharsets.UTF_8);
            assertEquals(
                    202,
                    r.send("PATCH", location, first, "Content-Type", "application/octet-stream")
                            .statusCode());
            try (WireClient c = new WireClient(r.port(), "127.0.0.2")) {
                c.startBody("PATCH", location, 1 << 20, new byte[100]);
                long took = trickleUntilClosed(c, 250, 20_000);
                System.out.println("trickled upload PATCH cut after " + took + " ms (window 2 s)");
                assertTrue(took >= 0, "the trickled body is cut off");
            }
            UploadLimitsTest.waitForUploads(r, 0);
            assertEquals(
                    "0-" + (first.length - 1),
                    r.get(location).headers().firstValue("Range").orElseThrow());
            assertEquals(1.0, cuts(r, "http.min-body-rate"));
            String metrics = UploadLimitsTest.metricsWith(r, "status=\"499\"");
            assertTrue(metrics.contains("status=\"499\""), metrics);
            assertFalse(metrics.contains("status=\"500\""), metrics);
        }
    }

    @Test
    void aBodySentAtAnHonestRateIsNotCut() throws Exception {
        try (TestRegistry r =
                new TestRegistry(dir, Map.of("http.min-body-rate", "1KiB", "http.min-rate-window", "1s"))) {
            String location = UploadLimitsTest.location(r, "steady/app");
            byte[] body = new byte[40 * 1024];
            try (WireClient c = new WireClient(r.port(), "127.0.0.2")) {
                c.startBody("PATCH", location, body.length, new byte[0]);
                // 4 KiB/s, four times the minimum, over ten windows
                for (int i = 0; i < 40; i++) {
                    c.sendRaw(new String(body, i * 1024, 1024, StandardCharsets.ISO_8859_1));
                    Thread.sleep(250);
                }
                assertEquals(202, c.read("PATCH").status());
            }
            assertEquals(0.0, cuts(r, "http.min-body-rate"));
        }
    }

    /** A registry issuing tokens (auth.type token). */
    private TestRegistry tokenRegistry(Map<String, String> settings) throws IOException {
        Path users = dir.resolve("users.htpasswd");
        Files.writeString(users, "bob:" + BCrypt.hashpw("bob-pw", BCrypt.gensalt(4)) + "\n");
        Map<String, String> all = new HashMap<>(Map.of(
                "auth.type",
                "token",
                "auth.htpasswd.path",
                users.toString(),
                "auth.token.key-file",
                dir.resolve("key.pem").toString()));
        all.putAll(settings);
        return new TestRegistry(dir.resolve("registry"), all);
    }

    @Test
    void aTokenFormIsSmallAndCannotBeTrickled() throws Exception {
        try (TestRegistry r = tokenRegistry(Map.of("http.min-body-rate", "1KiB", "http.min-rate-window", "2s"))) {
            // announced larger than a form can be: 413 before a byte of it is read
            try (WireClient c = new WireClient(r.port(), "127.0.0.2")) {
                c.startBody("POST", "/auth/token", 1_000_000, new byte[0]);
                WireClient.Response res = c.read("POST");
                assertEquals(413, res.status(), res.toString());
                assertTrue(
                        res.text().contains("SIZE_INVALID")
                                || res.text().contains("too large")
                                || res.text().contains("larger than"),
                        res.toString());
            }
            // a form of a plausible size trickled a byte at a time is cut
            try (WireClient c = new WireClient(r.port(), "127.0.0.3")) {
                c.startBody("POST", "/auth/token", 60_000, "grant_type=".getBytes(StandardCharsets.US_ASCII));
                long took = trickleUntilClosed(c, 250, 20_000);
                System.out.println("trickled POST /auth/token cut after " + took + " ms (window 2 s)");
                assertTrue(took >= 0, "the trickled form is cut off");
            }
            assertEquals(1.0, cuts(r, "http.min-body-rate"));
        }
    }

    @Test
    void aTokenFormCutShortIsAClientAbortNotAServerError() throws Exception {
        try (TestRegistry r = tokenRegistry(Map.of())) {
            try (WireClient c = new WireClient(r.port(), "127.0.0.2")) {
                c.startBody("POST", "/auth/token", 100, "grant_type".getBytes(StandardCharsets.US_ASCII));
            }
            String metrics = UploadLimitsTest.metricsWith(r, "status=\"499\"");
            assertTrue(metrics.contains("status=\"499\""), metrics);
            assertFalse(metrics.contains("status=\"500\""), metrics);
        }
    }

    @Test
    void aResponseTakenUnderTheMinimumRateIsCutWithSendfile() throws Exception {
        slowReaderIsCut("true");
    }

    @Test
    void aResponseTakenUnderTheMinimumRateIsCutThroughHelidonsWriter() throws Exception {
        slowReaderIsCut("false");
    }

    private void slowReaderIsCut(String sendfile) throws Exception {
        try (TestRegistry r = new TestRegistry(
                dir, Map.of("http.min-send-rate", "64KiB", "http.min-rate-window", "2s", "http.sendfile", sendfile))) {
            byte[] blob = new byte[16 << 20];
            new Random(7).nextBytes(blob);
            Digest d = r.pushBlob("big/app", blob);
            try (Socket s = new Socket()) {
                s.setReceiveBufferSize(4096);
                s.bind(new InetSocketAddress(InetAddress.getByName("127.0.0.2"), 0));
                s.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), r.port()));
                OutputStream out = s.getOutputStream();
                out.write(("GET /v2/big/app/blobs/" + d + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
                        .getBytes(StandardCharsets.US_ASCII));
                out.flush();
                InputStream in = s.getInputStream();
                s.setSoTimeout(300);
                long start = System.nanoTime();
                long read = 0;
                double cut = 0;
                while ((System.nanoTime() - start) / 1_000_000 < 30_000 && (cut = cuts(r, "http.min-send-rate")) == 0) {
                    try {
                        if (in.read() < 0) {
                            break;
                        }
                        read++;
                    } catch (SocketTimeoutException nothingYet) {
                        // the next byte later
                    } catch (IOException reset) {
                        break;
                    }
                    Thread.sleep(200);
                }
                System.out.println("slow reader (sendfile " + sendfile + ") cut after "
                        + (System.nanoTime() - start) / 1_000_000 + " ms, " + read + " bytes read");
                assertEquals(1.0, cut, "the slow reader's response is cut");
            }
            // once the handler is done: the cut is the client's doing, not a blob the storage could not read
            // (an interrupted transferTo closes the blob's channel)
            String metrics = "";
            for (int i = 0;
                    i < 100
                            && !(metrics = new String(r.get("/metrics").body(), StandardCharsets.UTF_8))
                                    .contains("berth_http_requests_in_flight 1.0");
                    i++) {
                Thread.sleep(100); // until only the /metrics request itself is in flight
            }
            assertTrue(metrics.contains("berth_blob_read_failures_total 0.0"), metrics);
            // the registry serves others as before
            assertEquals(200, r.get("/v2/").statusCode());
        }
    }

    @Test
    void trickledManifestBodiesGiveTheirRoomBackAfterTheBodyTimeout() throws Exception {
        // 5 s: the 19 bodies must all be open before the first is cut, even on a busy 2-core machine
        try (TestRegistry r = new TestRegistry(
                dir,
                Map.of(
                        "manifests.body-timeout",
                        "5s",
                        "http.min-body-rate",
                        "0",
                        "manifests.max-size",
                        "1MiB",
                        "manifests.max-buffered-per-client",
                        "2MiB",
                        "manifests.max-buffered",
                        "4MiB"))) {
            Digest config = r.pushBlob("victim/app", "{}".getBytes(StandardCharsets.UTF_8));
            byte[] manifest = ("{\"schemaVersion\":2,\"mediaType\":\"" + ManifestBodyLimitsTest.OCI_MANIFEST
                            + "\",\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"digest\":\""
                            + config + "\",\"size\":2},\"layers\":[]}")
                    .getBytes(StandardCharsets.UTF_8);
            List<WireClient> held = new ArrayList<>();
            try {
                // three large bodies (the large ones' three quarters) and sixteen of 64 KiB: the whole budget
                for (int i = 0; i < 3; i++) {
                    WireClient c = new WireClient(r.port(), "127.0.0." + (2 + i));
                    c.startBody("PUT", "/v2/evil/x/manifests/t", 1 << 20, "{".getBytes(StandardCharsets.US_ASCII));
                    held.add(c);
                }
                // the large ones first: a small body counted before the third large one would leave it
                // above the large bodies' three quarters (ManifestBodyLimits), and it would be refused
                ManifestBodyLimitsTest.awaitBuffered(r, 3L << 20);
                for (int i = 0; i < 16; i++) {
                    WireClient c = new WireClient(r.port(), "127.0.1." + (1 + i / 8));
                    c.startBody("PUT", "/v2/evil/x/manifests/s", 64 << 10, "{".getBytes(StandardCharsets.US_ASCII));
                    held.add(c);
                }
                ManifestBodyLimitsTest.awaitBuffered(r, 4L << 20);
                long start = System.nanoTime();
                int status = 0;
                List<String> seen = new ArrayList<>();
                // the victim retries while the bodies trickle on (a space every 250 ms: never a stall)
                while ((System.nanoTime() - start) / 1_000_000 < 30_000) {
                    for (WireClient c : held) {
                        try {
                            c.sendRaw(" ");
                        } catch (IOException gone) {
                            // cut: fine
                        }
                    }
                    HttpResponse<byte[]> res = r.send(
                            "PUT",
                            "/v2/victim/app/manifests/v1",
                            manifest,
                            "Content-Type",
                            ManifestBodyLimitsTest.OCI_MANIFEST);
                    status = res.statusCode();
                    seen.add(status + "@" + (System.nanoTime() - start) / 1_000_000 + "ms");
                    if (status == 201) {
                        break;
                    }
                    Thread.sleep(250);
                }
                System.out.println("victim manifest push while 19 bodies trickle (body-timeout 5 s): " + seen);
                assertEquals(201, status, seen.toString());
                // the victim may get in once the first bodies are cut, before the last cut is counted
                String all = "berth_http_transfers_cut_total{limit=\"manifests.body-timeout\"} 19.0";
                assertTrue(UploadLimitsTest.metricsWith(r, all).contains(all), "19 bodies cut");
            } finally {
                for (WireClient c : held) {
                    c.close();
                }
            }
            ManifestBodyLimitsTest.awaitBuffered(r, 0);
        }
    }
}
