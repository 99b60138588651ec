package io.berth.launcher.process;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.berth.core.model.Digest;
import io.berth.core.model.DigestAlgorithm;
import io.berth.core.model.MediaTypes;
import io.berth.testsupport.GeneratedContent;
import io.berth.testsupport.oci.OciClient;
import io.berth.testsupport.oci.StreamedBlob;
import io.berth.testsupport.oci.Upload;
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
 * verified and stored before it is served), then warm from the cache; after a warm-up on another
 * image. Run with {@code bin/test -pl
 * launcher -Dgroups=benchmark -Dberth.test.excluded-groups= -Dit.test=ProxyBenchmark -Dtest=none
 * -Dsurefire.failIfNoSpecifiedTests=false}.
 */
@Tag("benchmark")
class ProxyBenchmark {
    @TempDir
    Path dir;

    @Test
    void coldAndWarmPullThroughTheCacheAgainstTheUpstream() throws Exception {
        long size = Long.getLong("berth.test.proxy-bench-bytes", 128L << 20);
        try (BerthProcess hub = BerthProcess.start(dir.resolve("hub"), List.of(), Map.of())) {
            Path cacheDir = Files.createDirectories(dir.resolve("cache"));
            Files.writeString(cacheDir.resolve("berth.yaml"), """
                    proxy:
                      upstreams:
                        - name: hub
                          url: %s
                          mirror: true
                    """.formatted(hub.base()));
            try (BerthProcess cache = BerthProcess.start(cacheDir, List.of(), Map.of())) {
                // warm-up, not measured: both JVMs' paths compiled on an image of its own
                Digest warm = push(hub.oci(), "library/warm", 32L << 20);
                for (OciClient oci : List.of(hub.oci(), cache.oci(), cache.oci())) {
                    figure(null, oci, "library/warm", warm, 32L << 20);
                }
                String repo = "library/bench";
                Digest layer = push(hub.oci(), repo, size);
                System.out.printf(
                        "proxy pull of one image with a %d MiB layer (client hashes as it reads):%n", size >> 20);
                figure("direct from the upstream", hub.oci(), repo, layer, size);
                figure("direct, again            ", hub.oci(), repo, layer, size);
                figure("cold through the cache   ", cache.oci(), repo, layer, size);
                figure("warm from the cache      ", cache.oci(), repo, layer, size);
            }
        }
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
        System.out.printf("  %s %6.0f MB/s (%.2f s)%n", what, size / 1e6 / seconds, seconds);
    }

    /** An image of one generated layer of {@code size} bytes on {@code oci} as {@code repo:1}; its layer. */
    static Digest push(OciClient oci, String repo, long size) {
        OciClient slow = oci.withTimeout(Duration.ofMinutes(10));
        MessageDigest sha = DigestAlgorithm.SHA256.newMessageDigest();
        Upload upload = slow.patch(
                slow.startUpload(repo), () -> new DigestInputStream(new GeneratedContent(11, 0, size), sha), size);
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
