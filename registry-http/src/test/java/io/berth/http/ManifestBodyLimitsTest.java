package io.berth.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
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
 * Manifest bodies are held in memory whole, so what they may hold at once is bounded: per client
 * (manifests.max-buffered-per-client) and in all (manifests.max-buffered), each body counted at its
 * Content-Length before its first byte is read; beyond, 429 at once. Large bodies share three
 * quarters of the budget, so small manifests still go through. Bodies held open here are PUTs that
 * announced their size and sent ten bytes.
 */
class ManifestBodyLimitsTest {
    static final ObjectMapper JSON = new ObjectMapper();
    static final String OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";

    @TempDir
    Path dir;

    @Test
    void manifestBodiesInMemoryAreBoundedPerClientAndInAll() throws Exception {
        try (TestRegistry r = new TestRegistry(
                dir,
                Map.of(
                        "manifests.max-size",
                        "1MiB",
                        "manifests.max-buffered-per-client",
                        "2MiB",
                        "manifests.max-buffered",
                        "4MiB"))) {
            Digest config = r.pushBlob("held/app", "{}".getBytes(StandardCharsets.UTF_8));
            byte[] manifest = ("{\"schemaVersion\":2,\"mediaType\":\"" + OCI_MANIFEST + "\",\"config\":{\"mediaType\":"
                            + "\"application/vnd.oci.image.config.v1+json\",\"digest\":\"" + config + "\",\"size\":2},"
                            + "\"layers\":[]}")
                    .getBytes(StandardCharsets.UTF_8);
            List<WireClient> held = new ArrayList<>();
            try {
                hold(r, held, "127.0.0.2");
                hold(r, held, "127.0.0.2");
                try (WireClient third = new WireClient(r.port(), "127.0.0.2")) {
                    third.startBody("PUT", "/v2/held/app/manifests/v2", 1 << 20, new byte[10]);
                    assertTooMany(third.read("PUT"), "manifests.max-buffered-per-client");
                }
                hold(r, held, "127.0.0.3");
                // large bodies (over a 64th of the budget) share three quarters of it: 3 MiB are held
                try (WireClient other = new WireClient(r.port(), "127.0.0.4")) {
                    other.startBody("PUT", "/v2/held/app/manifests/v3", 100 << 10, new byte[10]);
                    assertTooMany(other.read("PUT"), "(manifests.max-buffered)");
                }
                // the last quarter stays for small manifests: another client's push goes through
                HttpResponse<byte[]> small =
                        r.send("PUT", "/v2/held/app/manifests/small", manifest, "Content-Type", OCI_MANIFEST);
                assertEquals(201, small.statusCode(), new String(small.body()));
                // and small ones too are bounded in all: 1 MiB more than the budget holds is refused
                List<WireClient> smallHeld = new ArrayList<>();
                try {
                    for (int i = 0; i < 16; i++) {
                        WireClient c = new WireClient(r.port(), "127.0.1." + (1 + i / 8));
                        c.startBody("PUT", "/v2/held/app/manifests/s" + i, 64 << 10, new byte[10]);
                        smallHeld.add(c);
                    }
                    awaitBuffered(r, 4L << 20);
                    try (WireClient over = new WireClient(r.port(), "127.0.0.5")) {
                        over.startBody("PUT", "/v2/held/app/manifests/v4", 100, new byte[10]);
                        assertTooMany(over.read("PUT"), "(manifests.max-buffered)");
                    }
                } finally {
                    for (WireClient c : smallHeld) {
                        c.close();
                    }
                }
            } finally {
                for (WireClient c : held) {
                    c.close();
                }
            }
            // the bodies that went away gave their room back: a push goes through
            awaitBuffered(r, 0);
            HttpResponse<byte[]> res =
                    r.send("PUT", "/v2/held/app/manifests/v1", manifest, "Content-Type", OCI_MANIFEST);
            assertEquals(201, res.statusCode(), new String(res.body()));
        }
    }

    /** A manifest PUT from {@code client} that announced 1 MiB and is held by the server, reading. */
    static void hold(TestRegistry r, List<WireClient> held, String client) throws Exception {
        WireClient c = new WireClient(r.port(), client);
        c.startBody("PUT", "/v2/held/app/manifests/v1", 1 << 20, new byte[10]);
        held.add(c);
        awaitBuffered(r, (long) held.size() << 20);
    }

    static void assertTooMany(WireClient.Response res, String setting) throws IOException {
        UploadLimitsTest.assertTooMany(res);
        JsonNode error = JSON.readTree(res.body()).get("errors").get(0);
        assertTrue(error.get("message").asText().contains(setting), res.toString());
    }

    /** Waits until the manifest bodies reserved are {@code bytes}, as /metrics reports them. */
    static void awaitBuffered(TestRegistry r, long bytes) throws InterruptedException {
        String expected = "berth_manifests_buffered_bytes " + (double) bytes;
        String metrics = UploadLimitsTest.metricsWith(r, expected);
        assertTrue(metrics.contains(expected), metrics);
    }
}
