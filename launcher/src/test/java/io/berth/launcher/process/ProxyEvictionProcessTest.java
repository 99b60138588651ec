package io.berth.launcher.process;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.berth.core.model.Digest;
import io.berth.core.model.MediaTypes;
import io.berth.testsupport.FreePorts;
import io.berth.testsupport.HostileRegistry;
import io.berth.testsupport.oci.OciClient;
import io.berth.testsupport.oci.OciResponse;
import io.berth.testsupport.oci.PushedImage;
import io.berth.testsupport.oci.TestImage;
import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.BooleanSupplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Eviction of a pull-through cache (docs/proxy.md, "Eviction") over real processes: the upstream is a
 * {@code berth serve} behind a {@link HostileRegistry} that counts the cache's requests; one cache evicts
 * by age ({@code evict-after: 3s}), another by a size budget ({@code max-size: 2500KiB} for images of one
 * 1 MiB layer each). Eviction is seen where it matters: the layer's file leaves the cache's disk, and the
 * next pull fetches the image from the upstream again.
 */
@Tag("process")
class ProxyEvictionProcessTest {
    static final String ACCEPT = MediaTypes.OCI_MANIFEST;
    static final int LAYER = 1024 * 1024;

    @TempDir
    static Path dir;

    static BerthProcess hub;
    static HostileRegistry front;
    static BerthProcess byAge;
    static BerthProcess byBudget;

    @BeforeAll
    static void start() throws Exception {
        int hubPort = FreePorts.next();
        front = new HostileRegistry(URI.create("http://127.0.0.1:" + hubPort + "/"));
        hub = BerthProcess.start(Files.createDirectories(dir.resolve("hub")), hubPort, List.of(), Map.of());
        byAge = cache("age", "evict-after: 3s");
        byBudget = cache("budget", "evict-after: 0s\n  max-size: 2500KiB");
    }

    static BerthProcess cache(String name, String eviction) throws IOException {
        Path d = Files.createDirectories(dir.resolve(name));
        Files.writeString(d.resolve("berth.yaml"), """
                proxy:
                  %s
                  evict-interval: 1s
                  upstreams:
                    - name: hub
                      url: http://127.0.0.1:%d
                      prefix: hub
                """.formatted(eviction, front.port()));
        return BerthProcess.start(d, List.of(), Map.of());
    }

    @AfterAll
    static void stop() {
        for (AutoCloseable c : new AutoCloseable[] {byAge, byBudget, hub, front}) {
            if (c != null) {
                try {
                    c.close();
                } catch (Exception e) {
                    // closing what the other tests left
                }
            }
        }
    }

    /** An image on hub whose one layer is 1 MiB of bytes no other image has. */
    static PushedImage push(String repo, long seed) {
        byte[] layer = new byte[LAYER];
        new Random(seed).nextBytes(layer);
        byte[] config = ("{\"architecture\":\"amd64\",\"os\":\"linux\",\"seed\":" + seed + "}")
                .getBytes(StandardCharsets.UTF_8);
        return hub.oci().pushImage(repo, "1", TestImage.of(config, layer));
    }

    /** Pulls the image's manifest and blobs through {@code cache}; answers the manifest's X-Berth-Cache. */
    static String pull(BerthProcess cache, PushedImage image) {
        OciClient oci = cache.oci();
        OciResponse m = oci.get("/v2/hub/" + image.repo() + "/manifests/1", "Accept", ACCEPT)
                .expect(200);
        assertEquals(image.manifest(), TestImage.sha256(m.body()));
        for (Digest d : image.blobs()) {
            assertEquals(
                    d,
                    TestImage.sha256(oci.get("/v2/hub/" + image.repo() + "/blobs/" + d)
                            .expect(200)
                            .body()));
        }
        return m.header("X-Berth-Cache").orElse("(none)");
    }

    /** Whether the cache's data directory holds the blob's file. */
    static boolean stored(BerthProcess cache, Digest blob) {
        try (Stream<Path> files = Files.walk(cache.workDir)) {
            return files.anyMatch(f -> f.getFileName().toString().equals(blob.hex()) && Files.isRegularFile(f));
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    static long upstreamGets(PushedImage image, Digest blob) {
        String path = "/v2/" + image.repo() + "/blobs/" + blob;
        return front.seen.stream()
                .filter(s -> s.method().equals("GET") && s.uri().equals(path))
                .count();
    }

    static void await(String what, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.currentTimeMillis() + 60_000;
        while (!condition.getAsBoolean()) {
            assertTrue(System.currentTimeMillis() < deadline, what);
            Thread.sleep(200);
        }
    }

    static Digest layer(PushedImage image) {
        return image.blobs().get(image.blobs().size() - 1);
    }

    @Test
    void anImageNotPulledForEvictAfterLeavesTheDiskAndIsFetchedAgain() throws Exception {
        PushedImage image = push("aged/app", 1);
        Digest layer = layer(image);
        assertEquals("miss", pull(byAge, image));
        assertTrue(stored(byAge, layer), "the layer was cached");
        assertEquals(1, upstreamGets(image, layer));

        await("the layer's file is deleted once the image was not pulled for 3 s", () -> !stored(byAge, layer));
        assertTrue(byAge.output().contains("cache eviction: 1 manifests, 1 tags"), byAge::output);

        assertEquals("miss", pull(byAge, image), "an evicted image is fetched again");
        assertEquals(2, upstreamGets(image, layer));
        assertTrue(stored(byAge, layer));
    }

    @Test
    void overTheBudgetTheLeastRecentlyPulledImageGoesFirst() throws Exception {
        PushedImage a = push("budget/a", 11);
        PushedImage b = push("budget/b", 12);
        PushedImage c = push("budget/c", 13);
        pull(byBudget, a);
        pull(byBudget, b);
        Thread.sleep(50); // pull times are milliseconds: a's next pull is strictly later than b's
        assertEquals("hit", pull(byBudget, a), "a is used again: b is now the least recently pulled");
        // two images fit in 2,500 KiB, three do not
        Thread.sleep(2_000);
        assertTrue(stored(byBudget, layer(a)) && stored(byBudget, layer(b)), "within the budget nothing goes");

        pull(byBudget, c);
        await("b's layer is deleted to fit the budget", () -> !stored(byBudget, layer(b)));
        assertTrue(stored(byBudget, layer(a)), "a was pulled after b");
        assertTrue(stored(byBudget, layer(c)), "c is the newest");
        assertTrue(
                byBudget.output().contains("evict budget") || byBudget.output().contains("cache eviction:"),
                byBudget::output);
        assertEquals("hit", pull(byBudget, a));
        assertEquals("miss", pull(byBudget, b), "an evicted image is fetched again");
        assertEquals(2, upstreamGets(b, layer(b)));
    }
}
