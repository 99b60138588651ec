package io.berth.replicator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.berth.core.manifest.ManifestParser;
import io.berth.core.metadata.ManifestRecord;
import io.berth.core.model.Caller;
import io.berth.core.model.Digest;
import io.berth.core.model.DigestAlgorithm;
import io.berth.core.model.MediaTypes;
import io.berth.core.model.RepositoryGlob;
import io.berth.core.model.RepositoryName;
import io.berth.core.model.Tag;
import io.berth.core.model.TagRegex;
import io.berth.core.registry.BlobInfo;
import io.berth.core.testing.Images;
import io.berth.http.TestRegistry;
import io.berth.oci.OciClient;
import io.berth.oci.OciEndpoint;
import io.berth.oci.Reachability;
import io.berth.oci.Tls;
import io.berth.testsupport.TestPki;
import io.github.resilience4j.ratelimiter.RateLimiter;
import io.github.resilience4j.ratelimiter.RateLimiterConfig;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.security.crypto.bcrypt.BCrypt;

/** Copies between two real registries (the real HTTP server in this JVM), state by state. */
class CopierTest {
    static final RepositoryName APP = RepositoryName.of("team-a/app");

    @TempDir
    Path dir;

    TestRegistry source;
    TestRegistry target;
    Images images;

    @BeforeEach
    void open() throws IOException {
        source = new TestRegistry(dir.resolve("a"));
        target = new TestRegistry(dir.resolve("b"), Map.of("manifests.allow-sparse", "true"));
        images = new Images(source.registry);
    }

    @AfterEach
    void close() {
        source.close();
        target.close();
    }

    static ReplicationConfig.Target config(String prefix, boolean deletes, List<String> platforms, String tags) {
        return new ReplicationConfig.Target(
                "b",
                new OciEndpoint(URI.create("http://x"), "", "", Optional.empty(), false),
                List.of(),
                List.of(RepositoryGlob.of("tmp/**")),
                tags == null ? Optional.empty() : Optional.of(TagRegex.of(tags)),
                platforms,
                prefix,
                deletes,
                2,
                0);
    }

    Copier copier(ReplicationConfig.Target config, URI targetUri, long chunk) {
        return new Copier(client(source.uri("/")), client(targetUri), config, null, chunk);
    }

    Copier copier(ReplicationConfig.Target config) {
        return copier(config, target.uri("/"), Copier.CHUNK);
    }

    static OciClient client(URI uri) {
        return new OciClient(uri, "", "", null, Duration.ofSeconds(30));
    }

    Optional<Digest> onTarget(String repo, String tag) {
        return target.registry.metadata().tags().target(RepositoryName.of(repo), tag);
    }

    @Test
    void aTagIsCopiedWithWhatItNeedsOnceAndFollowsMovesAndDeletes() throws IOException {
        Digest one = images.image(APP, "v1", "one");
        Copier c = copier(config("", true, List.of(), null));
        assertTrue(c.syncTag(APP, new Tag("v1")));
        assertEquals(one, onTarget("team-a/app", "v1").orElseThrow());
        long bytes = c.bytesCopied.get();
        assertTrue(bytes > 0);
        assertFalse(c.syncTag(APP, new Tag("v1")), "again: nothing to do");
        assertEquals(bytes, c.bytesCopied.get(), "nothing copied twice");
        var m = target.registry.manifests().get(APP, new Tag("v1"));
        for (var d : ManifestParser.parse(m.mediaType(), m.payload()).blobs()) {
            assertTrue(target.registry.metadata().blobs().linked(APP, d.digest()));
        }

        Digest two = images.image(APP, "v1", "two");
        assertTrue(c.syncTag(APP, new Tag("v1")));
        assertEquals(two, onTarget("team-a/app", "v1").orElseThrow(), "the move followed");

        source.registry.manifests().delete(APP, new Tag("v1"));
        assertTrue(c.syncTag(APP, new Tag("v1")));
        assertTrue(onTarget("team-a/app", "v1").isEmpty(), "the delete followed");
        assertTrue(target.registry.metadata().manifests().exists(APP, one), "manifests stay until deleted themselves");
        source.registry.manifests().delete(APP, one);
        assertTrue(c.syncDigest(APP, one));
        assertFalse(target.registry.metadata().manifests().exists(APP, one));

        Copier keep = copier(config("", false, List.of(), null));
        images.image(APP, "v3", "three");
        keep.syncTag(APP, new Tag("v3"));
        source.registry.manifests().delete(APP, new Tag("v3"));
        assertFalse(keep.syncTag(APP, new Tag("v3")));
        assertTrue(onTarget("team-a/app", "v3").isPresent(), "deletes: false leaves the target alone");
    }

    @Test
    void anIndexFilteredByPlatformIsSparseOnTheTargetAndReferrersFollow() throws IOException {
        Digest amd = images.image(APP, null, "amd");
        Digest arm = images.image(APP, null, "arm");
        Digest index = images.index(APP, "multi", amd, arm);
        Digest signature = images.referrer(APP, index, "sig");
        Copier c = copier(config("mirror/", false, List.of("linux/amd64"), null));
        c.syncTag(APP, new Tag("multi"));
        RepositoryName mirrored = RepositoryName.of("mirror/team-a/app");
        assertEquals(
                index,
                target.registry.metadata().tags().target(mirrored, "multi").orElseThrow(),
                "same digest, prefixed");
        assertTrue(target.registry.metadata().manifests().exists(mirrored, amd));
        assertFalse(target.registry.metadata().manifests().exists(mirrored, arm), "the other platform stays behind");
        assertTrue(target.registry.metadata().manifests().exists(mirrored, signature), "the signature followed");

        // a signature pushed later follows its subject, by its own event
        Digest later = images.referrer(APP, index, "sig-2");
        assertTrue(c.syncDigest(APP, later));
        assertTrue(target.registry.metadata().manifests().exists(mirrored, later));
    }

    @Test
    void aBlobTheTargetHoldsElsewhereIsMountedNotCopied() throws IOException {
        BlobInfo shared = images.blob(APP, Images.bytes("a shared base layer " + "x".repeat(10_000)));
        BlobInfo config = images.blob(APP, Images.bytes("{}"));
        images.put(APP, "v1", MediaTypes.OCI_MANIFEST, Images.imageManifest(config, List.of(shared), null));
        RepositoryName other = RepositoryName.of("team-a/other");
        BlobInfo otherConfig = images.blob(other, Images.bytes("{\"other\":1}"));
        images.blob(other, Images.bytes("a shared base layer " + "x".repeat(10_000)));
        images.put(other, "v1", MediaTypes.OCI_MANIFEST, Images.imageManifest(otherConfig, List.of(shared), null));
        Copier c = copier(config("", false, List.of(), null));
        c.syncTag(APP, new Tag("v1"));
        long before = c.bytesCopied.get();
        c.syncTag(other, new Tag("v1"));
        assertEquals(1, c.blobsMounted.get());
        assertEquals(before + "{\"other\":1}".length(), c.bytesCopied.get(), "only the config moved");
        assertTrue(target.registry.metadata().blobs().linked(other, shared.digest()));
    }

    @Test
    void aLayerSharedByRepositoriesCopiedAtOnceIsStreamedOnceAndMountedIntoTheOthers() throws Exception {
        byte[] base = new byte[2 << 20];
        new Random(3).nextBytes(base);
        List<RepositoryName> repositories = new ArrayList<>();
        long configs = 0;
        for (int i = 0; i < 4; i++) {
            RepositoryName repo = RepositoryName.of("team-a/app-" + i);
            repositories.add(repo);
            BlobInfo layer = images.blob(repo, base);
            BlobInfo config = images.blob(repo, Images.bytes("{\"app\":" + i + "}"));
            configs += config.size();
            images.put(repo, "v1", MediaTypes.OCI_MANIFEST, Images.imageManifest(config, List.of(layer), null));
        }
        // 8 MiB/s: the first copy of the base layer takes a quarter of a second, so all four start on it
        // before any has finished
        RateLimiter slow = RateLimiter.of(
                "test",
                RateLimiterConfig.custom()
                        .limitRefreshPeriod(Duration.ofMillis(100))
                        .limitForPeriod(8 * 1024 / 10)
                        .timeoutDuration(Duration.ofMinutes(1))
                        .build());
        Copier c = new Copier(
                client(source.uri("/")),
                client(target.uri("/")),
                config("", false, List.of(), null),
                slow,
                Copier.CHUNK);
        CountDownLatch start = new CountDownLatch(1);
        ExecutorService pool = Executors.newFixedThreadPool(repositories.size());
        try {
            List<Future<Boolean>> copies = new ArrayList<>();
            for (RepositoryName repo : repositories) {
                copies.add(pool.submit(() -> {
                    start.await();
                    return c.syncTag(repo, new Tag("v1"));
                }));
            }
            start.countDown();
            for (Future<Boolean> copy : copies) {
                assertTrue(copy.get(1, TimeUnit.MINUTES));
            }
        } finally {
            pool.shutdownNow();
        }
        assertEquals(base.length + configs, c.bytesCopied.get(), "the base layer was sent once");
        assertEquals(3, c.blobsMounted.get(), "and mounted into the three other repositories");
        for (RepositoryName repo : repositories) {
            assertTrue(onTarget(repo.value(), "v1").isPresent());
            assertTrue(target.registry.metadata().blobs().linked(repo, TestRegistry.sha256(base)));
        }
    }

    @Test
    void aTargetThatRefusesAMountWithAnErrorGetsTheBlobUploaded() throws Exception {
        BlobInfo shared = images.blob(APP, Images.bytes("a shared base layer " + "x".repeat(10_000)));
        BlobInfo config = images.blob(APP, Images.bytes("{}"));
        images.put(APP, "v1", MediaTypes.OCI_MANIFEST, Images.imageManifest(config, List.of(shared), null));
        RepositoryName other = RepositoryName.of("team-a/other");
        BlobInfo otherConfig = images.blob(other, Images.bytes("{\"other\":1}"));
        images.blob(other, Images.bytes("a shared base layer " + "x".repeat(10_000)));
        images.put(other, "v1", MediaTypes.OCI_MANIFEST, Images.imageManifest(otherConfig, List.of(shared), null));
        AtomicLong refused = new AtomicLong();
        // a registry without mounts that says so with an error, not the 202 the spec asks for
        Interposer.Rule rule = (x, to) -> {
            if (to.contains("mount=")) {
                refused.incrementAndGet();
                Interposer.answer(x, 405, "UNSUPPORTED");
                return null;
            }
            return to;
        };
        try (Interposer noMounts = new Interposer(target.uri("/"), rule)) {
            Copier c = copier(config("", false, List.of(), null), noMounts.uri(), Copier.CHUNK);
            c.syncTag(APP, new Tag("v1"));
            long before = c.bytesCopied.get();
            assertTrue(c.syncTag(other, new Tag("v1")));
            assertEquals(1, refused.get());
            assertEquals(0, c.blobsMounted.get());
            assertEquals(before + shared.size() + "{\"other\":1}".length(), c.bytesCopied.get(), "uploaded");
            // each copy asks (a refusal may be for one repository only) and uploads when refused
            RepositoryName third = RepositoryName.of("team-a/third");
            images.blob(third, Images.bytes("a shared base layer " + "x".repeat(10_000)));
            images.blob(third, Images.bytes("{}"));
            images.put(third, "v1", MediaTypes.OCI_MANIFEST, Images.imageManifest(config, List.of(shared), null));
            assertTrue(c.syncTag(third, new Tag("v1")));
            assertEquals(3, refused.get(), "the config and the layer");
            assertEquals(0, c.blobsMounted.get());
        }
        assertTrue(target.registry.metadata().blobs().linked(other, shared.digest()));
        assertTrue(target.registry.metadata().blobs().linked(RepositoryName.of("team-a/third"), shared.digest()));
    }

    /** Four repositories of one image each: a 2 MiB base layer they share, a config of their own. */
    List<RepositoryName> sharingABaseLayer(byte[] base) throws IOException {
        List<RepositoryName> repositories = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            RepositoryName repo = RepositoryName.of("team-a/app-" + i);
            repositories.add(repo);
            BlobInfo layer = images.blob(repo, base);
            BlobInfo config = images.blob(repo, Images.bytes("{\"app\":" + i + "}"));
            images.put(repo, "v1", MediaTypes.OCI_MANIFEST, Images.imageManifest(config, List.of(layer), null));
        }
        return repositories;
    }

    /** 8 MiB/s: a 2 MiB layer takes a quarter of a second. */
    static RateLimiter eightMibPerSecond() {
        return RateLimiter.of(
                "test",
                RateLimiterConfig.custom()
                        .limitRefreshPeriod(Duration.ofMillis(100))
                        .limitForPeriod(8 * 1024 / 10)
                        .timeoutDuration(Duration.ofMinutes(1))
                        .build());
    }

    @Test
    void aTargetThatRefusesMountsGetsTheSharedLayerUploadedIntoEachRepository() throws Exception {
        byte[] base = new byte[2 << 20];
        new Random(5).nextBytes(base);
        List<RepositoryName> repositories = sharingABaseLayer(base);
        // the target answers every mount with a plain upload (202), as the spec allows
        try (Interposer refusing = new Interposer(
                target.uri("/"), (x, to) -> to.contains("mount=") ? to.substring(0, to.indexOf('?')) : to)) {
            Copier c = new Copier(
                    client(source.uri("/")),
                    client(refusing.uri()),
                    config("", false, List.of(), null),
                    eightMibPerSecond(),
                    Copier.CHUNK);
            ExecutorService pool = Executors.newFixedThreadPool(repositories.size());
            try {
                List<Future<Boolean>> copies = new ArrayList<>();
                for (RepositoryName repo : repositories) {
                    copies.add(pool.submit(() -> c.syncTag(repo, new Tag("v1"))));
                }
                for (Future<Boolean> copy : copies) {
                    assertTrue(copy.get(1, TimeUnit.MINUTES));
                }
            } finally {
                pool.shutdownNow();
            }
            assertEquals(0, c.blobsMounted.get());
            assertTrue(c.bytesCopied.get() >= 4L * base.length, "uploaded into each: " + c.bytesCopied.get());
        }
        for (RepositoryName repo : repositories) {
            assertTrue(onTarget(repo.value(), "v1").isPresent());
            assertTrue(target.registry.metadata().blobs().linked(repo, TestRegistry.sha256(base)));
        }
    }

    @Test
    void whenTheCopyOthersWaitForFailsOneOfThemSendsTheLayerAndTheRestMountIt() throws Exception {
        byte[] base = new byte[2 << 20];
        new Random(9).nextBytes(base);
        List<RepositoryName> repositories = sharingABaseLayer(base);
        Digest digest = TestRegistry.sha256(base);
        String first = "/v2/" + repositories.get(0).value() + "/";
        CountDownLatch firstAsked = new CountDownLatch(1);
        CountDownLatch othersAsked = new CountDownLatch(repositories.size() - 1);
        AtomicBoolean failed = new AtomicBoolean();
        // app-0 asks first whether the target holds the base layer; its upload of it is held until the
        // others have asked too (and wait for it), then refused
        Interposer.Rule rule = (x, to) -> {
            if (x.getRequestMethod().equals("HEAD") && to.endsWith("/blobs/" + digest)) {
                if (to.startsWith(first)) {
                    firstAsked.countDown();
                } else {
                    othersAsked.countDown();
                }
            }
            if (x.getRequestMethod().equals("POST")
                    && to.startsWith(first + "blobs/uploads/")
                    && firstAsked.getCount() == 0
                    && failed.compareAndSet(false, true)) {
                try {
                    othersAsked.await(30, TimeUnit.SECONDS);
                    Thread.sleep(200);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                Interposer.answer(x, 500, "UNKNOWN");
                return null;
            }
            return to;
        };
        try (Interposer failing = new Interposer(target.uri("/"), rule)) {
            Copier c = new Copier(
                    client(source.uri("/")),
                    client(failing.uri()),
                    config("", false, List.of(), null),
                    eightMibPerSecond(),
                    Copier.CHUNK);
            ExecutorService pool = Executors.newFixedThreadPool(repositories.size());
            try {
                Future<Boolean> leader = pool.submit(() -> c.syncTag(repositories.get(0), new Tag("v1")));
                assertTrue(firstAsked.await(30, TimeUnit.SECONDS));
                List<Future<Boolean>> waiting = new ArrayList<>();
                for (RepositoryName repo : repositories.subList(1, repositories.size())) {
                    waiting.add(pool.submit(() -> c.syncTag(repo, new Tag("v1"))));
                }
                ExecutionException e = assertThrows(ExecutionException.class, () -> leader.get(1, TimeUnit.MINUTES));
                assertTrue(e.getCause() instanceof IOException, e.toString());
                for (Future<Boolean> copy : waiting) {
                    assertTrue(copy.get(1, TimeUnit.MINUTES), "a repository waiting for the failed copy got it");
                }
            } finally {
                pool.shutdownNow();
            }
            assertTrue(failed.get());
            assertEquals(2, c.blobsMounted.get(), "sent by one of the three, mounted into the other two");
            assertTrue(c.bytesCopied.get() < 2L * base.length, "sent once: " + c.bytesCopied.get());
        }
        assertTrue(onTarget(repositories.get(0).value(), "v1").isEmpty());
        for (RepositoryName repo : repositories.subList(1, repositories.size())) {
            assertTrue(onTarget(repo.value(), "v1").isPresent());
            assertTrue(target.registry.metadata().blobs().linked(repo, digest));
        }
    }

    @Test
    void aCopyCutByAConnectionResetResumesAtTheTargetsOffset() throws Exception {
        byte[] big = new byte[20 << 20];
        new Random(7).nextBytes(big);
        BlobInfo layer = images.blob(APP, big);
        BlobInfo config = images.blob(APP, Images.bytes("{}"));
        images.put(APP, "big", MediaTypes.OCI_MANIFEST, Images.imageManifest(config, List.of(layer), null));
        try (CuttingProxy proxy = new CuttingProxy(target.port(), 10 << 20)) {
            Copier c = copier(
                    config("", false, List.of(), null), URI.create("http://127.0.0.1:" + proxy.port() + "/"), 4 << 20);
            c.syncTag(APP, new Tag("big"));
            assertTrue(proxy.cut.get(), "the proxy did cut a connection");
            long sent = c.bytesCopied.get();
            assertTrue(sent >= big.length && sent < big.length + (8L << 20), "resumed, not restarted: " + sent);
        }
        var b = target.registry.blobs().stat(APP, layer.digest());
        try (InputStream in = target.registry.blobs().open(APP, b, 0, b.size())) {
            assertEquals(layer.digest(), Digest.compute(DigestAlgorithm.SHA256, in.readAllBytes()));
        }
    }

    @Test
    void aRepositoryGoneFromTheSourceIsDeletedFromTheTarget() throws IOException {
        images.image(APP, "v1", "one");
        images.image(APP, "v2", "two");
        RepositoryName other = RepositoryName.of("team-a/other");
        images.image(other, "v1", "other");
        Copier c = copier(config("", true, List.of(), null));
        c.syncTag(APP, new Tag("v1"));
        c.syncTag(APP, new Tag("v2"));
        c.syncTag(other, new Tag("v1"));
        assertEquals(0, c.deleteRepository(APP, null), "the source still has it");
        source.registry.repositories().delete(Caller.at("x"), APP);
        assertEquals(2, c.deleteRepository(APP, null));
        assertEquals(2, c.deletes.get(), "each delete counted (and logged)");
        // a source that lists nothing at all is no evidence: its last repository stays on the target
        source.registry.repositories().delete(Caller.at("x"), other);
        assertEquals(0, c.deleteRepository(other, null));
        assertTrue(target.registry.metadata().tags().target(other, "v1").isPresent());
        assertTrue(target.registry.metadata().tags().names(APP, null, 10).isEmpty());
    }

    @Test
    void aRepositoryGoneFromTheSourceTakesOnlyTheTagsThisTargetReplicates() throws IOException {
        images.image(APP, "v1", "one");
        images.image(APP, "v2", "two");
        images.image(RepositoryName.of("team-a/other"), "v1", "other"); // the catalog lists something
        Copier c = copier(config("", true, List.of(), "v.*"));
        c.syncTag(APP, new Tag("v1"));
        c.syncTag(APP, new Tag("v2"));
        // the target's own tags in that repository, outside the filter: one of them names v1's manifest
        Images onTarget = new Images(target.registry);
        onTarget.image(APP, "latest", "local");
        ManifestRecord v1 = target.registry.manifests().get(APP, new Tag("v1"));
        target.registry.manifests().put(APP, new Tag("nightly"), v1.mediaType(), v1.payload());
        source.registry.repositories().delete(Caller.at("x"), APP);
        // before: every tag's manifest was deleted by digest, latest and nightly with them
        assertEquals(1, c.deleteRepository(APP, null), "v2 only: v1's manifest is also nightly's");
        assertTrue(target.registry.metadata().tags().target(APP, "latest").isPresent());
        assertTrue(target.registry.metadata().tags().target(APP, "nightly").isPresent());
        assertTrue(target.registry.metadata().tags().target(APP, "v2").isEmpty());
    }

    @Test
    void aTargetThatRefusesSaysWhy() {
        Digest amd = images.image(APP, null, "amd");
        Digest arm = images.image(APP, null, "arm");
        images.index(APP, "multi", amd, arm);
        try (TestRegistry strict = new TestRegistry(dir.resolve("strict"))) {
            Copier c = copier(config("", false, List.of("linux/amd64"), null), strict.uri("/"), Copier.CHUNK);
            OciClient.OciException e =
                    assertThrows(OciClient.OciException.class, () -> c.syncTag(APP, new Tag("multi")));
            assertEquals("MANIFEST_BLOB_UNKNOWN", e.code(), "a sparse index needs manifests.allow-sparse there");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Test
    void anUnreachableTargetIsSaidWithTheRequestTheAddressAndTheCause() throws IOException {
        images.image(APP, "v1", "unreachable");
        int closed;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            closed = s.getLocalPort();
        }
        Reachability reachability = new Reachability("replication target b");
        OciClient dead = new OciClient(
                URI.create("http://127.0.0.1:" + closed + "/"), "", "", null, Duration.ofSeconds(30), reachability);
        Copier c = new Copier(client(source.uri("/")), dead, config("", false, List.of(), null), null, Copier.CHUNK);
        IOException e = assertThrows(IOException.class, () -> c.syncTag(APP, new Tag("v1")));
        assertEquals(
                "HEAD http://127.0.0.1:" + closed + "/v2/" + APP.value() + "/manifests/v1: connection refused",
                e.getMessage());
        assertTrue(reachability.down());
        assertEquals(e.getMessage(), reachability.lastFailure());
        // an answer of any status means it is there again
        OciClient back = new OciClient(target.uri("/"), "", "", null, Duration.ofSeconds(30), reachability);
        back.ping();
        assertFalse(reachability.down());
    }

    /** Forwards to the target; cuts (RST) the first connection that sends more than {@code after} bytes. */
    static final class CuttingProxy implements AutoCloseable {
        final ServerSocket server;
        final AtomicBoolean cut = new AtomicBoolean();

        CuttingProxy(int targetPort, long after) throws IOException {
            server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
            Thread.ofPlatform().daemon().start(() -> {
                while (!server.isClosed()) {
                    try {
                        Socket client = server.accept();
                        Socket upstream = new Socket(InetAddress.getLoopbackAddress(), targetPort);
                        AtomicLong sent = new AtomicLong();
                        Thread.ofPlatform().daemon().start(() -> pipe(client, upstream, sent, after));
                        Thread.ofPlatform().daemon().start(() -> pipe(upstream, client, new AtomicLong(), -1));
                    } catch (IOException e) {
                        return;
                    }
                }
            });
        }

        private void pipe(Socket from, Socket to, AtomicLong sent, long after) {
            byte[] buf = new byte[64 << 10];
            try (InputStream in = from.getInputStream();
                    OutputStream out = to.getOutputStream()) {
                int n;
                while ((n = in.read(buf)) > 0) {
                    out.write(buf, 0, n);
                    if (after > 0 && sent.addAndGet(n) > after && cut.compareAndSet(false, true)) {
                        from.setSoLinger(true, 0);
                        to.setSoLinger(true, 0);
                        from.close();
                        to.close();
                        return;
                    }
                }
            } catch (IOException e) {
                // the other side closed
            } finally {
                try {
                    from.close();
                    to.close();
                } catch (IOException e) {
                    // closed
                }
            }
        }

        int port() {
            return server.getLocalPort();
        }

        @Override
        public void close() throws IOException {
            server.close();
        }
    }

    @Test
    void copiesFromAnHtpasswdSourceToATargetBehindTheTokenFlow() throws Exception {
        Files.writeString(
                dir.resolve("htpasswd"),
                "repl:" + BCrypt.hashpw("repl-pw", BCrypt.gensalt(4)) + "\n" + "reader:"
                        + BCrypt.hashpw("reader-pw", BCrypt.gensalt(4)) + "\n");
        Files.writeString(dir.resolve("policy.yaml"), """
                rules:
                  - repositories: ["**"]
                    subjects: [repl]
                    actions: [pull, push, delete]
                  - repositories: ["**"]
                    subjects: [reader]
                    actions: [pull]
                """);
        Map<String, String> auth = Map.of(
                "auth.htpasswd.path",
                dir.resolve("htpasswd").toString(),
                "auth.policy",
                dir.resolve("policy.yaml").toString(),
                "auth.token.key-file",
                dir.resolve("key.pem").toString());
        try (TestRegistry basicSource = new TestRegistry(dir.resolve("c"), with(auth, "auth.type", "htpasswd"));
                TestRegistry tokenTarget = new TestRegistry(dir.resolve("d"), with(auth, "auth.type", "token"))) {
            Images onSource = new Images(basicSource.registry);
            Digest v1 = onSource.image(APP, "v1", "auth");
            onSource.image(RepositoryName.of("team-a/other"), "v1", "auth"); // the same blobs: mounted on the target
            OciClient from = new OciClient(basicSource.uri("/"), "reader", "reader-pw", null, Duration.ofSeconds(30));
            OciClient to = new OciClient(tokenTarget.uri("/"), "repl", "repl-pw", null, Duration.ofSeconds(30));
            Copier c = new Copier(from, to, config("", true, List.of(), null), null, Copier.CHUNK);
            assertTrue(c.syncTag(APP, new Tag("v1")));
            assertTrue(c.syncTag(RepositoryName.of("team-a/other"), new Tag("v1")));
            assertEquals(
                    v1, tokenTarget.registry.metadata().tags().target(APP, "v1").orElseThrow());
            assertTrue(c.blobsMounted.get() > 0, "blobs of another repository were mounted, with pull on it");
            basicSource.registry.manifests().delete(APP, new Tag("v1"));
            assertTrue(c.syncTag(APP, new Tag("v1")));
            assertTrue(
                    tokenTarget.registry.metadata().tags().target(APP, "v1").isEmpty(),
                    "deletes go through the token flow");
            // a reader cannot write: the copier says why
            OciClient readerOnTarget =
                    new OciClient(tokenTarget.uri("/"), "reader", "reader-pw", null, Duration.ofSeconds(30));
            onSource.image(APP, "v2", "denied");
            Copier denied = new Copier(from, readerOnTarget, config("", true, List.of(), null), null, Copier.CHUNK);
            Exception e = Assertions.assertThrows(Exception.class, () -> denied.syncTag(APP, new Tag("v2")));
            assertTrue(
                    String.valueOf(e.getMessage()).contains("403")
                            || String.valueOf(e.getMessage()).contains("DENIED")
                            || String.valueOf(e.getMessage()).contains("401"),
                    e.toString());
        }
    }

    @Test
    void copiesToAnHttpsTargetTrustingItsCaFileAndNotWithoutIt() throws Exception {
        TestPki pki = TestPki.create(dir.resolve("pki"));
        pki.server("target", "7a");
        try (TestRegistry https = new TestRegistry(
                dir.resolve("tls"),
                Map.of(
                        "http.tls.cert",
                        pki.cert("target").toString(),
                        "http.tls.key",
                        pki.key("target").toString()))) {
            URI uri = URI.create("https://127.0.0.1:" + https.port() + "/");
            Digest v1 = images.image(APP, "v1", "tls");
            OciClient trusting = new OciClient(
                    uri,
                    "",
                    "",
                    Tls.context(new OciEndpoint(uri, "", "", Optional.of(pki.ca()), false)),
                    Duration.ofSeconds(30));
            assertTrue(
                    new Copier(client(source.uri("/")), trusting, config("", true, List.of(), null), null, Copier.CHUNK)
                            .syncTag(APP, new Tag("v1")));
            assertEquals(v1, https.registry.metadata().tags().target(APP, "v1").orElseThrow());
            images.image(APP, "v2", "tls2");
            OciClient untrusting = new OciClient(uri, "", "", null, Duration.ofSeconds(30));
            Exception e = Assertions.assertThrows(
                    Exception.class,
                    () -> new Copier(
                                    client(source.uri("/")),
                                    untrusting,
                                    config("", true, List.of(), null),
                                    null,
                                    Copier.CHUNK)
                            .syncTag(APP, new Tag("v2")));
            assertTrue(
                    String.valueOf(e).toLowerCase().contains("certificat")
                            || String.valueOf(e).contains("SSL")
                            || String.valueOf(e).contains("PKIX"),
                    e.toString());
            assertTrue(https.registry.metadata().tags().target(APP, "v2").isEmpty());
            OciClient insecure = new OciClient(
                    uri,
                    "",
                    "",
                    Tls.context(new OciEndpoint(uri, "", "", Optional.empty(), true)),
                    Duration.ofSeconds(30));
            assertTrue(
                    new Copier(client(source.uri("/")), insecure, config("", true, List.of(), null), null, Copier.CHUNK)
                            .syncTag(APP, new Tag("v2")));
        }
    }

    private static Map<String, String> with(Map<String, String> base, String key, String value) {
        Map<String, String> m = new HashMap<>(base);
        m.put(key, value);
        return m;
    }
}
