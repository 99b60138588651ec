package io.berth.launcher.process;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.berth.core.model.Digest;
import io.berth.core.model.DigestAlgorithm;
import io.berth.core.model.MediaTypes;
import io.berth.testsupport.GeneratedContent;
import io.berth.testsupport.TcpForwarder;
import io.berth.testsupport.oci.OciClient;
import io.berth.testsupport.oci.StreamedBlob;
import io.berth.testsupport.oci.Upload;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Figures for docs/benchmarks.md (never asserted): one image of one large layer (128 MiB,
 * {@code -Dberth.test.proxy-bench-bytes}) pulled (manifest and layer, hashed as it arrives)
 * directly from an upstream {@code berth serve}, then cold through a cache mirroring it (fetched,
 * verified and stored while it is served), then warm from the cache; after a warm-up on images of
 * their own, so that both JVMs' paths are compiled. Twice: on loopback, where the upstream is as
 * fast as the machine and the cache's work competes with the client for the same two cores, and
 * across a link of {@code -Dberth.test.proxy-bench-link} bytes a second (125 MB/s, a 1 Gbit/s
 * network; a {@link TcpForwarder} with a rate), which is where an upstream of a pull-through cache
 * is. Each cold row also prints the CPU time the cache process used for it. Run with {@code bin/test
 * -pl launcher -Dgroups=benchmark -Dberth.test.excluded-groups= -Dit.test=ProxyBenchmark -Dtest=none
 * -Dsurefire.failIfNoSpecifiedTests=false}.
 */
@Tag("benchmark")
class ProxyBenchmark {
    @TempDir
    Path dir;

    @Test
    void coldAndWarmPullThroughTheCacheAgainstTheUpstream() throws Exception {
        long size = Long.getLong("berth.test.proxy-bench-bytes", 128L << 20);
        long rate = Long.getLong("berth.test.proxy-bench-link", 125_000_000L);
        try (BerthProcess hub = BerthProcess.start(dir.resolve("hub"), List.of(), Map.of());
                TcpForwarder link = new TcpForwarder(hub.httpPort, rate)) {
            String linked = "http://127.0.0.1:" + link.port();
            // one cache, two routes to the same upstream: its code is as warm for the link as for loopback
            Path cacheDir = Files.createDirectories(dir.resolve("cache"));
            Files.writeString(cacheDir.resolve("berth.yaml"), """
                    proxy:
                      upstreams:
                        - name: near
                          url: %s
                          mirror: true
                        - name: far
                          url: %s
                          prefix: far
                    """.formatted(hub.base(), linked));
            try (BerthProcess cache = BerthProcess.start(cacheDir, List.of(), Map.of())) {
                // warm-up, not measured: both JVMs' paths compiled (C2 still compiles the receiving path
                // during the first few cold fills, on the cores the pull needs)
                for (int i = 0; i < 8; i++) {
                    String repo = "library/warm-" + i;
                    Digest warm = push(hub.oci(), repo, 32L << 20);
                    for (OciClient oci : List.of(hub.oci(), cache.oci(), cache.oci())) {
                        figure(null, oci, repo, warm, 32L << 20);
                    }
                }
                System.out.printf(
                        "proxy pull of one image with a %d MiB layer (client hashes as it reads):%n", size >> 20);
                compare("loopback", hub, hub.oci(), cache, "", size);
                compare(
                        "across a link of " + rate / 1_000_000 + " MB/s",
                        hub,
                        OciClient.of(linked),
                        cache,
                        "far/",
                        size);
            }
        }
    }

    /**
     * Direct, cold and warm pulls of a fresh image: directly through {@code direct}, and through the
     * cache under {@code prefix}, which reaches the upstream the same way.
     */
    private static void compare(
            String where, BerthProcess hub, OciClient direct, BerthProcess cache, String prefix, long size)
            throws Exception {
        String repo = "library/bench-" + System.nanoTime();
        Digest layer = push(hub.oci(), repo, size);
        System.out.printf("  %s:%n", where);
        figure("direct from the upstream", direct, repo, layer, size);
        figure("direct, again           ", direct, repo, layer, size);
        long cpu = cpuMillis(cache.pid());
        figure("cold through the cache  ", cache.oci(), prefix + repo, layer, size);
        System.out.printf("    (the cache used %d ms of CPU for it)%n", cpuMillis(cache.pid()) - cpu);
        figure("warm from the cache     ", cache.oci(), prefix + repo, layer, size);
    }

    /** User and system CPU time of a process so far (Linux: /proc/PID/stat, in clock ticks of 10 ms). */
    static long cpuMillis(long pid) throws IOException {
        String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
        String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        return (Long.parseLong(fields[11]) + Long.parseLong(fields[12])) * 10;
    }

    static void figure(String what, OciClient oci, String repo, Digest layer, long size) {
        OciClient client = oci.withTimeout(Duration.ofMinutes(10));
        long start = System.nanoTime();
        client.pullManifest(repo, "1");
        StreamedBlob blob = client.pullBlobStreaming(repo, layer);
        double seconds = (System.nanoTime() - start) / 1e9;
        assertEquals(layer, blob.digest());
        if (what == null) {
            return;
        }
        System.out.printf("    %s %6.0f MB/s (%.2f s)%n", what, size / 1e6 / seconds, seconds);
    }

    /**
     * An image of one generated layer of {@code size} bytes on {@code oci} as {@code repo:1}; its layer,
     * generated from the repository's name: every image has a layer of its own, as a cache that
     * already holds a layer for another image takes it without a transfer.
     */
    static Digest push(OciClient oci, String repo, long size) {
        OciClient slow = oci.withTimeout(Duration.ofMinutes(10));
        MessageDigest sha = DigestAlgorithm.SHA256.newMessageDigest();
        Upload upload = slow.patch(
                slow.startUpload(repo),
                () -> new DigestInputStream(new GeneratedContent(repo.hashCode(), 0, size), sha),
                size);
        Digest layer = slow.complete(upload, Digest.of(DigestAlgorithm.SHA256, sha.digest()));
        byte[] config = "{\"architecture\":\"amd64\",\"os\":\"linux\"}".getBytes(StandardCharsets.UTF_8);
        Digest configDigest = slow.pushBlob(repo, config);
        byte[] manifest = ("{\"schemaVersion\":2,\"mediaType\":\"" + MediaTypes.OCI_MANIFEST
                        + "\",\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"digest\":\""
                        + configDigest + "\",\"size\":" + config.length
                        + "},\"layers\":[{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar\",\"digest\":\""
                        + layer + "\",\"size\":" + size + "}]}")
                .getBytes(StandardCharsets.UTF_8);
        slow.pushManifest(repo, "1", MediaTypes.OCI_MANIFEST, manifest);
        return layer;
    }
}
