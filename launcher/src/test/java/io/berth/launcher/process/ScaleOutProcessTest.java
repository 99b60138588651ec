package io.berth.launcher.process;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.berth.core.blob.BlobStoreProvider;
import io.berth.core.metadata.MetadataStoreProvider;
import io.berth.core.model.Digest;
import io.berth.core.model.DigestAlgorithm;
import io.berth.http.OciLayouts;
import io.berth.http.TestRegistry;
import io.berth.testsupport.Command;
import io.berth.testsupport.Dockerd;
import io.berth.testsupport.GeneratedContent;
import io.berth.testsupport.Postgres;
import io.berth.testsupport.S3Endpoint;
import io.berth.testsupport.TestServices;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
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
    static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(10)).build();

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
        Assumptions.assumeTrue(ServiceLoader.load(BlobStoreProvider.class).stream().anyMatch(p -> p.get().type()
                .equals("s3")) && ServiceLoader.load(MetadataStoreProvider.class).stream().anyMatch(p -> p.get().type()
                .equals("postgres")), "storage-s3 and metadata-postgres are not in this build (-Dminimal)");
        var pg = Postgres.shared();
        TestServices.require(pg.isPresent(), "PostgreSQL (Debian package postgresql)");
        shared = backends(pg.get().newDatabase(), "scale-" + ProcessHandle.current().pid() + "/");
        a = BerthProcess.start(dir.resolve("a"), List.of(), shared);
        b = BerthProcess.start(dir.resolve("b"), List.of(), shared);
        assertTrue(a.output().contains("blobs s3 bucket berth-scale-out") && a.output().contains("metadata postgres"),
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

    static HttpResponse<byte[]> send(BerthProcess p, String method, String path, byte[] body, String... headers)
            throws Exception {
        HttpRequest.Builder r = HttpRequest.newBuilder(URI.create(p.base() + path)).timeout(Duration.ofSeconds(120))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody()
                        : HttpRequest.BodyPublishers.ofByteArray(body));
        for (int i = 0; i < headers.length; i += 2) {
            r.header(headers[i], headers[i + 1]);
        }
        return HTTP.send(r.build(), HttpResponse.BodyHandlers.ofByteArray());
    }

    static String location(HttpResponse<?> r) {
        return r.headers().firstValue("Location").orElseThrow();
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
        assertEquals(docker.docker("image", "inspect", "-f", "{{.Id}}", viaA).output(),
                docker.docker("image", "inspect", "-f", "{{.Id}}", viaB).output());
        ok(docker.docker("rmi", viaA, viaB));

        RealClientsTest.requireSkopeo();
        Path layout = OciLayouts.twoPlatformIndex(dir.resolve("layout"), "multi");
        ok(RealClientsTest.skopeo("copy", "--all", "--dest-tls-verify=false", "oci:" + layout + ":multi",
                "docker://127.0.0.1:" + a.httpPort + "/scale/multi:1"));
        Path out = dir.resolve("copied");
        ok(RealClientsTest.skopeo("copy", "--all", "--src-tls-verify=false", "docker://127.0.0.1:" + b.httpPort
                + "/scale/multi:1", "oci:" + out + ":multi"));
        Command rawA = RealClientsTest.skopeo("inspect", "--raw", "--tls-verify=false", "docker://127.0.0.1:"
                + a.httpPort + "/scale/multi:1");
        Command rawB = RealClientsTest.skopeo("inspect", "--raw", "--tls-verify=false", "docker://127.0.0.1:"
                + b.httpPort + "/scale/multi:1");
        assertEquals(rawA.output(), rawB.output());
    }

    @Test
    void anUploadWhoseChunksGoToBothInstancesCompletes() throws Exception {
        byte[] content = new byte[20 << 20];
        new Random(3).nextBytes(content);
        Digest digest = Digest.compute(DigestAlgorithm.SHA256, content);
        HttpResponse<byte[]> start = send(a, "POST", "/v2/scale/chunked/blobs/uploads/", null);
        assertEquals(202, start.statusCode());
        String upload = location(start);
        int first = 12 << 20;
        HttpResponse<byte[]> one = send(a, "PATCH", upload, Arrays.copyOfRange(content, 0, first),
                "Content-Type", "application/octet-stream", "Content-Range", "0-" + (first - 1));
        assertEquals(202, one.statusCode(), new String(one.body()));
        // B continues what A staged: the session and the parts are shared, the hash is rebuilt from the parts
        HttpResponse<byte[]> status = send(b, "GET", upload, null);
        assertEquals(204, status.statusCode());
        assertEquals("0-" + (first - 1), status.headers().firstValue("Range").orElseThrow());
        HttpResponse<byte[]> two = send(b, "PATCH", upload, Arrays.copyOfRange(content, first,
                content.length - 1000), "Content-Type", "application/octet-stream", "Content-Range", first + "-"
                + (content.length - 1001));
        assertEquals(202, two.statusCode(), new String(two.body()));
        // and A takes the last chunk and the PUT
        HttpResponse<byte[]> done = send(a, "PUT", upload + "?digest=" + digest, Arrays.copyOfRange(content,
                content.length - 1000, content.length), "Content-Type", "application/octet-stream");
        assertEquals(201, done.statusCode(), new String(done.body()));
        HttpResponse<byte[]> pulled = send(b, "GET", "/v2/scale/chunked/blobs/" + digest, null);
        assertEquals(200, pulled.statusCode());
        assertArrayEquals(content, pulled.body());
        HttpResponse<byte[]> range = send(a, "GET", "/v2/scale/chunked/blobs/" + digest, null, "Range",
                "bytes=1000-1999");
        assertEquals(206, range.statusCode());
        assertArrayEquals(Arrays.copyOfRange(content, 1000, 2000), range.body());
        // a wrong digest leaves no blob behind
        HttpResponse<byte[]> bad = send(b, "POST", "/v2/scale/chunked/blobs/uploads/?digest=sha256:" + "1".repeat(64),
                "not that".getBytes(StandardCharsets.UTF_8), "Content-Type", "application/octet-stream");
        assertEquals(400, bad.statusCode());
        assertEquals(404, send(a, "HEAD", "/v2/scale/chunked/blobs/sha256:" + "1".repeat(64), null).statusCode());
    }

    @Test
    void aDeleteOnOneInstanceIsSeenAtOnceOnTheOther() throws Exception {
        Digest manifest = pushImage(a, "scale/deleted", "v1", "deleted");
        assertEquals(200, send(b, "GET", "/v2/scale/deleted/manifests/v1", null, "Accept",
                "application/vnd.oci.image.manifest.v1+json").statusCode());
        assertEquals(202, send(b, "DELETE", "/v2/scale/deleted/manifests/" + manifest, null).statusCode());
        assertEquals(404, send(a, "GET", "/v2/scale/deleted/manifests/v1", null).statusCode());
        assertEquals(404, send(a, "GET", "/v2/scale/deleted/manifests/" + manifest, null).statusCode());
    }

    @Test
    void theSameBlobAndTagPushedThroughBothAtOnce() throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(8);
        List<Future<Digest>> pushes = new ArrayList<>();
        for (int i = 0; i < 16; i++) {
            BerthProcess p = i % 2 == 0 ? a : b;
            String seed = "race-" + (i % 4);
            pushes.add(pool.submit(() -> pushImage(p, "scale/race", "latest", seed)));
        }
        List<Digest> pushed = new ArrayList<>();
        for (Future<Digest> f : pushes) {
            pushed.add(f.get());
        }
        pool.shutdown();
        HttpResponse<byte[]> onA = send(a, "GET", "/v2/scale/race/manifests/latest", null, "Accept",
                "application/vnd.oci.image.manifest.v1+json");
        HttpResponse<byte[]> onB = send(b, "GET", "/v2/scale/race/manifests/latest", null, "Accept",
                "application/vnd.oci.image.manifest.v1+json");
        assertEquals(200, onA.statusCode());
        assertArrayEquals(onA.body(), onB.body(), "one answer for the tag on both");
        assertTrue(pushed.contains(Digest.compute(DigestAlgorithm.SHA256, onA.body())));
        for (Digest d : pushed) {
            assertEquals(200, send(b, "HEAD", "/v2/scale/race/manifests/" + d, null).statusCode());
        }
    }

    @Test
    void anInstanceKilledDuringAPushLeavesTheOtherServingAndTheRetrySucceeds() throws Exception {
        BerthProcess doomed = BerthProcess.start(dir.resolve("doomed"), List.of(), shared);
        byte[] content = new byte[64 << 20];
        new Random(9).nextBytes(content);
        Digest digest = Digest.compute(DigestAlgorithm.SHA256, content);
        HttpResponse<byte[]> start = send(doomed, "POST", "/v2/scale/killed/blobs/uploads/", null);
        String upload = location(start);
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
        CompletableFuture<HttpResponse<byte[]>> patch = HTTP.sendAsync(HttpRequest.newBuilder(URI.create(
                doomed.base() + upload)).timeout(Duration.ofSeconds(120)).method("PATCH",
                HttpRequest.BodyPublishers.ofInputStream(() -> slow)).header("Content-Type",
                "application/octet-stream").build(), HttpResponse.BodyHandlers.ofByteArray());
        while (sent.get() < (16 << 20)) {
            Thread.sleep(20);
        }
        doomed.process.process().destroyForcibly().waitFor();
        try {
            HttpResponse<byte[]> r = patch.get();
            assertNotEquals(202, r.statusCode());
        } catch (ExecutionException e) {
            // the connection went away: what a client sees when an instance dies
        }
        doomed.close();
        // the other instance serves on, and the client's retry of the push through it succeeds
        assertEquals(200, send(b, "GET", "/v2/", null).statusCode());
        HttpResponse<byte[]> retry = send(b, "POST", "/v2/scale/killed/blobs/uploads/?digest=" + digest, content,
                "Content-Type", "application/octet-stream");
        assertEquals(201, retry.statusCode(), new String(retry.body()));
        HttpResponse<byte[]> pulled = send(a, "GET", "/v2/scale/killed/blobs/" + digest, null);
        assertArrayEquals(content, pulled.body());
        assertEquals(200, send(b, "GET", "/readyz", null).statusCode());
    }

    static Digest digestOf(InputStream in) throws IOException {
        MessageDigest md = DigestAlgorithm.SHA256.newMessageDigest();
        byte[] buf = new byte[1 << 16];
        int n;
        while ((n = in.read(buf)) > 0) {
            md.update(buf, 0, n);
        }
        return Digest.of(DigestAlgorithm.SHA256, md.digest());
    }

    @Test
    void aLargeLayerStreamsThroughASmallHeapToS3AndBack() throws Exception {
        long size = 768L << 20;
        Digest digest = GeneratedContent.digest(42, size); // generated as read: nothing held in memory
        try (BerthProcess small = BerthProcess.start(dir.resolve("small-heap"), List.of("-Xmx128m"), shared)) {
            HttpResponse<byte[]> start = send(small, "POST", "/v2/scale/large/blobs/uploads/", null);
            String upload = location(start);
            HttpResponse<String> patch = HTTP.send(HttpRequest.newBuilder(URI.create(small.base() + upload))
                    .timeout(Duration.ofMinutes(10)).method("PATCH", HttpRequest.BodyPublishers.fromPublisher(
                            HttpRequest.BodyPublishers.ofInputStream(() -> new GeneratedContent(42, 0, size)), size))
                    .header("Content-Type", "application/octet-stream").build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(202, patch.statusCode(), patch.body());
            HttpResponse<byte[]> put = send(small, "PUT", location(patch) + (location(patch).contains("?") ? "&" : "?")
                    + "digest=" + digest, null);
            assertEquals(201, put.statusCode(), new String(put.body()));
            HttpResponse<InputStream> pulled = HTTP.send(HttpRequest.newBuilder(URI.create(small.base()
                    + "/v2/scale/large/blobs/" + digest)).timeout(Duration.ofMinutes(10)).build(),
                    HttpResponse.BodyHandlers.ofInputStream());
            assertEquals(200, pulled.statusCode());
            try (InputStream in = pulled.body()) {
                assertEquals(digest, digestOf(in));
            }
            assertTrue(small.process.process().isAlive());
            assertTrue(!small.output().contains("OutOfMemoryError"), small.output());
        }
    }

    @Test
    void conformanceSuiteAgainstS3AndPostgres() throws Exception {
        Path bin = Path.of("..", "bin", "conformance").toAbsolutePath().normalize();
        Map<String, String> env = backends(Postgres.shared().orElseThrow().newDatabase(),
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
            assertTrue(run.output().contains("failures=0 errors=0 skipped=0") || run.output().contains("not run"),
                    run.output());
        }
    }

    /** Pushes config + layer (monolithic) and a manifest under {@code tag}; returns the manifest digest. */
    static Digest pushImage(BerthProcess p, String repo, String tag, String seed) throws Exception {
        byte[] config = ("{\"seed\":\"" + seed + "\"}").getBytes(StandardCharsets.UTF_8);
        byte[] layer = ("layer of " + seed).getBytes(StandardCharsets.UTF_8);
        Digest c = Digest.compute(DigestAlgorithm.SHA256, config);
        Digest l = Digest.compute(DigestAlgorithm.SHA256, layer);
        for (byte[] blob : List.of(config, layer)) {
            Digest d = Digest.compute(DigestAlgorithm.SHA256, blob);
            HttpResponse<byte[]> r = send(p, "POST", "/v2/" + repo + "/blobs/uploads/?digest=" + d, blob,
                    "Content-Type", "application/octet-stream");
            assertEquals(201, r.statusCode(), new String(r.body()));
        }
        byte[] m = TestRegistry.manifest(c, config.length, l, layer.length, "").getBytes(StandardCharsets.UTF_8);
        HttpResponse<byte[]> r = send(p, "PUT", "/v2/" + repo + "/manifests/" + tag, m, "Content-Type",
                "application/vnd.oci.image.manifest.v1+json");
        assertEquals(201, r.statusCode(), new String(r.body()));
        return Digest.compute(DigestAlgorithm.SHA256, m);
    }
}
