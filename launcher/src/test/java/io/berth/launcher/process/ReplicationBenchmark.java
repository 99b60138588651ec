package io.berth.launcher.process;

import com.fasterxml.jackson.databind.JsonNode;
import io.berth.core.model.Digest;
import io.berth.core.model.MediaTypes;
import io.berth.testsupport.JavaProcess;
import io.berth.testsupport.oci.TestImage;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Figures for docs/benchmarks.md (never asserted): push acknowledged on A → pullable on B over 200
 * small images, MB/s of one 1 GiB layer, and the time of a reconciliation of 1000 tags already in
 * sync. Run with
 * {@code bin/test -pl launcher -Dgroups=benchmark -Dberth.test.excluded-groups= -Dit.test=ReplicationBenchmark
 * -Dtest=none -Dsurefire.failIfNoSpecifiedTests=false}.
 */
@Tag("benchmark")
class ReplicationBenchmark extends ReplicationFixture {

    static String percentiles(long[] nanos) {
        long[] s = nanos.clone();
        Arrays.sort(s);
        return String.format(
                "p50 %.1f ms, p90 %.1f ms, p99 %.1f ms",
                s[s.length / 2] / 1e6,
                s[(int) (s.length * 0.9)] / 1e6,
                s[(int) Math.min(s.length - 1, s.length * 0.99)] / 1e6);
    }

    @Test
    void figures() throws Exception {
        BerthProcess a = site("a", events());
        BerthProcess b = site("b", Map.of());
        JavaProcess replicator =
                replicator(a.base(), targetYaml("site-b", b.base(), "concurrency: 8\n"), List.of(), "1h");
        for (int i = 0; i < 20; i++) { // warm-up
            Digest d = a.oci()
                    .pushImage("warm/app", "w" + i, TestImage.of("warm " + i))
                    .manifest();
            await("warm-up", () -> digest(b.base(), "warm/app", d.toString()).isPresent(), Duration.ofSeconds(30));
        }
        long[] latency = new long[200];
        for (int i = 0; i < latency.length; i++) {
            Digest d = a.oci()
                    .pushImage("bench/app", "t" + i, TestImage.of("bench " + i))
                    .manifest();
            long acked = System.nanoTime();
            String tag = "t" + i;
            while (!digest(b.base(), "bench/app", tag).equals(Optional.of(d.toString()))) {
                Thread.onSpinWait();
            }
            latency[i] = System.nanoTime() - acked;
        }
        System.out.println("REPLICATION BENCHMARK");
        System.out.println(
                "push acknowledged on A -> pullable on B, 200 small images one after another: " + percentiles(latency));

        long size = 1L << 30;
        Digest layer = pushGeneratedLayer(a.base(), "big/app", size);
        Digest config = a.oci().pushBlob("big/app", "{}".getBytes());
        byte[] manifest = ("{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
                        + "\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"digest\":\""
                        + config
                        + "\",\"size\":2},\"layers\":[{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar\",\"digest\":\""
                        + layer + "\",\"size\":" + size + "}]}")
                .getBytes();
        long t0 = System.nanoTime();
        a.oci().pushManifest("big/app", "1", MediaTypes.OCI_MANIFEST, manifest);
        await("the 1 GiB image on B", () -> digest(b.base(), "big/app", "1").isPresent(), Duration.ofMinutes(5));
        double seconds = (System.nanoTime() - t0) / 1e9;
        System.out.printf("one 1 GiB layer A -> B: %.1f s, %.0f MB/s%n", seconds, size / 1e6 / seconds);

        // 1000 tags in sync, then a reconciliation that finds nothing to do
        List<Digest> tags = new ArrayList<>();
        for (int i = 0; i < 1000; i++) {
            tags.add(a.oci()
                    .pushImage("many/r" + (i % 10), "v" + i, TestImage.of("many " + i))
                    .manifest());
        }
        await("1000 tags on B", () -> digest(b.base(), "many/r9", "v999").isPresent(), Duration.ofMinutes(5));
        replicator.process().destroy();
        replicator.process().waitFor();
        JavaProcess again = replicator(a.base(), targetYaml("site-b", b.base(), "concurrency: 8\n"), List.of(), "1h");
        await(
                "a reconciliation",
                () -> {
                    try {
                        return status(again).get("targets").get(0).has("lastReconciliation");
                    } catch (Exception e) {
                        return false;
                    }
                },
                Duration.ofMinutes(5));
        JsonNode r = status(again).get("targets").get(0).get("lastReconciliation");
        System.out.printf(
                "reconciliation of %d repositories and %d tags in sync: %d ms, %d differences%n",
                r.get("repositories").asInt(),
                r.get("tags").asInt(),
                r.get("durationMillis").asLong(),
                r.get("differences").asInt());
    }
}
