package io.berth.launcher.process;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.berth.core.model.Digest;
import io.berth.core.model.DigestAlgorithm;
import java.net.InetAddress;
import java.net.URI;
import java.net.UnknownHostException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;

/**
 * A well-behaved client of the OCI API from one address, for the abuse tests: it pushes an image
 * (config, two layers, manifest), pulls it back and checks every digest, and keeps how long each
 * round took (printed, never asserted).
 */
final class HonestClient {
    private final HttpClient http;
    private final String base;
    private final List<Long> rounds = Collections.synchronizedList(new ArrayList<>());

    HonestClient(String base, String localAddress) throws UnknownHostException {
        this.http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(30))
                .localAddress(InetAddress.getByName(localAddress)).build();
        this.base = base;
    }

    /** Pushes and pulls one image of two layers of {@code layerBytes} each in {@code repo}. */
    void pushAndPull(String repo, int layerBytes, long seed) throws Exception {
        long start = System.nanoTime();
        Random random = new Random(seed);
        byte[] config = ("{\"seed\":" + seed + "}").getBytes(StandardCharsets.UTF_8);
        byte[][] layers = {new byte[layerBytes], new byte[layerBytes]};
        random.nextBytes(layers[0]);
        random.nextBytes(layers[1]);
        Digest c = pushBlob(repo, config);
        Digest l0 = pushBlob(repo, layers[0]);
        Digest l1 = pushBlob(repo, layers[1]);
        byte[] manifest = ("{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
                + "\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"digest\":\"" + c
                + "\",\"size\":" + config.length + "},\"layers\":[" + layer(l0, layerBytes) + "," + layer(l1, layerBytes)
                + "]}").getBytes(StandardCharsets.UTF_8);
        HttpResponse<String> put = http.send(HttpRequest.newBuilder(URI.create(base + "/v2/" + repo + "/manifests/v1"))
                .header("Content-Type", "application/vnd.oci.image.manifest.v1+json")
                .PUT(HttpRequest.BodyPublishers.ofByteArray(manifest)).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(201, put.statusCode(), "manifest push: " + put.body());
        HttpResponse<byte[]> got = http.send(HttpRequest.newBuilder(URI.create(base + "/v2/" + repo + "/manifests/v1"))
                .header("Accept", "application/vnd.oci.image.manifest.v1+json").build(),
                HttpResponse.BodyHandlers.ofByteArray());
        assertEquals(200, got.statusCode());
        assertArrayEquals(manifest, got.body());
        for (Digest d : List.of(c, l0, l1)) {
            HttpResponse<byte[]> blob = http.send(HttpRequest.newBuilder(URI.create(base + "/v2/" + repo + "/blobs/" + d))
                    .build(), HttpResponse.BodyHandlers.ofByteArray());
            assertEquals(200, blob.statusCode());
            assertEquals(d, Digest.compute(DigestAlgorithm.SHA256, blob.body()), "pulled blob " + d);
        }
        rounds.add(System.nanoTime() - start);
    }

    private static String layer(Digest d, int size) {
        return "{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar\",\"digest\":\"" + d + "\",\"size\":" + size + "}";
    }

    private Digest pushBlob(String repo, byte[] content) throws Exception {
        Digest d = Digest.compute(DigestAlgorithm.SHA256, content);
        HttpResponse<String> res = http.send(HttpRequest.newBuilder(URI.create(base + "/v2/" + repo
                + "/blobs/uploads/?digest=" + d)).POST(HttpRequest.BodyPublishers.ofByteArray(content)).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(201, res.statusCode(), "blob push: " + res.body());
        return d;
    }

    /** A GET of {@code path}: status and the Date header. */
    HttpResponse<String> get(String path) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create(base + path)).build(), HttpResponse.BodyHandlers.ofString());
    }

    /** Forgets the rounds so far (the next figures are of what follows). */
    void clear() {
        rounds.clear();
    }

    /** How long the rounds took: count, median, max (ms). */
    String latencies() {
        List<Long> sorted;
        synchronized (rounds) {
            sorted = new ArrayList<>(rounds);
        }
        Collections.sort(sorted);
        if (sorted.isEmpty()) {
            return "no rounds";
        }
        return String.format("%d rounds of push+pull, median %.0f ms, max %.0f ms", sorted.size(),
                sorted.get(sorted.size() / 2) / 1e6, sorted.get(sorted.size() - 1) / 1e6);
    }

    /** Samples the server's resident memory and heap in use (from its /metrics) until closed; keeps the peaks. */
    static final class MemorySampler implements AutoCloseable {
        private final BerthProcess server;
        private final HonestClient client;
        private final Thread thread;
        private volatile boolean running = true;
        private volatile long peakRss;
        private volatile long peakHeap;
        private volatile long peakLive;

        MemorySampler(BerthProcess server, HonestClient client) {
            this.server = server;
            this.client = client;
            this.thread = Thread.ofPlatform().daemon().name("memory-sampler").start(this::run);
        }

        private void run() {
            while (running) {
                peakRss = Math.max(peakRss, server.residentBytes());
                try {
                    double heap = 0;
                    for (String line : client.get("/metrics").body().split("\n")) {
                        if (line.startsWith("jvm_memory_used_bytes{area=\"heap\"")) {
                            heap += Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
                        } else if (line.startsWith("jvm_gc_live_data_size_bytes")) {
                            peakLive = Math.max(peakLive, (long) Double.parseDouble(line.substring(
                                    line.lastIndexOf(' ') + 1)));
                        }
                    }
                    peakHeap = Math.max(peakHeap, (long) heap);
                    Thread.sleep(250);
                } catch (Exception e) {
                    // the server is busy or gone: the next sample tells
                }
            }
        }

        String peaks() {
            return String.format("peak RSS %.0f MB, peak heap in use %.0f MB (garbage included), peak old generation "
                    + "after a full collection %.0f MB", peakRss / 1e6, peakHeap / 1e6, peakLive / 1e6);
        }

        @Override
        public void close() {
            running = false;
            try {
                thread.join(5000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
