package io.berth.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.berth.core.model.Digest;
import io.berth.testsupport.SmallFilesystem;
import java.io.IOException;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * A disk that fills up under a push is the server's problem, not the client's: 507 with an OCI body
 * and Retry-After, the failed chunk truncated away at once (the session keeps only acknowledged bytes
 * and the space is free for the next push), and /healthz and /metrics say what happened. Runs on a
 * real small filesystem (ext4 on a loop device, where O_DIRECT works, and tmpfs, where it does not).
 */
class FullDiskTest {
    static final ObjectMapper JSON = new ObjectMapper();
    static final long FS_BYTES = 8L << 20;

    @TempDir
    Path dir;

    static byte[] random(int n, long seed) {
        byte[] b = new byte[n];
        new Random(seed).nextBytes(b);
        return b;
    }

    static long stagedBytes(Path root) throws IOException {
        try (Stream<Path> files = Files.list(root.resolve("blobs/uploads"))) {
            return files.mapToLong(p -> p.toFile().length()).sum();
        }
    }

    @ParameterizedTest
    @EnumSource(SmallFilesystem.Kind.class)
    void aFullDiskAnswers507AndFreesItself(SmallFilesystem.Kind kind) throws Exception {
        SmallFilesystem.Result mounted = SmallFilesystem.mount(kind, dir.resolve("small"), FS_BYTES);
        Assumptions.assumeTrue(mounted.filesystem() != null, mounted.whyNot());
        try (SmallFilesystem fs = mounted.filesystem();
                TestRegistry r = new TestRegistry(
                        dir,
                        Map.of(
                                "storage.filesystem.root",
                                fs.root().resolve("blobs").toString(),
                                "storage.filesystem.fsync",
                                "true"))) {
            String repo = "full/disk";
            long freeBefore = Files.getFileStore(fs.root()).getUsableSpace();

            // a streamed PATCH larger than the disk
            HttpResponse<byte[]> start = r.send("POST", "/v2/" + repo + "/blobs/uploads/", null);
            String location = start.headers().firstValue("Location").orElseThrow();
            HttpResponse<byte[]> patch =
                    r.send("PATCH", location, random(16 << 20, 1), "Content-Type", "application/octet-stream");
            assertEquals(507, patch.statusCode(), new String(patch.body()));
            assertEquals(
                    "application/json",
                    patch.headers().firstValue("Content-Type").orElseThrow());
            assertTrue(
                    patch.headers().firstValue("Retry-After").isPresent(),
                    patch.headers().toString());
            JsonNode error = JSON.readTree(patch.body()).get("errors").get(0);
            assertEquals("UNAVAILABLE", error.get("code").asText());
            assertTrue(error.get("message").asText().contains("no space left"), error.toString());

            // the failed chunk is gone at once: the session holds only acknowledged bytes, the space is back
            HttpResponse<byte[]> status = r.get(location);
            assertEquals(204, status.statusCode());
            assertEquals("0-0", status.headers().firstValue("Range").orElseThrow());
            assertEquals(0, stagedBytes(fs.root()));
            assertTrue(
                    Files.getFileStore(fs.root()).getUsableSpace() >= freeBefore - (256 << 10),
                    "space freed: " + Files.getFileStore(fs.root()).getUsableSpace() + " of " + freeBefore);

            // health and metrics tell the operator
            String health = new String(r.get("/healthz").body());
            assertEquals(200, r.get("/healthz").statusCode(), "liveness stays up");
            assertTrue(health.contains("status: degraded") && health.contains("storage: full"), health);
            String metrics = new String(r.get("/metrics").body());
            assertTrue(metrics.contains("berth_storage_free_bytes "), metrics);
            assertTrue(metrics.contains("berth_storage_total_bytes "), metrics);
            assertTrue(metrics.contains("berth_storage_failing 1.0"), metrics);

            // the same session and other pushes go on as soon as there is room
            byte[] small = random(1 << 20, 2);
            HttpResponse<byte[]> ok = r.send("PATCH", location, small, "Content-Type", "application/octet-stream");
            assertEquals(202, ok.statusCode(), new String(ok.body()));
            Digest d = TestRegistry.sha256(small);
            HttpResponse<byte[]> done = r.send("PUT", location + "?digest=" + d, null);
            assertEquals(201, done.statusCode(), new String(done.body()));
            assertTrue(new String(r.get("/healthz").body()).startsWith("status: ok"));
            assertTrue(new String(r.get("/metrics").body()).contains("berth_storage_failing 0.0"));

            // a monolithic push that cannot fit: 507 too, and nothing is left behind
            byte[] huge = random(12 << 20, 3);
            HttpResponse<byte[]> mono = r.send(
                    "POST",
                    "/v2/" + repo + "/blobs/uploads/?digest=" + TestRegistry.sha256(huge),
                    huge,
                    "Content-Type",
                    "application/octet-stream");
            assertEquals(507, mono.statusCode(), new String(mono.body()));
            assertEquals(0, stagedBytes(fs.root()));
            assertEquals(
                    404,
                    r.send("HEAD", "/v2/" + repo + "/blobs/" + TestRegistry.sha256(huge), null)
                            .statusCode());
            assertEquals(
                    200, r.send("HEAD", "/v2/" + repo + "/blobs/" + d, null).statusCode());
        }
    }
}
