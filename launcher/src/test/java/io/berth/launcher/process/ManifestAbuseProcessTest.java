package io.berth.launcher.process;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Manifest PUT amplification, as the review broke it, with the JVM options {@code bin/berth} ships
 * (a 160 MiB heap, the serial collector): a 4 MiB manifest of {@code {}} elements became about
 * 100 MB of JSON tree before any check; four at once ended in OutOfMemoryError, a legitimate push got
 * a 500 and Helidon's timer thread died (the Date header froze). Here sixteen hostile 4 MiB manifests
 * are in flight at all times, from eight addresses, in every shape the review tried, while another
 * address pushes and pulls: the hostile ones get only 4xx (400 or 429), the other client succeeds.
 */
@Tag("process")
class ManifestAbuseProcessTest {
    static final String OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";

    @TempDir
    Path dir;

    /** 4 MiB: {@code head}, then {@code unit} repeated (joined by {@code separator}), then {@code tail}. */
    static byte[] fill(String head, String unit, String separator, String tail) {
        StringBuilder b = new StringBuilder(4 << 20).append(head);
        for (int i = 0; b.length() + unit.length() + separator.length() + tail.length() <= (4 << 20); i++) {
            b.append(i == 0 ? "" : separator).append(unit);
        }
        return b.append(tail).toString().getBytes(StandardCharsets.UTF_8);
    }

    static List<byte[]> hostileManifests() {
        String image = "{\"schemaVersion\":2,\"mediaType\":\"" + OCI_MANIFEST + "\",\"config\":{\"mediaType\":"
                + "\"application/vnd.oci.image.config.v1+json\",\"digest\":\"sha256:" + "1".repeat(64)
                + "\",\"size\":2},";
        List<byte[]> hostile = new ArrayList<>();
        hostile.add(fill(image + "\"layers\":[", "{}", ",", "]}"));
        hostile.add(fill("{\"schemaVersion\":2,\"x\":[", "{}", ",", "]}"));
        hostile.add(fill("{\"schemaVersion\":2,\"x\":", "[", "", ""));
        hostile.add(fill(image + "\"layers\":[],\"annotations\":{\"a\":\"", "x", "", "\"}}"));
        StringBuilder keys = new StringBuilder("{\"schemaVersion\":2,\"x\":{");
        for (int i = 0; keys.length() < (4 << 20) - 32; i++) {
            keys.append(i == 0 ? "" : ",").append("\"k").append(i).append("\":0");
        }
        hostile.add(keys.append("}}").toString().getBytes(StandardCharsets.UTF_8));
        return hostile;
    }

    @Test
    void sixteenHostileManifestsAtOnceGetOnly4xxWhileAnotherClientPushes() throws Exception {
        try (BerthProcess b =
                BerthProcess.start(dir, BerthProcess.defaultJvmOptions(), Map.of("BERTH_HTTP_ACCESS_LOG", "false"))) {
            HonestClient honest = new HonestClient(b.base(), "127.0.0.1");
            for (int i = 0; i < 3; i++) {
                honest.pushAndPull("quiet/app" + i, 256 << 10, i);
            }
            System.out.println("no attack: honest client " + honest.latencies());
            honest.clear();
            List<byte[]> hostile = hostileManifests();
            ConcurrentMap<Integer, AtomicInteger> statuses = new ConcurrentHashMap<>();
            List<String> failures = Collections.synchronizedList(new ArrayList<>());
            long until = System.currentTimeMillis() + 20_000;
            List<Thread> attackers = new ArrayList<>();
            for (int t = 0; t < 16; t++) {
                String address = "127.0.0." + (2 + t % 8);
                int shape = t % hostile.size();
                attackers.add(Thread.ofPlatform().name("hostile-" + t).start(() -> {
                    try {
                        HttpClient http = HttpClient.newBuilder()
                                .version(HttpClient.Version.HTTP_1_1)
                                .localAddress(InetAddress.getByName(address))
                                .connectTimeout(Duration.ofSeconds(30))
                                .build();
                        for (int n = 0; System.currentTimeMillis() < until; n++) {
                            HttpResponse<String> res = http.send(
                                    HttpRequest.newBuilder(URI.create(b.base() + "/v2/hostile/app/manifests/t" + n))
                                            .header("Content-Type", OCI_MANIFEST)
                                            .PUT(HttpRequest.BodyPublishers.ofByteArray(hostile.get(shape)))
                                            .build(),
                                    HttpResponse.BodyHandlers.ofString());
                            statuses.computeIfAbsent(res.statusCode(), k -> new AtomicInteger())
                                    .incrementAndGet();
                        }
                    } catch (Exception e) {
                        failures.add(e.toString());
                    }
                }));
            }
            String before = honest.get("/v2/").header("Date").orElseThrow();
            try (HonestClient.MemorySampler memory = new HonestClient.MemorySampler(b, honest)) {
                for (int round = 0; System.currentTimeMillis() < until; round++) {
                    honest.pushAndPull("honest/app" + round, 256 << 10, 100 + round);
                }
                for (Thread t : attackers) {
                    t.join();
                }
                System.out.printf(
                        "16 hostile 4 MiB manifests at once: honest client %s; %s; hostile answers %s%n",
                        honest.latencies(), memory.peaks(), statuses);
            }
            assertTrue(failures.isEmpty(), "hostile clients got answers: " + failures);
            statuses.keySet()
                    .forEach(s -> assertTrue(s == 400 || s == 429, "hostile manifests get 400 or 429: " + statuses));
            assertTrue(statuses.containsKey(400), "some were parsed and refused: " + statuses);
            // Helidon's timer still runs: the Date header moves on
            Thread.sleep(2100);
            assertNotEquals(before, honest.get("/v2/").header("Date").orElseThrow(), "Date header");
            assertEquals(200, honest.get("/readyz").status());
            String out = b.output();
            assertFalse(out.contains("OutOfMemoryError"), out);
            assertFalse(out.contains("unexpected failure"), out);
            assertEquals(0, b.terminate());
        }
    }
}
