package io.berth.launcher.process;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.berth.core.blob.BlobStoreProvider;
import io.berth.core.error.ErrorCode;
import io.berth.core.metadata.MetadataStoreProvider;
import io.berth.core.model.Digest;
import io.berth.core.model.DigestAlgorithm;
import io.berth.http.OciLayouts;
import io.berth.testsupport.Command;
import io.berth.testsupport.Dockerd;
import io.berth.testsupport.GeneratedContent;
import io.berth.testsupport.Postgres;
import io.berth.testsupport.S3Endpoint;
import io.berth.testsupport.TestServices;
import io.berth.testsupport.oci.OciClient;
import io.berth.testsupport.oci.OciResponse;
import io.berth.testsupport.oci.PulledManifest;
import io.berth.testsupport.oci.TestImage;
import io.berth.testsupport.oci.Upload;
import java.io.InputStream;
import java.net.http.HttpRequest;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.ServiceLoader;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two {@code berth serve} instances over one PostgreSQL database and one S3 bucket (S3Proxy):
 * push through one, pull through the other (docker, skopeo {@code copy --all}); an upload whose
 * chunks go to both; a delete on one seen at once on the other; the same blob and tag pushed through
 * both at once; an instance SIGKILLed during a push while the other keeps serving and the client's
 * retry succeeds; the OCI conformance suite against an S3 + PostgreSQL instance.
 */
@Tag("process")
class ScaleOutProcessTest {
    @TempDir
    static Path dir;

    static Map<String, String> shared;
    static BerthProcess a;
    static BerthProcess b;

    static Map<String, String> backends(String database, String prefix) {
        S3Endpoint s3 = S3Endpoint.shared();
        Map<String, String> env = new HashMap<>();
        env.put("BERTH_STORAGE_TYPE", "s3");
        env.put("BERTH_STORAGE_S3_ENDPOINT", s3.endpoint());
        env.put("BERTH_STORAGE_S3_ACCESS_KEY", s3.accessKey());
        env.put("BERTH_STORAGE_S3_SECRET_KEY", s3.secretKey());
        env.put("BERTH_STORAGE_S3_BUCKET", "berth-scale-out");
        env.put("BERTH_STORAGE_S3_PREFIX", prefix);
        env.put("BERTH_METADATA_TYPE", "postgres");
        env.put("BERTH_METADATA_POSTGRES_URL", database);
        env.put("BERTH_METADATA_POSTGRES_USER", Postgres.user());
        env.put("BERTH_METADATA_POSTGRES_POOL_SIZE", "8");
        return env;
    }

    @BeforeAll
    static void start() {
        // a -Dminimal build leaves both backends out: nothing to scale out on (the default build runs this)
        Assumptions.assumeTrue(
                ServiceLoader.load(BlobStoreProvider.class).stream()
                                .anyMatch(p -> p.get().type().equals("s3"))
                        && ServiceLoader.load(MetadataStoreProvider.class).stream()
                                .anyMatch(p -> p.get().type().equals("postgres")),
                "storage-s3 and metadata-postgres are not in this build (-Dminimal)");
        var pg = Postgres.shared();
        TestServices.require(pg.isPresent(), "PostgreSQL (Debian package postgresql)");
        shared = backends(
                pg.get().newDatabase(), "scale-" + ProcessHandle.current().pid() + "/");
        a = BerthProcess.start(dir.resolve("a"), List.of(), shared);
        b = BerthProcess.start(dir.resolve("b"), List.of(), shared);
        assertTrue(
                a.output().contains("blobs s3 bucket berth-scale-out")
                        && a.output().contains("metadata postgres"),
                a.output());
    }

    @AfterAll
    static void stop() {
        if (a != null) {
            a.close();
        }
        if (b != null) {
            b.close();
        }
    }

    static void ok(Command r) {
        assertEquals(0, r.exitCode(), r.output());
    }

    @Test
    void dockerAndSkopeoPushThroughOneAndPullThroughTheOther() throws Exception {
        var d = Dockerd.shared();
        TestServices.require(d.isPresent(), "dockerd (Debian package docker.io)");
        Dockerd docker = d.get();
        Path root = Files.createDirectories(dir.resolve("rootfs"));
        Files.writeString(root.resolve("hello.txt"), "hello from two instances");
        Path tar = dir.resolve("rootfs.tar");
        ok(Command.run("tar", "-C", root.toString(), "-cf", tar.toString(), "hello.txt"));
        String viaA = "127.0.0.1:" + a.httpPort + "/scale/app:1";
        String viaB = "127.0.0.1:" + b.httpPort + "/scale/app:1";
        ok(docker.docker("import", tar.toString(), viaA));
        ok(docker.docker("push", viaA));
        ok(docker.docker("pull", viaB));
        assertEquals(
                docker.docker("image", "inspect", "-f", "{{.Id}}", viaA).output(),
                docker.docker("image", "inspect", "-f", "{{.Id}}", viaB).output());
        ok(docker.docker("rmi", viaA, viaB));

        RealClientsTest.requireSkopeo();
        Path layout = OciLayouts.twoPlatformIndex(dir.resolve("layout"), "multi");
        ok(RealClientsTest.skopeo(
                "copy",
                "--all",
                "--dest-tls-verify=false",
                "oci:" + layout + ":multi",
                "docker://127.0.0.1:" + a.httpPort + "/scale/multi:1"));
        Path out = dir.resolve("copied");
        ok(RealClientsTest.skopeo(
                "copy",
                "--all",
                "--src-tls-verify=false",
                "docker://127.0.0.1:" + b.httpPort + "/scale/multi:1",
                "oci:" + out + ":multi"));
        Command rawA = RealClientsTest.skopeo(
                "inspect", "--raw", "--tls-verify=false", "docker://127.0.0.1:" + a.httpPort + "/scale/multi:1");
        Command rawB = RealClientsTest.skopeo(
                "inspect", "--raw", "--tls-verify=false", "docker://127.0.0.1:" + b.httpPort + "/scale/multi:1");
        assertEquals(rawA.output(), rawB.output());
    }

    @Test
    void anUploadWhoseChunksGoToBothInstancesCompletes() throws Exception {
        byte[] content = new byte[20 << 20];
        new Random(3).nextBytes(content);
        Digest digest = Digest.compute(DigestAlgorithm.SHA256, content);
        OciClient onA = a.oci();
        OciClient onB = b.oci();
        int first = 12 << 20;
        Upload upload = onA.patch(onA.startUpload("scale/chunked"), Arrays.copyOfRange(content, 0, first));
        // B continues what A staged: the session and the parts are shared, the hash is rebuilt from the parts
        Upload status = onB.uploadStatus(upload);
        assertEquals(first, status.offset());
        upload = onB.patch(status, Arrays.copyOfRange(content, first, content.length - 1000));
        // and A takes the last chunk and the PUT
        onA.complete(upload, digest, Arrays.copyOfRange(content, content.length - 1000, content.length));
        assertArrayEquals(content, onB.pullBlob("scale/chunked", digest));
        OciResponse range = onA.get("/v2/scale/chunked/blobs/" + digest, "Range", "bytes=1000-1999")
                .expect(206);
        assertArrayEquals(Arrays.copyOfRange(content, 1000, 2000), range.body());
        // a wrong digest leaves no blob behind
        String wrong = "sha256:" + "1".repeat(64);
        onB.send(
                        "POST",
                        "/v2/scale/chunked/blobs/uploads/?digest=" + wrong,
                        "not that".getBytes(StandardCharsets.UTF_8),
                        "Content-Type",
                        "application/octet-stream")
                .expectError(400, ErrorCode.DIGEST_INVALID);
        onA.send("HEAD", "/v2/scale/chunked/blobs/" + wrong, null).expect(404);
    }

    @Test
    void aDeleteOnOneInstanceIsSeenAtOnceOnTheOther() throws Exception {
        Digest manifest = a.oci()
                .pushImage("scale/deleted", "v1", TestImage.of("deleted"))
                .manifest();
        b.oci().pullManifest("scale/deleted", "v1");
        b.oci().deleteManifest("scale/deleted", manifest.toString());
        a.oci().get("/v2/scale/deleted/manifests/v1").expectError(404, ErrorCode.MANIFEST_UNKNOWN);
        a.oci().get("/v2/scale/deleted/manifests/" + manifest).expectError(404, ErrorCode.MANIFEST_UNKNOWN);
    }

    @Test
    void theSameBlobAndTagPushedThroughBothAtOnce() throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(8);
        List<Future<Digest>> pushes = new ArrayList<>();
        for (int i = 0; i < 16; i++) {
            BerthProcess p = i % 2 == 0 ? a : b;
            String seed = "race-" + (i % 4);
            pushes.add(pool.submit(() -> p.oci()
                    .pushImage("scale/race", "latest", TestImage.of(seed))
                    .manifest()));
        }
        List<Digest> pushed = new ArrayList<>();
        for (Future<Digest> f : pushes) {
            pushed.add(f.get());
        }
        pool.shutdown();
        PulledManifest onA = a.oci().pullManifest("scale/race", "latest");
        PulledManifest onB = b.oci().pullManifest("scale/race", "latest");
        assertArrayEquals(onA.bytes(), onB.bytes(), "one answer for the tag on both");
        assertTrue(pushed.contains(onA.digest()));
        for (Digest d : pushed) {
            assertEquals(Optional.of(d), b.oci().manifestDigest("scale/race", d.toString()));
        }
    }

    @Test
    void anInstanceKilledDuringAPushLeavesTheOtherServingAndTheRetrySucceeds() throws Exception {
        BerthProcess doomed = BerthProcess.start(dir.resolve("doomed"), List.of(), shared);
        byte[] content = new byte[64 << 20];
        new Random(9).nextBytes(content);
        Digest digest = Digest.compute(DigestAlgorithm.SHA256, content);
        Upload upload = doomed.oci().startUpload("scale/killed");
        AtomicLong sent = new AtomicLong();
        // a slow streamed PATCH: the instance dies while the body is coming in
        InputStream slow = new InputStream() {
            int pos;

            @Override
            public int read() {
                return pos < content.length ? content[pos++] & 0xff : -1;
            }

            @Override
            public int read(byte[] buf, int off, int len) {
                if (pos >= content.length) {
                    return -1;
                }
                int n = Math.min(Math.min(len, 1 << 20), content.length - pos);
                System.arraycopy(content, pos, buf, off, n);
                pos += n;
                sent.addAndGet(n);
                try {
                    Thread.sleep(50);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                return n;
            }
        };
        CompletableFuture<OciResponse> patch = CompletableFuture.supplyAsync(() -> doomed.oci()
                .sendBody(
                        "PATCH",
                        upload.location(),
                        HttpRequest.BodyPublishers.ofInputStream(() -> slow),
                        "Content-Type",
                        "application/octet-stream"));
        while (sent.get() < (16 << 20)) {
            Thread.sleep(20);
        }
        doomed.process.process().destroyForcibly().waitFor();
        try {
            assertNotEquals(202, patch.get().status());
        } catch (ExecutionException e) {
            // the connection went away: what a client sees when an instance dies
        }
        doomed.close();
        // the other instance serves on, and the client's retry of the push through it succeeds
        b.oci().get("/v2/").expect(200);
        assertEquals(digest, b.oci().pushBlob("scale/killed", content));
        assertArrayEquals(content, a.oci().pullBlob("scale/killed", digest));
        b.oci().get("/readyz").expect(200);
    }

    @Test
    void aLargeLayerStreamsThroughASmallHeapToS3AndBack() throws Exception {
        long size = 768L << 20;
        Digest digest = GeneratedContent.digest(42, size); // generated as read: nothing held in memory
        try (BerthProcess small = BerthProcess.start(dir.resolve("small-heap"), List.of("-Xmx128m"), shared)) {
            OciClient oci = small.oci().withTimeout(Duration.ofMinutes(10));
            Upload upload = oci.patch(oci.startUpload("scale/large"), () -> new GeneratedContent(42, 0, size), size);
            oci.complete(upload, digest);
            assertEquals(digest, oci.pullBlobStreaming("scale/large", digest).digest());
            assertTrue(small.process.process().isAlive());
            assertTrue(!small.output().contains("OutOfMemoryError"), small.output());
        }
    }

    @Test
    void conformanceSuiteAgainstS3AndPostgres() throws Exception {
        Path bin = Path.of("..", "bin", "conformance").toAbsolutePath().normalize();
        Map<String, String> env = backends(
                Postgres.shared().orElseThrow().newDatabase(),
                "conformance-" + ProcessHandle.current().pid() + "/");
        env.put("BERTH_MANIFESTS_ALLOW_SPARSE", "true");
        env.put("BERTH_HTTP_ACCESS_LOG", "false");
        try (BerthProcess c = BerthProcess.start(dir.resolve("conformance"), List.of(), env)) {
            Map<String, String> suiteEnv = new HashMap<>();
            suiteEnv.put("BERTH_CONFORMANCE_REGISTRY", "127.0.0.1:" + c.httpPort);
            if (System.getenv("CI") != null) {
                suiteEnv.put("CI", System.getenv("CI"));
            }
            Command run = Command.run(List.of(bin.toString()), suiteEnv, 900);
            assertEquals(0, run.exitCode(), run.output());
            assertTrue(
                    run.output().contains("failures=0 errors=0 skipped=0")
                            || run.output().contains("not run"),
                    run.output());
        }
    }
}
