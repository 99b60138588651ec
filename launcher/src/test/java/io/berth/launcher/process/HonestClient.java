package io.berth.launcher.process;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import io.berth.core.model.Digest;
import io.berth.testsupport.oci.OciClient;
import io.berth.testsupport.oci.OciResponse;
import io.berth.testsupport.oci.PushedImage;
import io.berth.testsupport.oci.TestImage;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.net.http.HttpClient;
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
    private final OciClient oci;
    private final List<Long> rounds = Collections.synchronizedList(new ArrayList<>());

    HonestClient(String base, String localAddress) throws UnknownHostException {
        // no timeout of note: how long a round takes under attack is the figure, a failure is the client's own
        this.oci = OciClient.of(
                        base,
                        HttpClient.newBuilder()
                                .version(HttpClient.Version.HTTP_1_1)
                                .connectTimeout(Duration.ofSeconds(30))
                                .localAddress(InetAddress.getByName(localAddress))
                                .build())
                .withTimeout(Duration.ofMinutes(10));
    }

    /** Pushes and pulls one image of two layers of {@code layerBytes} each in {@code repo}. */
    void pushAndPull(String repo, int layerBytes, long seed) {
        long start = System.nanoTime();
        Random random = new Random(seed);
        byte[][] layers = {new byte[layerBytes], new byte[layerBytes]};
        random.nextBytes(layers[0]);
        random.nextBytes(layers[1]);
        TestImage image = TestImage.of(("{\"seed\":" + seed + "}").getBytes(StandardCharsets.UTF_8), layers);
        PushedImage pushed = oci.pushImage(repo, "v1", image);
        assertArrayEquals(image.manifest(), oci.pullManifest(repo, "v1").bytes());
        for (Digest d : pushed.blobs()) {
            oci.pullBlob(repo, d); // checked against its digest
        }
        rounds.add(System.nanoTime() - start);
    }

    /** A GET of {@code path}: status, headers (the Date), body. */
    OciResponse get(String path) {
        return oci.get(path);
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
        return String.format(
                "%d rounds of push+pull, median %.0f ms, max %.0f ms",
                sorted.size(), sorted.get(sorted.size() / 2) / 1e6, sorted.get(sorted.size() - 1) / 1e6);
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
                    for (String line : client.get("/metrics").text().split("\n")) {
                        if (line.startsWith("jvm_memory_used_bytes{area=\"heap\"")) {
                            heap += Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
                        } else if (line.startsWith("jvm_gc_live_data_size_bytes")) {
                            peakLive = Math.max(
                                    peakLive, (long) Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1)));
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
            return String.format(
                    "peak RSS %.0f MB, peak heap in use %.0f MB (garbage included), peak old generation "
                            + "after a full collection %.0f MB",
                    peakRss / 1e6, peakHeap / 1e6, peakLive / 1e6);
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
