package io.berth.launcher.process;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import io.berth.core.blob.FilesystemBlobStore;
import io.berth.core.error.ErrorCode;
import io.berth.core.metadata.sqlite.SqliteMetadataStore;
import io.berth.core.model.Digest;
import io.berth.core.model.DigestAlgorithm;
import io.berth.core.model.MediaTypes;
import io.berth.core.model.RepositoryName;
import io.berth.core.registry.Registry;
import io.berth.core.registry.RegistryOptions;
import io.berth.core.testing.Images;
import io.berth.http.OciLayouts;
import io.berth.testsupport.Command;
import io.berth.testsupport.Dockerd;
import io.berth.testsupport.FreePorts;
import io.berth.testsupport.GeneratedContent;
import io.berth.testsupport.HostileRegistry;
import io.berth.testsupport.TcpForwarder;
import io.berth.testsupport.TestServices;
import io.berth.testsupport.oci.OciClient;
import io.berth.testsupport.oci.OciResponse;
import io.berth.testsupport.oci.PushedImage;
import io.berth.testsupport.oci.StreamedBlob;
import io.berth.testsupport.oci.TestImage;
import io.berth.testsupport.oci.Upload;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.security.crypto.bcrypt.BCrypt;

/**
 * The pull-through cache (docs/proxy.md) end to end with real parts: the upstream "hub" is a {@code berth
 * serve} in token mode (anonymous callers may pull {@code library/**}, as on Docker Hub; {@code pusher}
 * may push), reached through a {@link HostileRegistry} that records every request (and answers some its
 * own way) behind a {@link TcpForwarder} whose link a test cuts; the upstream "dist" is Debian's
 * docker-registry (CNCF Distribution). The cache is a {@code berth serve} with hub as a mirror
 * ({@code manifest-ttl: 0s}: every pull of a tag asks hub, so outages show) and dist under the prefix
 * {@code dist}. Clients: a dockerd of its own with {@code --registry-mirror}, skopeo, raw HTTP.
 */
@Tag("process")
class ProxyProcessTest {
    static final ObjectMapper JSON = new ObjectMapper();
    static final String PUSHER_PASSWORD = "Pusher-hub-pass-51c3";
    static final String ACCEPT = String.join(
            ", ",
            MediaTypes.OCI_INDEX,
            MediaTypes.OCI_MANIFEST,
            MediaTypes.DOCKER_MANIFEST_LIST,
            MediaTypes.DOCKER_MANIFEST);

    @TempDir
    static Path dir;

    static BerthProcess hub;
    static HostileRegistry front;
    static TcpForwarder link;
    static Process dist;
    static int distPort;
    static int cachePort;
    static BerthProcess cache;

    @BeforeAll
    static void start() throws Exception {
        Path hubDir = Files.createDirectories(dir.resolve("hub"));
        Files.writeString(
                hubDir.resolve("users.htpasswd"),
                "pusher:" + BCrypt.hashpw(PUSHER_PASSWORD, BCrypt.gensalt(4)).replace("$2a$", "$2y$") + "\n");
        Files.writeString(hubDir.resolve("policy.yaml"), """
                rules:
                  - repositories: ["library/**"]
                    subjects: [anonymous, authenticated]
                    actions: [pull]
                  - repositories: ["**"]
                    subjects: [pusher]
                    actions: [pull, push]
                """);
        int hubPort = FreePorts.next();
        front = new HostileRegistry(URI.create("http://127.0.0.1:" + hubPort + "/"));
        link = new TcpForwarder(front.port());
        hub = BerthProcess.start(
                hubDir,
                hubPort,
                List.of(),
                Map.of(
                        "BERTH_AUTH_TYPE",
                        "token",
                        "BERTH_AUTH_HTPASSWD_PATH",
                        hubDir.resolve("users.htpasswd").toString(),
                        "BERTH_AUTH_POLICY",
                        hubDir.resolve("policy.yaml").toString(),
                        // the realm on the link's origin: a cut link cuts the token flow too
                        "BERTH_AUTH_TOKEN_REALM",
                        linkUrl() + "/auth/token"));

        if (Files.isExecutable(Path.of("/usr/bin/docker-registry"))) {
            distPort = FreePorts.next();
            Path root = Files.createDirectories(dir.resolve("dist"));
            Path cfg = Files.writeString(
                    dir.resolve("dist.yml"),
                    "version: 0.1\nlog: {level: error}\nstorage:\n  filesystem: {rootdirectory: " + root
                            + "}\nhttp: {addr: 127.0.0.1:" + distPort + "}\n");
            dist = new ProcessBuilder("/usr/bin/docker-registry", "serve", cfg.toString())
                    .redirectErrorStream(true)
                    .redirectOutput(dir.resolve("dist.log").toFile())
                    .start();
            assertTrue(FreePorts.waitForListener(distPort, 30_000), "Distribution did not start");
        }

        Path cacheDir = Files.createDirectories(dir.resolve("cache"));
        Files.writeString(
                cacheDir.resolve("berth.yaml"), """
                proxy:
                  timeout: 20s
                  upstreams:
                    - name: hub
                      url: %s
                      mirror: true
                      repositories: ["library/**"]
                      manifest-ttl: 0s
                      # outages here are the tests' own, one after another: no breaker opening across them
                      breaker-failures: 100
                %s""".formatted(linkUrl(), dist == null ? "" : """
                    - name: dist
                      url: http://127.0.0.1:%d
                      prefix: dist
                """.formatted(distPort)));
        cachePort = FreePorts.next();
        cache = startCache();
    }

    static BerthProcess startCache() {
        return BerthProcess.start(dir.resolve("cache"), cachePort, List.of(), Map.of());
    }

    static String linkUrl() {
        return "http://127.0.0.1:" + link.port();
    }

    @AfterAll
    static void stop() throws Exception {
        if (cache != null) {
            cache.close();
        }
        if (hub != null) {
            hub.close();
        }
        if (dist != null) {
            dist.destroyForcibly().waitFor();
        }
        if (link != null) {
            link.close();
        }
        if (front != null) {
            front.close();
        }
    }

    // helpers

    static OciClient pusher() {
        return hub.oci().withBasic("pusher", PUSHER_PASSWORD).withTimeout(Duration.ofMinutes(5));
    }

    static OciResponse get(String path) {
        return cache.oci().get(path, "Accept", ACCEPT);
    }

    static OciResponse head(String path) {
        return cache.oci().send("HEAD", path, null, "Accept", ACCEPT);
    }

    static String cacheHeader(OciResponse r) {
        return r.header("X-Berth-Cache").orElse("(none)");
    }

    /**
     * GETs hub answered of exactly {@code path}: hub lets anonymous callers pull {@code library/**}
     * without a token (no 401 first), so every GET the cache sends there is one it meant.
     */
    static long upstreamGets(String path) {
        return front.seen.stream()
                .filter(s -> s.method().equals("GET") && s.uri().equals(path))
                .count();
    }

    /** Pulls {@code repo:tag} and every blob of it through the cache, each checked against its digest. */
    static void pullThroughCache(String repo, String tag, PushedImage image) {
        OciResponse m = get("/v2/" + repo + "/manifests/" + tag).expect(200);
        assertEquals(image.manifest(), TestImage.sha256(m.body()), m::toString);
        for (Digest d : image.blobs()) {
            OciResponse b = get("/v2/" + repo + "/blobs/" + d).expect(200);
            assertEquals(d, TestImage.sha256(b.body()), b::toString);
        }
    }

    /** Streams {@code size} generated bytes to hub as a blob of {@code repo}; returns its digest. */
    static Digest pushGenerated(String repo, long seed, long size) {
        OciClient oci = pusher();
        MessageDigest sha = DigestAlgorithm.SHA256.newMessageDigest();
        Upload upload = oci.patch(
                oci.startUpload(repo), () -> new DigestInputStream(new GeneratedContent(seed, 0, size), sha), size);
        return oci.complete(upload, Digest.of(DigestAlgorithm.SHA256, sha.digest()));
    }

    /** An image on hub whose one layer is {@code size} generated bytes. */
    static PushedImage pushLargeImage(String repo, String tag, long seed, long size) {
        Digest layer = pushGenerated(repo, seed, size);
        byte[] config = ("{\"architecture\":\"amd64\",\"os\":\"linux\",\"seed\":" + seed + "}")
                .getBytes(StandardCharsets.UTF_8);
        Digest configDigest = pusher().pushBlob(repo, config);
        byte[] manifest = ("{\"schemaVersion\":2,\"mediaType\":\"" + MediaTypes.OCI_MANIFEST
                        + "\",\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"digest\":\""
                        + configDigest + "\",\"size\":" + config.length
                        + "},\"layers\":[{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar\",\"digest\":\""
                        + layer + "\",\"size\":" + size + "}]}")
                .getBytes(StandardCharsets.UTF_8);
        Digest m = pusher().pushManifest(repo, tag, MediaTypes.OCI_MANIFEST, manifest);
        return new PushedImage(repo, tag, m, configDigest, List.of(layer));
    }

    /** A root filesystem tarball holding busybox and a file to read back. */
    static byte[] rootfs(String greeting) throws IOException {
        Path busybox = Path.of("/bin/busybox");
        TestServices.require(Files.isExecutable(busybox), "busybox (Debian package busybox-static)");
        Path root = Files.createTempDirectory(dir, "rootfs");
        Files.createDirectories(root.resolve("bin"));
        Files.copy(busybox, root.resolve("bin/busybox"));
        assertTrue(root.resolve("bin/busybox").toFile().setExecutable(true));
        Files.writeString(root.resolve("greeting"), greeting);
        Path tar = dir.resolve("rootfs-" + System.nanoTime() + ".tar");
        ok(Command.run("tar", "-C", root.toString(), "-cf", tar.toString(), "."));
        return Files.readAllBytes(tar);
    }

    static void ok(Command r) {
        assertEquals(0, r.exitCode(), r.output());
    }

    // the tests

    @Test
    void dockerPullsThroughTheMirror() throws Exception {
        TestServices.require(
                Command.onPath("dockerd") && Command.onPath("docker"), "dockerd (Debian package docker.io)");
        // a busybox image as `docker import` makes one: the root filesystem as one uncompressed layer
        byte[] layer = rootfs("hello through the mirror\n");
        byte[] config = ("{\"architecture\":\"amd64\",\"os\":\"linux\",\"config\":{},\"rootfs\":{\"type\":\"layers\","
                        + "\"diff_ids\":[\"" + TestImage.sha256(layer) + "\"]}}")
                .getBytes(StandardCharsets.UTF_8);
        PushedImage image = pusher().pushImage("library/busybox", "latest", TestImage.of(config, layer));

        Dockerd docker = Dockerd.dedicated("--registry-mirror", cache.base()).orElseThrow();
        try (docker) {
            // a Docker Hub name: only the mirror can answer it (this machine has no Docker Hub)
            ok(docker.docker("pull", "busybox:latest"));
            Command run = docker.docker(
                    "run", "--rm", "--network", "none", "busybox:latest", "/bin/busybox", "cat", "/greeting");
            ok(run);
            assertEquals("hello through the mirror", run.output().strip());
        }
        assertEquals(1, upstreamGets("/v2/library/busybox/manifests/latest"), "hub saw the tag fetched once");
        assertEquals(
                1, upstreamGets("/v2/library/busybox/blobs/" + image.layers().getFirst()));
        OciResponse held =
                head("/v2/library/busybox/blobs/" + image.layers().getFirst()).expect(200);
        assertEquals("hit", cacheHeader(held), "the layer docker pulled is held by the cache");
    }

    @Test
    void skopeoCopiesATwoPlatformIndexThroughTheNamespacedUpstream() throws Exception {
        TestServices.require(Command.onPath("skopeo"), "skopeo (Debian package skopeo)");
        TestServices.require(dist != null, "docker-registry (Debian package docker-registry)");
        Path layout = OciLayouts.twoPlatformIndex(dir.resolve("multi-layout"), "multi");
        String upstream = "127.0.0.1:" + distPort + "/multi/app:1";
        ok(RealClientsTest.skopeo(
                "copy", "--all", "--dest-tls-verify=false", "oci:" + layout + ":multi", "docker://" + upstream));
        Command raw = RealClientsTest.skopeo("inspect", "--raw", "--tls-verify=false", "docker://" + upstream);
        ok(raw);
        JsonNode index = JSON.readTree(raw.output());
        String indexDigest =
                TestImage.sha256(raw.output().getBytes(StandardCharsets.UTF_8)).toString();

        Path out = dir.resolve("multi-out");
        ok(RealClientsTest.skopeo(
                "copy",
                "--all",
                "--src-tls-verify=false",
                "docker://127.0.0.1:" + cachePort + "/dist/multi/app:1",
                "oci:" + out + ":1"));
        JsonNode top = JSON.readTree(Files.readString(out.resolve("index.json")));
        assertEquals(indexDigest, top.get("manifests").get(0).get("digest").asText(), "the index is upstream's");
        String hex = indexDigest.substring("sha256:".length());
        JsonNode copied = JSON.readTree(out.resolve("blobs/sha256/" + hex).toFile());
        assertEquals(2, index.get("manifests").size());
        assertEquals(index.get("manifests"), copied.get("manifests"), "both children are upstream's");
        for (JsonNode child : index.get("manifests")) {
            String digest = child.get("digest").asText();
            Path file = out.resolve("blobs/sha256/" + digest.substring("sha256:".length()));
            assertEquals(digest, TestImage.sha256(Files.readAllBytes(file)).toString(), "child " + digest);
            assertEquals(
                    "hit",
                    cacheHeader(head("/v2/dist/multi/app/manifests/" + digest).expect(200)));
        }
    }

    @Test
    void aHundredColdPullsAtOnceMakeOneUpstreamRequestPerManifestAndBlob() throws Exception {
        PushedImage image = pushLargeImage("library/crowd", "1", 26, 8L << 20);
        int clients = 100;
        CountDownLatch go = new CountDownLatch(1);
        List<Future<List<Integer>>> results = new ArrayList<>();
        try (ExecutorService pool = Executors.newFixedThreadPool(clients)) {
            for (int i = 0; i < clients; i++) {
                results.add(pool.submit(() -> {
                    go.await();
                    List<Integer> statuses = new ArrayList<>();
                    OciResponse m = get("/v2/library/crowd/manifests/1");
                    statuses.add(m.status());
                    for (Digest d : image.blobs()) {
                        OciResponse b = get("/v2/library/crowd/blobs/" + d);
                        statuses.add(
                                b.status() == 200 && !TestImage.sha256(b.body()).equals(d) ? -1 : b.status());
                    }
                    return statuses;
                }));
            }
            go.countDown();
            for (Future<List<Integer>> f : results) {
                assertEquals(List.of(200, 200, 200), f.get(5, TimeUnit.MINUTES));
            }
        }
        Map<String, Long> counts = new TreeMap<>();
        for (HostileRegistry.Seen s : front.seen("/v2/library/crowd/")) {
            counts.merge(
                    s.method() + " " + s.uri() + (s.authorization() == null ? " (no credentials)" : ""), 1L, Long::sum);
        }
        System.out.println("upstream requests for 100 concurrent cold pulls:");
        counts.forEach((k, v) -> System.out.println("  " + v + "  " + k));
        assertEquals(1, upstreamGets("/v2/library/crowd/manifests/1"), counts::toString);
        for (Digest d : image.blobs()) {
            assertEquals(1, upstreamGets("/v2/library/crowd/blobs/" + d), counts::toString);
        }
    }

    @Test
    void withTheLinkCutCachedTagsStillPullAndOthersAre503() throws Exception {
        PushedImage image = pusher().pushImage("library/steady", "1", TestImage.of("steady"));
        pusher().pushImage("library/steady", "2", TestImage.of("steady two"));
        pullThroughCache("library/steady", "1", image);
        link.cut();
        try {
            OciResponse m = get("/v2/library/steady/manifests/1").expect(200);
            assertEquals(image.manifest(), TestImage.sha256(m.body()));
            // manifest-ttl 0s: the cache asked hub and could not reach it
            assertEquals("stale", cacheHeader(m), m::toString);
            for (Digest d : image.blobs()) {
                OciResponse b = get("/v2/library/steady/blobs/" + d).expect(200);
                assertEquals(d, TestImage.sha256(b.body()));
            }
            OciResponse uncached =
                    get("/v2/library/steady/manifests/2").expectError(503, ErrorCode.UPSTREAM_UNAVAILABLE);
            assertTrue(uncached.header("Retry-After").isPresent(), uncached::toString);
            assertTrue(uncached.header("Content-Type").orElse("").contains("json"), uncached::toString);
        } finally {
            link.restore();
        }
        // back: the uncached tag is fetched
        assertEquals("miss", cacheHeader(get("/v2/library/steady/manifests/2").expect(200)));
    }

    @Test
    void aSignaturePassesThroughTheCacheWithItsBytesAndOutlivesTheLink() throws Exception {
        String repo = "library/signed";
        TestImage subject = TestImage.of("signed image");
        PushedImage image = pusher().pushImage(repo, "1", subject);
        // a cosign-style signature: an artifact manifest whose subject is the image
        String sigType = "application/vnd.dev.cosign.artifact.sig.v1+json";
        byte[] payload = ("{\"critical\":{\"image\":{\"docker-manifest-digest\":\"" + image.manifest() + "\"}}}")
                .getBytes(StandardCharsets.UTF_8);
        Digest payloadDigest = pusher().pushBlob(repo, payload);
        Digest empty = pusher().pushBlob(repo, "{}".getBytes(StandardCharsets.UTF_8));
        byte[] signature = ("{\"schemaVersion\":2,\"mediaType\":\"" + MediaTypes.OCI_MANIFEST
                        + "\",\"artifactType\":\"" + sigType
                        + "\",\"config\":{\"mediaType\":\"application/vnd.oci.empty.v1+json\",\"digest\":\"" + empty
                        + "\",\"size\":2},\"layers\":[{\"mediaType\":\"application/vnd.dev.cosign.simplesigning.v1+json\","
                        + "\"digest\":\"" + payloadDigest + "\",\"size\":" + payload.length
                        + ",\"annotations\":{\"dev.cosignproject.cosign/signature\":\"MEUCIQ-test\"}}],"
                        + "\"subject\":{\"mediaType\":\"" + MediaTypes.OCI_MANIFEST + "\",\"digest\":\""
                        + image.manifest() + "\",\"size\":" + subject.manifest().length + "}}")
                .getBytes(StandardCharsets.UTF_8);
        Digest sig = TestImage.sha256(signature);
        assertEquals(sig, pusher().pushManifest(repo, sig.toString(), MediaTypes.OCI_MANIFEST, signature));

        pullThroughCache(repo, "1", image);
        String referrers = "/v2/" + repo + "/referrers/" + image.manifest();
        OciResponse listed = get(referrers).expect(200);
        assertEquals("miss", cacheHeader(listed), listed::toString);
        JsonNode index = JSON.readTree(listed.body());
        assertEquals(1, index.path("manifests").size(), listed::toString);
        assertEquals(
                sig.toString(), index.path("manifests").get(0).path("digest").asText());
        assertEquals(
                sigType, index.path("manifests").get(0).path("artifactType").asText());
        OciResponse filtered = get(referrers + "?artifactType=" + sigType).expect(200);
        assertEquals("artifactType", filtered.header("OCI-Filters-Applied").orElse(""), filtered::toString);
        // the signature's exact bytes, so a verifier's digest check holds through the cache
        OciResponse pulled = get("/v2/" + repo + "/manifests/" + sig).expect(200);
        assertEquals(sig, TestImage.sha256(pulled.body()), pulled::toString);
        assertEquals(
                payloadDigest,
                TestImage.sha256(get("/v2/" + repo + "/blobs/" + payloadDigest)
                        .expect(200)
                        .body()));
        long fetched = upstreamGets("/v2/" + repo + "/manifests/" + sig);
        assertEquals(1, fetched, () -> String.valueOf(front.seen("/v2/" + repo)));

        link.cut();
        try {
            // manifest-ttl 0s: the kept referrers answer is due and hub cannot be asked
            OciResponse kept = get(referrers).expect(200);
            assertEquals("stale", cacheHeader(kept), kept::toString);
            assertEquals(
                    sig.toString(),
                    JSON.readTree(kept.body())
                            .path("manifests")
                            .get(0)
                            .path("digest")
                            .asText());
            OciResponse held = get("/v2/" + repo + "/manifests/" + sig).expect(200);
            assertEquals("hit", cacheHeader(held), held::toString);
            assertEquals(sig, TestImage.sha256(held.body()));
            assertEquals(
                    image.manifest().toString(),
                    JSON.readTree(held.body()).path("subject").path("digest").asText());
        } finally {
            link.restore();
        }
    }

    @Test
    void wrongBlobBytesAreNeverServedNorKept() throws Exception {
        byte[] layer = "the right bytes of this layer, as pushed".getBytes(StandardCharsets.UTF_8);
        PushedImage image = pusher().pushImage(
                        "library/tampered",
                        "1",
                        TestImage.of("{\"tampered\":1}".getBytes(StandardCharsets.UTF_8), layer));
        Digest digest = image.layers().getFirst();
        String path = "/v2/library/tampered/blobs/" + digest;
        byte[] wrong = layer.clone();
        wrong[0] ^= 1;
        HostileRegistry.Rule tamper = x -> {
            if (!x.getRequestMethod().equals("GET")
                    || !x.getRequestURI().getPath().equals(path)) {
                return false;
            }
            HostileRegistry.answer(
                    x, 200, "application/octet-stream", wrong, "Docker-Content-Digest", digest.toString());
            return true;
        };
        front.rule(tamper);
        try {
            get("/v2/library/tampered/manifests/1").expect(200);
            OciResponse r = get(path).expectError(502, ErrorCode.UPSTREAM_FAILED);
            assertFalse(new String(r.body(), StandardCharsets.UTF_8).contains("this layer"), r::toString);
        } finally {
            front.rules.remove(tamper);
        }
        long before = upstreamGets(path);
        OciResponse fixed = get(path).expect(200);
        assertEquals(digest, TestImage.sha256(fixed.body()));
        assertEquals("miss", cacheHeader(fixed), "nothing was kept: fetched again");
        assertEquals(before + 1, upstreamGets(path));
    }

    @Test
    void anUpstreamAnswering429ServesTheCachedTagStale() throws Exception {
        PushedImage image = pusher().pushImage("library/limited", "1", TestImage.of("limited"));
        pullThroughCache("library/limited", "1", image);
        HostileRegistry.Rule throttle = x -> {
            if (!x.getRequestURI().getPath().startsWith("/v2/library/limited/")) {
                return false;
            }
            HostileRegistry.answer(
                    x,
                    429,
                    "application/json",
                    "{\"errors\":[{\"code\":\"TOOMANYREQUESTS\",\"message\":\"slow down\"}]}"
                            .getBytes(StandardCharsets.UTF_8),
                    "Retry-After",
                    "2");
            return true;
        };
        front.rule(throttle);
        try {
            OciResponse m = get("/v2/library/limited/manifests/1").expect(200);
            assertEquals("stale", cacheHeader(m), m::toString);
            assertEquals(image.manifest(), TestImage.sha256(m.body()));
            OciResponse uncached = get("/v2/library/limited/manifests/2").expectError(429, ErrorCode.TOOMANYREQUESTS);
            // hub's wait, counted down since it was said
            int retryAfter = Integer.parseInt(uncached.header("Retry-After").orElse("0"));
            assertTrue(retryAfter >= 1 && retryAfter <= 2, uncached::toString);
        } finally {
            front.rules.remove(throttle);
        }
        // hub's wait holds for every name the cache asks it for: the other tests need it over
        long deadline = System.currentTimeMillis() + 30_000;
        while (!"revalidated".equals(cacheHeader(get("/v2/library/limited/manifests/1")))) {
            assertTrue(System.currentTimeMillis() < deadline, "hub's Retry-After is honoured, then over");
            Thread.sleep(200);
        }
    }

    @Test
    void aCacheKilledWhileABlobFillsShowsNoPartOfItAfterRestart() throws Exception {
        long size = 48L << 20;
        PushedImage image = pushLargeImage("library/big", "1", 7, size);
        Digest layer = image.layers().getFirst();
        String path = "/v2/library/big/blobs/" + layer;
        get("/v2/library/big/manifests/1").expect(200);
        CountDownLatch halfSent = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        HostileRegistry.Rule stall = x -> {
            if (!x.getRequestMethod().equals("GET")
                    || !x.getRequestURI().getPath().equals(path)) {
                return false;
            }
            stallMidBody(x, size, halfSent, release);
            return true;
        };
        front.rule(stall);
        HttpClient client =
                HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        try {
            var pending = client.sendAsync(
                    HttpRequest.newBuilder(URI.create(cache.base() + path)).build(),
                    HttpResponse.BodyHandlers.discarding());
            assertTrue(halfSent.await(60, TimeUnit.SECONDS), "the cache asked hub for the blob");
            Thread.sleep(500); // the half on the wire lands in the cache's staging
            cache.process.process().destroyForcibly(); // SIGKILL
            assertTrue(cache.process.process().waitFor(30, TimeUnit.SECONDS));
            pending.handle((r, e) -> null).get(30, TimeUnit.SECONDS);
        } finally {
            front.rules.remove(stall);
            release.countDown();
            cache.close();
            link.cut();
            cache = startCache(); // the other tests' cache, whatever happened here
        }
        try {
            OciResponse r = get(path);
            assertNotEquals(200, r.status(), "no part of the blob is served: " + r);
            r.expectError(503, ErrorCode.UPSTREAM_UNAVAILABLE);
            assertNotEquals(200, head(path).status());
        } finally {
            link.restore();
        }
        long before = upstreamGets(path);
        StreamedBlob again = cache.oci().withTimeout(Duration.ofMinutes(5)).pullBlobStreaming("library/big", layer);
        assertEquals(layer, again.digest());
        assertEquals(size, again.length());
        assertEquals(before + 1, upstreamGets(path), "fetched again, whole");
    }

    /** Answers hub's blob as a registry would, then stops sending halfway until {@code release}. */
    static void stallMidBody(HttpExchange x, long size, CountDownLatch halfSent, CountDownLatch release)
            throws IOException {
        x.getResponseHeaders().set("Content-Type", "application/octet-stream");
        x.sendResponseHeaders(200, size);
        OutputStream out = x.getResponseBody();
        try (InputStream in = new GeneratedContent(7, 0, size / 2)) {
            in.transferTo(out);
        }
        out.flush();
        halfSent.countDown();
        try {
            release.await(120, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        throw new IOException("cut mid-body"); // the exchange closes short of its length
    }

    @Test
    void theUpstreamPasswordIsInNoLogLineAtDebug() throws Exception {
        String password = "Wr0ng-9f3Kq-x7ZpL2-vB4n";
        Path own = Files.createDirectories(dir.resolve("secretive"));
        Files.writeString(own.resolve("berth.yaml"), """
                proxy:
                  upstreams:
                    - name: hub
                      url: %s
                      mirror: true
                      repositories: ["private/**"]
                      username: pusher
                """.formatted(linkUrl()));
        try (BerthProcess b = BerthProcess.start(
                own,
                List.of(),
                Map.of(
                        "BERTH_LOG_LEVEL", "debug",
                        "BERTH_LOG_LEVELS", "io.helidon=trace,jdk=trace,sun.net=trace,io.github.resilience4j=trace",
                        "BERTH_PROXY_UPSTREAMS_HUB_PASSWORD", password))) {
            for (int i = 0; i < 3; i++) {
                // hub lets only pusher pull private/**: the cache logs in there, with the wrong password
                b.oci()
                        .get("/v2/private/anything/manifests/" + i, "Accept", ACCEPT)
                        .expectError(502, ErrorCode.UPSTREAM_FAILED);
            }
            assertEquals(0, b.terminate());
        }
        List<String> lines = new ArrayList<>();
        try (Stream<Path> files = Files.list(own)) {
            for (Path f : files.filter(p -> p.getFileName().toString().startsWith("berth-"))
                    .toList()) {
                lines.addAll(Files.readAllLines(f, StandardCharsets.ISO_8859_1));
            }
        }
        assertTrue(
                lines.stream().anyMatch(l -> l.contains("refused")),
                "the refusals are logged: " + String.join("\n", lines));
        List<String> needles = new ArrayList<>(List.of(
                password,
                Base64.getEncoder().encodeToString(("pusher:" + password).getBytes(StandardCharsets.UTF_8)),
                Base64.getEncoder().encodeToString(password.getBytes(StandardCharsets.UTF_8))));
        for (int i = 0; i + 8 <= password.length(); i++) {
            needles.add(password.substring(i, i + 8));
        }
        List<String> found = new ArrayList<>();
        for (String line : lines) {
            for (String needle : needles) {
                if (line.toLowerCase(Locale.ROOT).contains(needle.toLowerCase(Locale.ROOT))) {
                    found.add(needle + " in: " + line);
                }
            }
        }
        assertEquals(List.of(), found);
    }

    @Test
    void badProxyConfigurationStopsStartUpWithOneLine() throws Exception {
        Map<String, String> ports = StartupFailuresTest.ports(FreePorts.next(), FreePorts.next());
        Path both = Files.createDirectories(dir.resolve("bad-both"));
        Files.writeString(both.resolve("berth.yaml"), """
                proxy:
                  upstreams:
                    - name: hub
                      url: https://registry-1.docker.io
                      mirror: true
                      prefix: hub
                """);
        BerthProcess.Result r = BerthProcess.run(both, ports, "serve");
        assertEquals(2, r.exitCode(), r.output());
        String line = StartupFailuresTest.oneLine(r);
        assertTrue(line.contains("proxy.upstreams[0]") && line.contains("prefix"), line);

        Path credentials = Files.createDirectories(dir.resolve("bad-url"));
        Files.writeString(credentials.resolve("berth.yaml"), """
                proxy:
                  upstreams:
                    - name: hub
                      url: https://bob:Sup3r-url-secret@registry-1.docker.io
                      mirror: true
                """);
        BerthProcess.Result u = BerthProcess.run(credentials, ports, "serve");
        assertEquals(2, u.exitCode(), u.output());
        String urlLine = StartupFailuresTest.oneLine(u);
        assertTrue(urlLine.contains("proxy.upstreams[0]") && urlLine.contains("url"), urlLine);
        assertFalse(u.output().contains("Sup3r-url-secret"), u.output());

        // a repository is proxied or local, never both: content pushed before a mirror came to cover it
        Path mixed = Files.createDirectories(dir.resolve("mixed"));
        try (Registry local = new Registry(
                new FilesystemBlobStore(mixed.resolve("data/blobs"), false),
                new SqliteMetadataStore(mixed.resolve("data/berth.db")),
                RegistryOptions.defaults())) {
            new Images(local).image(RepositoryName.of("library/app"), "v1", "pushed before the mirror");
            new Images(local).image(RepositoryName.of("team/app"), "v1", "outside the mirror's repositories");
        }
        Files.writeString(mixed.resolve("berth.yaml"), """
                proxy:
                  upstreams:
                    - name: hub
                      url: https://registry-1.docker.io
                      mirror: true
                      repositories: ["library/**"]
                """);
        BerthProcess.Result m = BerthProcess.run(mixed, ports, "serve");
        assertEquals(2, m.exitCode(), m.output());
        String mixedLine = StartupFailuresTest.oneLine(m);
        assertTrue(
                mixedLine.contains("library/app")
                        && mixedLine.contains("never both")
                        && !mixedLine.contains("team/app"),
                mixedLine);
    }
}
