package io.berth.core.registry;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.berth.core.blob.BlobReadException;
import io.berth.core.blob.FaultyBlobStore;
import io.berth.core.blob.FileSync;
import io.berth.core.blob.FilesystemBlobStore;
import io.berth.core.config.BerthConfig;
import io.berth.core.error.ErrorCode;
import io.berth.core.error.RegistryException;
import io.berth.core.metadata.MetadataException;
import io.berth.core.metadata.MetadataStore;
import io.berth.core.metadata.RecordingMetadataStore;
import io.berth.core.metadata.UploadSession;
import io.berth.core.metadata.sqlite.SqliteMetadataStore;
import io.berth.core.model.Caller;
import io.berth.core.model.Digest;
import io.berth.core.model.DigestAlgorithm;
import io.berth.core.model.MediaTypes;
import io.berth.core.model.Reference;
import io.berth.core.model.RepositoryName;
import io.berth.core.model.Tag;
import io.berth.core.model.UploadId;
import io.berth.testsupport.MutableClock;
import java.io.ByteArrayInputStream;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RegistryTest {
    static final RepositoryName REPO = RepositoryName.of("team/app");

    @TempDir
    Path dir;

    Registry registry;

    @BeforeEach
    void open() throws IOException {
        registry = open(RegistryOptions.defaults());
    }

    Registry open(RegistryOptions options) throws IOException {
        return new Registry(
                new FilesystemBlobStore(dir.resolve("blobs"), false),
                new SqliteMetadataStore(dir.resolve("berth.db")),
                options);
    }

    @AfterEach
    void close() {
        registry.close();
    }

    static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    static InputStream in(byte[] b) {
        return new ByteArrayInputStream(b);
    }

    BlobInfo push(RepositoryName repo, byte[] content) {
        return registry.uploads()
                .putMonolithic(
                        repo,
                        Digest.compute(DigestAlgorithm.SHA256, content),
                        OptionalLong.of(content.length),
                        in(content));
    }

    byte[] read(RepositoryName repo, Digest d) throws IOException {
        BlobInfo b = registry.blobs().stat(repo, d);
        try (InputStream i = registry.blobs().open(repo, b, 0, b.size())) {
            return i.readAllBytes();
        }
    }

    private Path blobFile(Digest d) {
        return dir.resolve("blobs/blobs/sha256")
                .resolve(d.hex().substring(0, 2))
                .resolve(d.hex());
    }

    @Test
    void smallBlobsAreReadWholeWithRangesAndKeptInMemory() throws IOException {
        byte[] content = bytes("a small config blob");
        Digest d = push(REPO, content).digest();
        BlobInfo b = registry.blobs().stat(REPO, d);
        assertArrayEquals(content, registry.blobs().readSmall(REPO, b, 0, content.length));
        assertArrayEquals(bytes("small"), registry.blobs().readSmall(REPO, b, 2, 5));
        // read once, served from memory: storage is not asked again (its file could be gone)
        Files.delete(blobFile(d));
        assertArrayEquals(content, registry.blobs().readSmall(REPO, b, 0, content.length));
        assertThrows(IllegalArgumentException.class, () -> registry.blobs().readSmall(REPO, b, 10, 100));
        // the empty blob needs no read at all
        BlobInfo empty = push(REPO, new byte[0]);
        Files.delete(blobFile(empty.digest()));
        assertArrayEquals(new byte[0], registry.blobs().readSmall(REPO, empty, 0, 0));
    }

    @Test
    void aSmallBlobWhoseBytesDoNotMatchItsDigestIsReportedNotServedNorKept() throws IOException {
        byte[] content = bytes("the right bytes");
        Digest d = push(REPO, content).digest();
        BlobInfo b = registry.blobs().stat(REPO, d);
        Files.write(blobFile(d), bytes("the wrong bytes")); // same length, other content
        UncheckedIOException e =
                assertThrows(UncheckedIOException.class, () -> registry.blobs().readSmall(REPO, b, 0, content.length));
        assertTrue(e.getCause() instanceof BlobReadException, e.toString());
        assertTrue(
                e.getCause().getMessage().contains("does not match its digest"),
                e.getCause().getMessage());
        assertEquals(d, registry.storageHealth().damagedBlobs().get(0).digest());
        // pushing it again mends it, and the right bytes are what is then served
        push(REPO, content);
        assertArrayEquals(content, registry.blobs().readSmall(REPO, b, 0, content.length));
    }

    @Test
    void chunkedUploadVerifiesDigestAndLinksBlob() throws IOException {
        byte[] content = bytes("chunk one|chunk two");
        UploadSession s = registry.uploads().start(REPO);
        assertEquals(
                10,
                registry.uploads()
                        .append(REPO, s.id(), OptionalLong.of(0), OptionalLong.of(10), in(bytes("chunk one|")))
                        .size());
        UploadRangeException e = assertThrows(
                UploadRangeException.class,
                () -> registry.uploads()
                        .append(
                                REPO,
                                s.id(),
                                OptionalLong.of(3),
                                OptionalLong.empty(),
                                in(bytes("x")))); // out of order
        assertEquals(10, e.currentSize());
        Digest d = Digest.compute(DigestAlgorithm.SHA256, content);
        BlobInfo blob = registry.uploads()
                .complete(REPO, s.id(), d, OptionalLong.of(10), OptionalLong.empty(), in(bytes("chunk two")));
        assertEquals(content.length, blob.size());
        assertArrayEquals(content, read(REPO, d));
        assertThrows(RegistryException.class, () -> registry.uploads().status(REPO, s.id()));
    }

    @Test
    void sha512BlobsWork() throws IOException {
        byte[] content = bytes("sha512 content");
        Digest d = Digest.compute(DigestAlgorithm.SHA512, content);
        registry.uploads().putMonolithic(REPO, d, OptionalLong.empty(), in(content));
        assertArrayEquals(content, read(REPO, d));
        // chunked too: the sha256 state kept while streaming cannot serve sha512, so it is recomputed
        UploadSession s = registry.uploads().start(REPO);
        registry.uploads().append(REPO, s.id(), OptionalLong.empty(), OptionalLong.empty(), in(bytes("abc")));
        Digest d2 = Digest.compute(DigestAlgorithm.SHA512, bytes("abcdef"));
        registry.uploads().complete(REPO, s.id(), d2, OptionalLong.empty(), OptionalLong.empty(), in(bytes("def")));
        assertArrayEquals(bytes("abcdef"), read(REPO, d2));
    }

    @Test
    void wrongDigestLeavesNothingBehind() throws IOException {
        Digest wrong = Digest.compute(DigestAlgorithm.SHA256, bytes("other"));
        RegistryException e = assertThrows(
                RegistryException.class,
                () -> registry.uploads().putMonolithic(REPO, wrong, OptionalLong.empty(), in(bytes("content"))));
        assertEquals(ErrorCode.DIGEST_INVALID, e.code());
        assertThrows(RegistryException.class, () -> registry.blobs().stat(REPO, wrong));
        assertTrue(registry.blobStore().list().isEmpty());
        assertTrue(registry.blobStore().listUploads().isEmpty());
        assertTrue(registry.metadata().uploads().idleSince(Long.MAX_VALUE).isEmpty());
    }

    @Test
    void declaredLengthMustMatchBody() {
        UploadSession s = registry.uploads().start(REPO);
        RegistryException e = assertThrows(
                RegistryException.class,
                () -> registry.uploads()
                        .append(REPO, s.id(), OptionalLong.empty(), OptionalLong.of(99), in(bytes("short"))));
        assertEquals(ErrorCode.SIZE_INVALID, e.code());
        assertEquals(0, registry.uploads().status(REPO, s.id()).size());
    }

    @Test
    void uploadsResumeAfterRestart() throws IOException {
        UploadSession s = registry.uploads().start(REPO);
        registry.uploads().append(REPO, s.id(), OptionalLong.of(0), OptionalLong.empty(), in(bytes("before ")));
        registry.close();
        registry = open(RegistryOptions.defaults());
        assertEquals(7, registry.uploads().status(REPO, s.id()).size());
        registry.uploads().append(REPO, s.id(), OptionalLong.of(7), OptionalLong.empty(), in(bytes("and after")));
        Digest d = Digest.compute(DigestAlgorithm.SHA256, bytes("before and after"));
        registry.uploads().complete(REPO, s.id(), d, OptionalLong.empty(), OptionalLong.empty(), null);
        assertArrayEquals(bytes("before and after"), read(REPO, d));
    }

    @Test
    void bytesOfAnUnacknowledgedChunkAreNotPartOfTheBlob() throws IOException {
        UploadSession s = registry.uploads().start(REPO);
        registry.uploads().append(REPO, s.id(), OptionalLong.empty(), OptionalLong.empty(), in(bytes("kept")));
        // as if the process died after writing a chunk but before recording it
        registry.blobStore().append(s.id(), 4, in(bytes(" and lost")));
        registry.close();
        registry = open(RegistryOptions.defaults());
        Digest d = Digest.compute(DigestAlgorithm.SHA256, bytes("kept"));
        BlobInfo blob = registry.uploads().complete(REPO, s.id(), d, OptionalLong.empty(), OptionalLong.empty(), null);
        assertEquals(4, blob.size());
        assertArrayEquals(bytes("kept"), read(REPO, d));
    }

    @Test
    void uploadsBelongToTheirRepository() {
        UploadSession s = registry.uploads().start(REPO);
        RegistryException e = assertThrows(
                RegistryException.class, () -> registry.uploads().status(RepositoryName.of("other"), s.id()));
        assertEquals(ErrorCode.BLOB_UPLOAD_UNKNOWN, e.code());
    }

    @Test
    void cancelledUploadsAreGone() throws IOException {
        UploadSession s = registry.uploads().start(REPO);
        registry.uploads().cancel(REPO, s.id());
        assertThrows(RegistryException.class, () -> registry.uploads().status(REPO, s.id()));
        assertTrue(registry.blobStore().listUploads().isEmpty());
    }

    @Test
    void expiredUploadsArePurged() throws Exception {
        registry.close();
        MutableClock clock = new MutableClock();
        registry = new Registry(
                new FilesystemBlobStore(dir.resolve("expiry"), false),
                new SqliteMetadataStore(dir.resolve("expiry.db"), clock),
                RegistryOptions.of(Map.of("uploads.expiry", "1h")),
                clock);
        UploadSession idle = registry.uploads().start(REPO);
        UploadSession active = registry.uploads().start(REPO);
        clock.advance(Duration.ofMinutes(50));
        assertEquals(0, registry.purgeUploads(), "nothing is older than the expiry yet");
        // a PATCH counts as activity: it keeps its session alive
        registry.uploads().append(REPO, active.id(), OptionalLong.empty(), OptionalLong.empty(), in(bytes("x")));
        clock.advance(Duration.ofMinutes(20));
        assertEquals(1, registry.purgeUploads());
        assertThrows(RegistryException.class, () -> registry.uploads().status(REPO, idle.id()));
        assertEquals(1, registry.uploads().status(REPO, active.id()).size());
        // a staging file no session knows is an orphan and goes
        UploadId orphan = UploadId.random();
        registry.blobStore().createUpload(orphan);
        registry.purgeUploads();
        assertEquals(List.of(active.id()), registry.blobStore().listUploads());
        clock.advance(Duration.ofHours(2));
        assertEquals(1, registry.purgeUploads());
        assertTrue(registry.blobStore().listUploads().isEmpty());
    }

    @Test
    void mountWithAndWithoutFrom() {
        BlobInfo b = push(REPO, bytes("shared layer"));
        RepositoryName other = RepositoryName.of("other/app");
        assertTrue(registry.uploads()
                .mount(other, b.digest(), Optional.of(RepositoryName.of("nope")))
                .isEmpty());
        assertEquals(
                b,
                registry.uploads().mount(other, b.digest(), Optional.of(REPO)).orElseThrow());
        RepositoryName third = RepositoryName.of("third");
        assertEquals(
                b, registry.uploads().mount(third, b.digest(), Optional.empty()).orElseThrow());
        Digest unknown = Digest.compute(DigestAlgorithm.SHA256, bytes("unknown"));
        assertTrue(registry.uploads().mount(third, unknown, Optional.empty()).isEmpty());
    }

    @Test
    void concurrentPushesOfTheSameBlobAndTag() throws Exception {
        byte[] content = new byte[256 * 1024];
        new Random(1).nextBytes(content);
        Digest d = Digest.compute(DigestAlgorithm.SHA256, content);
        String manifest = imageManifest(d, content.length, d, content.length);
        ExecutorService pool = Executors.newFixedThreadPool(8);
        List<Future<?>> fs = new ArrayList<>();
        for (int i = 0; i < 16; i++) {
            fs.add(pool.submit(() -> {
                push(REPO, content);
                registry.manifests().put(REPO, new Tag("latest"), MediaTypes.OCI_MANIFEST, bytes(manifest));
                return null;
            }));
        }
        for (Future<?> f : fs) {
            f.get();
        }
        pool.shutdown();
        assertArrayEquals(content, read(REPO, d));
        assertEquals(1, registry.blobStore().list().size());
        assertTrue(registry.blobStore().listUploads().isEmpty());
        assertEquals(1, registry.metadata().tags().history(REPO, "latest").size());
    }

    static String imageManifest(Digest config, long configSize, Digest layer, long layerSize) {
        return """
                {"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",
                 "config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"%s","size":%d},
                 "layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"%s","size":%d}]}""".formatted(config, configSize, layer, layerSize);
    }

    @Test
    void manifestsNeedTheirBlobsAndChildren() {
        Digest missing = Digest.compute(DigestAlgorithm.SHA256, bytes("missing"));
        RegistryException e = assertThrows(
                RegistryException.class,
                () -> registry.manifests()
                        .put(
                                REPO,
                                new Tag("v1"),
                                MediaTypes.OCI_MANIFEST,
                                bytes(imageManifest(missing, 7, missing, 7))));
        assertEquals(ErrorCode.MANIFEST_BLOB_UNKNOWN, e.code());
        String index = """
                {"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[
                 {"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"%s","size":7}]}""".formatted(missing);
        e = assertThrows(
                RegistryException.class,
                () -> registry.manifests().put(REPO, new Tag("v1"), MediaTypes.OCI_INDEX, bytes(index)));
        // the spec: a manifest PUT naming an absent manifest is MANIFEST_BLOB_UNKNOWN, as for blobs
        assertEquals(ErrorCode.MANIFEST_BLOB_UNKNOWN, e.code());
        assertTrue(e.getMessage().contains(missing.toString()), e.getMessage());
        assertFalse(registry.metadata().repositories().exists(REPO));
    }

    /** A metadata store whose transactions fail while {@code failing} is set (a fault at a chosen moment). */
    static MetadataStore failingTransactions(MetadataStore real, AtomicBoolean failing) {
        return (MetadataStore) Proxy.newProxyInstance(
                RegistryTest.class.getClassLoader(), new Class<?>[] {MetadataStore.class}, (proxy, method, args) -> {
                    if (method.getName().equals("inTransaction") && failing.get()) {
                        throw new MetadataException("injected failure", null);
                    }
                    try {
                        return method.invoke(real, args);
                    } catch (InvocationTargetException e) {
                        throw e.getCause();
                    }
                });
    }

    @Test
    void pullTimesSurviveAFailedFlush() throws IOException {
        registry.close();
        var failing = new AtomicBoolean();
        SqliteMetadataStore real = new SqliteMetadataStore(dir.resolve("pulls.db"));
        registry = new Registry(
                new FilesystemBlobStore(dir.resolve("pulls"), false),
                failingTransactions(real, failing),
                RegistryOptions.defaults());
        BlobInfo config = push(REPO, bytes("{}"));
        BlobInfo layer = push(REPO, bytes("layer"));
        Digest m = registry.manifests()
                .put(
                        REPO,
                        new Tag("v1"),
                        MediaTypes.OCI_MANIFEST,
                        bytes(imageManifest(config.digest(), config.size(), layer.digest(), layer.size())))
                .digest();
        registry.manifests().get(REPO, new Tag("v1"));
        failing.set(true);
        registry.flushPulls(); // fails, logged
        failing.set(false);
        assertTrue(real.manifests().lastPulled(REPO, m).isEmpty());
        registry.flushPulls();
        assertTrue(real.manifests().lastPulled(REPO, m).isPresent(), "the drained batch was put back");
    }

    @Test
    void aReplicatorsPullIsCountedApartAndIsNoLastPull() throws IOException {
        registry.close();
        registry = open(RegistryOptions.from(BerthConfig.defaults(), Set.of("mirror", "robot:dr")));
        BlobInfo config = push(REPO, bytes("{}"));
        BlobInfo layer = push(REPO, bytes("layer"));
        Digest m = registry.manifests()
                .put(
                        REPO,
                        new Tag("v1"),
                        MediaTypes.OCI_MANIFEST,
                        bytes(imageManifest(config.digest(), config.size(), layer.digest(), layer.size())))
                .digest();
        Caller mirror = new Caller("10.0.0.9", "r1", "", "GET", "berth-replicator", "mirror", Caller.V2);
        Caller robot = new Caller("10.0.0.9", "r2", "", "GET", "berth-replicator", "robot:dr", Caller.V2);
        registry.manifests().get(mirror, REPO, new Tag("v1"));
        registry.manifests().get(robot, REPO, m);
        registry.flushPulls();
        assertTrue(registry.metadata().manifests().lastPulled(REPO, m).isEmpty(), "copies to other sites are no use");
        assertEquals(2, registry.manifestPulls(true));
        assertEquals(0, registry.manifestPulls(false));
        // anyone else's pull is one, whatever their user agent; anonymous callers are never replicators
        Caller anonymous = new Caller("10.0.0.8", "r3", "", "GET", "berth-replicator", "", Caller.V2);
        registry.manifests().get(anonymous, REPO, new Tag("v1"));
        registry.flushPulls();
        assertTrue(registry.metadata().manifests().lastPulled(REPO, m).isPresent());
        assertEquals(1, registry.manifestPulls(false));
    }

    @Test
    void runningDigestsOfVanishedSessionsAreDropped() throws IOException {
        UploadSession s = registry.uploads().start(REPO);
        registry.uploads().append(REPO, s.id(), OptionalLong.empty(), OptionalLong.empty(), in(bytes("abc")));
        assertEquals(1, registry.uploads().hashStates());
        // the session row disappears behind the upload's back (a cancel racing the append)
        registry.metadata().inTransaction(tx -> tx.uploads().delete(s.id()));
        registry.purgeUploads();
        assertEquals(0, registry.uploads().hashStates());
        UploadSession t = registry.uploads().start(REPO);
        registry.uploads().append(REPO, t.id(), OptionalLong.empty(), OptionalLong.empty(), in(bytes("abc")));
        registry.uploads().cancel(REPO, t.id());
        assertEquals(0, registry.uploads().hashStates());
    }

    @Test
    void completingAfterACrashBetweenMoveAndCommitSucceeds() throws IOException {
        byte[] content = bytes("moved, then the process died");
        Digest d = Digest.compute(DigestAlgorithm.SHA256, content);
        UploadSession s = registry.uploads().start(REPO);
        registry.uploads().append(REPO, s.id(), OptionalLong.empty(), OptionalLong.empty(), in(content));
        // what the crashed process did before its metadata commit: the blob is in place, the session remains
        registry.blobStore().commitUpload(s.id(), d);
        assertEquals(-1, registry.blobStore().uploadSize(s.id()));
        BlobInfo done = registry.uploads().complete(REPO, s.id(), d, OptionalLong.empty(), OptionalLong.empty(), null);
        assertEquals(d, done.digest());
        assertArrayEquals(content, read(REPO, d));
        assertThrows(RegistryException.class, () -> registry.uploads().status(REPO, s.id()));
    }

    @Test
    void completingAfterACrashAndARestartSucceedsForTheDigestThatWasVerified() throws IOException {
        byte[] content = bytes("verified, reserved, moved, then the process died");
        Digest d = Digest.compute(DigestAlgorithm.SHA256, content);
        UploadSession s = registry.uploads().start(REPO);
        registry.uploads().append(REPO, s.id(), OptionalLong.empty(), OptionalLong.empty(), in(content));
        // what the crashed process did: verified the bytes, reserved the digest, moved the file
        registry.metadata().inTransaction(tx -> tx.gc().reserve(d, s.id().value(), 0));
        registry.blobStore().commitUpload(s.id(), d);
        registry.close();
        registry = open(RegistryOptions.defaults()); // no running digest any more
        BlobInfo done = registry.uploads().complete(REPO, s.id(), d, OptionalLong.empty(), OptionalLong.empty(), null);
        assertEquals(d, done.digest());
        assertArrayEquals(content, read(REPO, d));
    }

    @Test
    void aSessionWhoseBytesAreGoneNeverBecomesAnotherBlobOfTheSameSize() throws IOException {
        // someone else's blob, in a repository the client cannot read
        byte[] secret = bytes("a private layer of 32 bytes.....");
        BlobInfo privateBlob = push(RepositoryName.of("private/app"), secret);
        byte[] mine = bytes("the client's own 32 bytes.......");
        assertEquals(secret.length, mine.length);
        Digest own = Digest.compute(DigestAlgorithm.SHA256, mine);

        // the client's staged bytes vanish under its session (a concurrent completion moved them, say)
        UploadSession s = registry.uploads().start(REPO);
        registry.uploads().append(REPO, s.id(), OptionalLong.empty(), OptionalLong.empty(), in(mine));
        registry.blobStore().commitUpload(s.id(), own);
        RegistryException e = assertThrows(
                RegistryException.class,
                () -> registry.uploads()
                        .complete(
                                REPO, s.id(), privateBlob.digest(), OptionalLong.empty(), OptionalLong.empty(), null));
        assertEquals(ErrorCode.DIGEST_INVALID, e.code(), "the running digest says what the bytes were");
        assertThrows(RegistryException.class, () -> registry.blobs().stat(REPO, privateBlob.digest()));

        // the same after a restart, when no running digest is left: nothing proves the bytes were that blob
        UploadSession t = registry.uploads().start(REPO);
        registry.uploads().append(REPO, t.id(), OptionalLong.empty(), OptionalLong.empty(), in(mine));
        registry.blobStore().commitUpload(t.id(), own);
        registry.close();
        registry = open(RegistryOptions.defaults());
        e = assertThrows(
                RegistryException.class,
                () -> registry.uploads()
                        .complete(
                                REPO, t.id(), privateBlob.digest(), OptionalLong.empty(), OptionalLong.empty(), null));
        assertEquals(ErrorCode.BLOB_UPLOAD_UNKNOWN, e.code());
        assertThrows(RegistryException.class, () -> registry.blobs().stat(REPO, privateBlob.digest()));
        assertArrayEquals(secret, read(RepositoryName.of("private/app"), privateBlob.digest()), "still its owner's");
    }

    @Test
    void aStagingFileShorterThanAcknowledgedEndsTheUploadInsteadOfAHole() throws IOException {
        UploadSession s = registry.uploads().start(REPO);
        registry.uploads().append(REPO, s.id(), OptionalLong.empty(), OptionalLong.empty(), in(bytes("0123456789")));
        registry.blobStore().truncateUpload(s.id(), 5);
        RegistryException e = assertThrows(
                RegistryException.class,
                () -> registry.uploads()
                        .append(REPO, s.id(), OptionalLong.of(10), OptionalLong.empty(), in(bytes("more"))));
        assertEquals(ErrorCode.BLOB_UPLOAD_UNKNOWN, e.code());
        assertTrue(e.getMessage().contains("start a new one"), e.getMessage());
        assertThrows(RegistryException.class, () -> registry.uploads().status(REPO, s.id()));
        assertEquals(-1, registry.blobStore().uploadSize(s.id()), "the broken upload is cleaned up");

        // the same at completion: nothing is made up from a short staging file
        UploadSession t = registry.uploads().start(REPO);
        registry.uploads().append(REPO, t.id(), OptionalLong.empty(), OptionalLong.empty(), in(bytes("0123456789")));
        registry.blobStore().truncateUpload(t.id(), 5);
        Digest d = Digest.compute(DigestAlgorithm.SHA256, bytes("0123456789"));
        e = assertThrows(
                RegistryException.class,
                () -> registry.uploads().complete(REPO, t.id(), d, OptionalLong.empty(), OptionalLong.empty(), null));
        assertEquals(ErrorCode.BLOB_UPLOAD_UNKNOWN, e.code());
        assertThrows(RegistryException.class, () -> registry.blobs().stat(REPO, d));
    }

    @Test
    void aFailedCompletionCanBeRetriedWithTheSameRunningDigest() throws IOException {
        registry.close();
        FaultyBlobStore faulty = new FaultyBlobStore(new FilesystemBlobStore(dir.resolve("faulty"), false));
        registry = new Registry(faulty, new SqliteMetadataStore(dir.resolve("faulty.db")), RegistryOptions.defaults());
        byte[] content = bytes("verified, then the commit failed");
        Digest d = Digest.compute(DigestAlgorithm.SHA256, content);
        UploadSession s = registry.uploads().start(REPO);
        registry.uploads().append(REPO, s.id(), OptionalLong.empty(), OptionalLong.empty(), in(content));
        faulty.commitFailures.set(1);
        RegistryException e = assertThrows(
                RegistryException.class,
                () -> registry.uploads().complete(REPO, s.id(), d, OptionalLong.empty(), OptionalLong.empty(), null));
        assertEquals(ErrorCode.STORAGE_UNAVAILABLE, e.code());
        // the client retries the PUT: the running digest still covers every byte
        BlobInfo done = registry.uploads().complete(REPO, s.id(), d, OptionalLong.empty(), OptionalLong.empty(), null);
        assertEquals(d, done.digest());
        assertArrayEquals(content, read(REPO, d));
    }

    @Test
    void everyBodyReachesTheStoreWithTheClientThatSentIt() throws IOException {
        // a store with buffers shared by all uploads (S3's part buffers) shares them out by client
        registry.close();
        FaultyBlobStore recording = new FaultyBlobStore(new FilesystemBlobStore(dir.resolve("clients"), false));
        registry =
                new Registry(recording, new SqliteMetadataStore(dir.resolve("clients.db")), RegistryOptions.defaults());
        Caller patcher = new Caller("10.0.0.1", "r1", "", "PATCH", "docker", "", Caller.V2);
        Caller finisher = new Caller("10.0.0.2", "r2", "", "PUT", "docker", "ci", Caller.V2);
        Caller monolithic = new Caller("10.0.0.3", "r3", "", "POST", "docker", "", Caller.V2);
        UploadSession s = registry.uploads().start(REPO, patcher);
        registry.uploads().append(patcher, REPO, s.id(), OptionalLong.empty(), OptionalLong.empty(), in(bytes("abc")));
        registry.uploads()
                .complete(
                        finisher,
                        REPO,
                        s.id(),
                        Digest.compute(DigestAlgorithm.SHA256, bytes("abcdef")),
                        OptionalLong.empty(),
                        OptionalLong.empty(),
                        in(bytes("def")));
        registry.uploads()
                .putMonolithic(
                        monolithic,
                        REPO,
                        Digest.compute(DigestAlgorithm.SHA256, bytes("whole")),
                        OptionalLong.empty(),
                        in(bytes("whole")));
        assertEquals(List.of("10.0.0.1", "user ci", "10.0.0.3"), recording.clients);
    }

    @Test
    void theBlobsNameIsDurableBeforeMetadataSaysItExists() throws IOException {
        registry.close();
        SqliteMetadataStore metadata = new SqliteMetadataStore(dir.resolve("ordered.db"));
        byte[] content = bytes("durable before visible");
        Digest d = Digest.compute(DigestAlgorithm.SHA256, content);
        List<String> events = new ArrayList<>();
        FileSync watching = directory -> {
            if (directory.endsWith(d.hex().substring(0, 2))) {
                events.add("forced blob directory; metadata knows the blob: "
                        + metadata.blobs().size(d).isPresent());
            }
        };
        registry = new Registry(
                new FilesystemBlobStore(dir.resolve("ordered"), true, false, watching),
                metadata,
                RegistryOptions.defaults());
        registry.uploads().putMonolithic(REPO, d, OptionalLong.of(content.length), in(content));
        assertEquals(List.of("forced blob directory; metadata knows the blob: false"), events);
        assertTrue(metadata.blobs().size(d).isPresent());
    }

    /** Replaces the registry by one whose flushes and commits land in the returned timeline, in order. */
    private List<String> recordFlushes() throws IOException {
        registry.close();
        List<String> timeline = new CopyOnWriteArrayList<>();
        FileSync sync = new FileSync() {
            @Override
            public void directory(Path directory) {
                timeline.add("dir " + dir.relativize(directory));
            }

            @Override
            public void data(Path file, FileChannel channel) {
                timeline.add("data " + dir.relativize(file).getParent());
            }
        };
        FilesystemBlobStore blobs = new FilesystemBlobStore(dir.resolve("flushed"), true, false, sync);
        registry = new Registry(
                blobs,
                new RecordingMetadataStore(new SqliteMetadataStore(dir.resolve("flushed.db")), timeline),
                RegistryOptions.defaults());
        timeline.clear();
        return timeline;
    }

    @Test
    void aMonolithicPushFlushesItsBytesItsNameAndOneCommit() throws IOException {
        List<String> timeline = recordFlushes();
        byte[] content = bytes("one small layer");
        Digest d = Digest.compute(DigestAlgorithm.SHA256, content);
        String prefix = "flushed/blobs/sha256/" + d.hex().substring(0, 2);
        // POST, then PUT with the body: the way clients push small layers
        UploadSession s = registry.uploads().start(REPO);
        assertEquals(List.of("commit DEFERRED"), timeline, "opening a session flushes nothing");
        timeline.clear();
        registry.uploads().complete(REPO, s.id(), d, OptionalLong.empty(), OptionalLong.empty(), in(content));
        assertEquals(
                List.of(
                        "commit DEFERRED",
                        "commit DEFERRED",
                        "data flushed/uploads",
                        "dir flushed/blobs",
                        "dir flushed/blobs/sha256",
                        "dir " + prefix,
                        "commit DURABLE"),
                timeline,
                "size and reservation deferred; then the bytes, the parents of the first blob's new directories,"
                        + " the blob's name, and last the one durable commit that acknowledges the push");
        timeline.clear();

        // a second blob under an existing prefix: three flushes in all
        byte[] other = sameprefix(d);
        Digest d2 = Digest.compute(DigestAlgorithm.SHA256, other);
        registry.uploads().putMonolithic(REPO, d2, OptionalLong.empty(), in(other));
        assertEquals(
                List.of(
                        "commit DEFERRED",
                        "commit DEFERRED",
                        "commit DEFERRED",
                        "data flushed/uploads",
                        "dir " + prefix,
                        "commit DURABLE"),
                timeline);
        assertArrayEquals(other, read(REPO, d2));
    }

    /** Content whose sha256 starts with the same two hex digits as {@code d}'s. */
    private static byte[] sameprefix(Digest d) {
        for (int i = 0; ; i++) {
            byte[] candidate = bytes("layer " + i);
            if (Digest.compute(DigestAlgorithm.SHA256, candidate)
                    .hex()
                    .startsWith(d.hex().substring(0, 2))) {
                return candidate;
            }
        }
    }

    @Test
    void anAcknowledgedChunkIsDurableBeforeItsAnswer() throws IOException {
        List<String> timeline = recordFlushes();
        byte[] content = bytes("chunked layer");
        Digest d = Digest.compute(DigestAlgorithm.SHA256, content);
        UploadSession s = registry.uploads().start(REPO);
        timeline.clear();
        registry.uploads().append(REPO, s.id(), OptionalLong.of(0), OptionalLong.empty(), in(content));
        assertEquals(
                List.of("data flushed/uploads", "dir flushed/uploads", "commit DURABLE"),
                timeline,
                "a PATCH: its bytes, the staging file's name, then the durable size (the session row with it)");
        timeline.clear();
        registry.uploads().complete(REPO, s.id(), d, OptionalLong.empty(), OptionalLong.empty(), null);
        assertEquals("commit DURABLE", timeline.get(timeline.size() - 1));
        assertEquals(1, timeline.stream().filter("commit DURABLE"::equals).count(), timeline.toString());
        assertArrayEquals(content, read(REPO, d));
    }

    @Test
    void sparseManifestsMayLackLayersAndChildrenButNotTheirConfig() throws IOException {
        registry.close();
        registry = open(RegistryOptions.of(Map.of("manifests.allow-sparse", "true")));
        byte[] configBytes = bytes("{\"architecture\":\"amd64\"}");
        Digest config = push(REPO, configBytes).digest();
        Digest absentLayer = Digest.compute(DigestAlgorithm.SHA256, bytes("layer never pushed"));
        byte[] image = bytes(imageManifest(config, configBytes.length, absentLayer, 18));
        Digest imageDigest = registry.manifests()
                .put(REPO, new Tag("sparse"), MediaTypes.OCI_MANIFEST, image)
                .digest();
        assertArrayEquals(
                image, registry.manifests().get(REPO, new Tag("sparse")).payload());
        // the absent layer is still recorded as referenced (garbage collection and later pushes see it)
        assertTrue(referencedBlobs(REPO, imageDigest).contains(absentLayer.toString()));

        Digest absentChild = Digest.compute(DigestAlgorithm.SHA256, bytes("child never pushed"));
        byte[] index = bytes("""
                {"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[
                 {"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"%s","size":%d},
                 {"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"%s","size":7}]}""".formatted(imageDigest, image.length, absentChild));
        Digest indexDigest = registry.manifests()
                .put(REPO, new Tag("multi"), MediaTypes.OCI_INDEX, index)
                .digest();
        assertArrayEquals(index, registry.manifests().get(REPO, indexDigest).payload());

        // the config keeps today's rule: without it an image cannot be used at all
        Digest absentConfig = Digest.compute(DigestAlgorithm.SHA256, bytes("config never pushed"));
        RegistryException e = assertThrows(
                RegistryException.class,
                () -> registry.manifests()
                        .put(
                                REPO,
                                new Tag("noconfig"),
                                MediaTypes.OCI_MANIFEST,
                                bytes(imageManifest(absentConfig, 19, absentLayer, 18))));
        assertEquals(ErrorCode.MANIFEST_BLOB_UNKNOWN, e.code());
        assertTrue(e.getMessage().contains(absentConfig.toString()));
    }

    @Test
    void sparseManifestsAreRefusedByDefault() throws IOException {
        byte[] configBytes = bytes("{}");
        Digest config = push(REPO, configBytes).digest();
        Digest absentLayer = Digest.compute(DigestAlgorithm.SHA256, bytes("layer never pushed"));
        RegistryException e = assertThrows(
                RegistryException.class,
                () -> registry.manifests()
                        .put(
                                REPO,
                                new Tag("sparse"),
                                MediaTypes.OCI_MANIFEST,
                                bytes(imageManifest(config, 2, absentLayer, 18))));
        assertEquals(ErrorCode.MANIFEST_BLOB_UNKNOWN, e.code());
        assertTrue(e.getMessage().contains(absentLayer.toString()));
    }

    private List<String> referencedBlobs(RepositoryName repo, Digest manifest) {
        List<String> out = new ArrayList<>();
        try (var c = DriverManager.getConnection("jdbc:sqlite:" + dir.resolve("berth.db"));
                var ps = c.prepareStatement(
                        "SELECT blob_digest FROM manifest_blobs WHERE repository = ?" + " AND manifest_digest = ?")) {
            ps.setString(1, repo.value());
            ps.setString(2, manifest.toString());
            try (var rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(rs.getString(1));
                }
            }
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
        return out;
    }

    @Test
    void manifestLifecycle() {
        BlobInfo config = push(REPO, bytes("{}"));
        BlobInfo layer = push(REPO, bytes("layer"));
        byte[] payload = bytes(imageManifest(config.digest(), config.size(), layer.digest(), layer.size()));
        PutManifestResult r = registry.manifests().put(REPO, new Tag("v1"), MediaTypes.OCI_MANIFEST, payload);
        assertEquals(Digest.compute(DigestAlgorithm.SHA256, payload), r.digest());
        assertArrayEquals(payload, registry.manifests().get(REPO, new Tag("v1")).payload());
        assertArrayEquals(payload, registry.manifests().get(REPO, r.digest()).payload());
        // by digest with the wrong digest
        Digest wrong = Digest.compute(DigestAlgorithm.SHA256, bytes("x"));
        RegistryException e = assertThrows(
                RegistryException.class, () -> registry.manifests().put(REPO, wrong, MediaTypes.OCI_MANIFEST, payload));
        assertEquals(ErrorCode.DIGEST_INVALID, e.code());
        // sha512 by digest
        Digest d512 = Digest.compute(DigestAlgorithm.SHA512, payload);
        assertEquals(
                d512,
                registry.manifests()
                        .put(REPO, d512, MediaTypes.OCI_MANIFEST, payload)
                        .digest());
        // delete by tag keeps the manifest; by digest removes it and its tags
        registry.manifests().put(REPO, new Tag("v2"), MediaTypes.OCI_MANIFEST, payload);
        registry.manifests().delete(REPO, new Tag("v1"));
        assertThrows(RegistryException.class, () -> registry.manifests().get(REPO, new Tag("v1")));
        registry.manifests().get(REPO, r.digest());
        registry.manifests().delete(REPO, r.digest());
        e = assertThrows(RegistryException.class, () -> registry.manifests().get(REPO, new Tag("v2")));
        assertEquals(ErrorCode.MANIFEST_UNKNOWN, e.code());
        e = assertThrows(RegistryException.class, () -> registry.manifests().delete(REPO, r.digest()));
        assertEquals(ErrorCode.MANIFEST_UNKNOWN, e.code());
    }

    @Test
    void oversizedManifestsAreRefused() {
        byte[] big = new byte[(int) RegistryOptions.defaults().maxManifestBytes() + 1];
        RegistryException e = assertThrows(
                RegistryException.class,
                () -> registry.manifests().put(REPO, new Tag("big"), MediaTypes.OCI_MANIFEST, big));
        assertEquals(ErrorCode.PAYLOAD_TOO_LARGE, e.code());
    }

    @Test
    void pullTimesAreRecordedInBatches() {
        BlobInfo config = push(REPO, bytes("{}"));
        byte[] payload = bytes(imageManifest(config.digest(), config.size(), config.digest(), config.size()));
        Digest m = registry.manifests()
                .put(REPO, new Tag("v1"), MediaTypes.OCI_MANIFEST, payload)
                .digest();
        registry.manifests().get(REPO, Reference.parse("v1"));
        registry.blobs().open(REPO, config, 0, config.size());
        assertTrue(registry.metadata().manifests().lastPulled(REPO, m).isEmpty());
        registry.flushPulls();
        assertTrue(registry.metadata().manifests().lastPulled(REPO, m).isPresent());
        assertTrue(registry.metadata().blobs().lastPulled(REPO, config.digest()).isPresent());
    }

    @Test
    void listingsPage() {
        BlobInfo config = push(REPO, bytes("{}"));
        byte[] payload = bytes(imageManifest(config.digest(), config.size(), config.digest(), config.size()));
        for (String t : List.of("c", "a", "b")) {
            registry.manifests().put(REPO, new Tag(t), MediaTypes.OCI_MANIFEST, payload);
        }
        Page p = registry.listings().tags(REPO, 2, null);
        assertEquals(List.of("a", "b"), p.entries());
        assertTrue(p.more());
        p = registry.listings().tags(REPO, 2, "b");
        assertEquals(List.of("c"), p.entries());
        assertFalse(p.more());
        assertEquals(List.of(), registry.listings().tags(REPO, 0, null).entries());
        RegistryException e = assertThrows(
                RegistryException.class, () -> registry.listings().tags(RepositoryName.of("nope"), null, null));
        assertEquals(ErrorCode.NAME_UNKNOWN, e.code());
        assertEquals(
                List.of("team/app"), registry.listings().catalog(null, null).entries());
    }

    @Test
    void nothingIsWrittenOutsideTheDataDirectory() throws IOException {
        // the registry's two data locations sit in a container of their own; a file anywhere else in it
        // (beside the roots, or up a "../" from either) would show up in the walk
        registry.close();
        Path container = Files.createDirectories(dir.resolve("container"));
        Path blobs = container.resolve("blobs");
        Path db = container.resolve("meta/berth.db");
        registry = new Registry(
                new FilesystemBlobStore(blobs, true), new SqliteMetadataStore(db), RegistryOptions.defaults());
        BlobInfo b = push(REPO, bytes("contained"));
        UploadSession s = registry.uploads().start(RepositoryName.of("a/b"));
        registry.uploads()
                .append(
                        RepositoryName.of("a/b"),
                        s.id(),
                        OptionalLong.empty(),
                        OptionalLong.empty(),
                        in(bytes("staged")));
        registry.manifests()
                .put(
                        REPO,
                        new Tag("v1"),
                        MediaTypes.OCI_MANIFEST,
                        bytes(imageManifest(b.digest(), b.size(), b.digest(), b.size())));
        registry.close();
        List<Path> stray;
        try (Stream<Path> all = Files.walk(container)) {
            stray = all.filter(Files::isRegularFile)
                    .filter(p -> !p.startsWith(blobs) && !p.startsWith(db.getParent()))
                    .toList();
        }
        assertEquals(List.of(), stray);
        try (Stream<Path> all = Files.walk(blobs)) {
            assertTrue(all.filter(Files::isRegularFile).count() >= 2, "the blob and the staged upload are there");
        }
        registry = open(RegistryOptions.defaults());
    }

    @Test
    void aManifestsBlobsMustBeInItsOwnRepository() {
        RepositoryName other = RepositoryName.of("other/repo");
        BlobInfo config = push(other, bytes("{\"elsewhere\":1}"));
        BlobInfo layer = push(other, bytes("layer elsewhere"));
        RegistryException e = assertThrows(
                RegistryException.class,
                () -> registry.manifests()
                        .put(
                                REPO,
                                new Tag("v1"),
                                MediaTypes.OCI_MANIFEST,
                                bytes(imageManifest(config.digest(), config.size(), layer.digest(), layer.size()))));
        assertEquals(ErrorCode.MANIFEST_BLOB_UNKNOWN, e.code());
        // once mounted into the repository, the same manifest is fine
        registry.uploads().mount(REPO, config.digest(), Optional.of(other));
        registry.uploads().mount(REPO, layer.digest(), Optional.of(other));
        registry.manifests()
                .put(
                        REPO,
                        new Tag("v1"),
                        MediaTypes.OCI_MANIFEST,
                        bytes(imageManifest(config.digest(), config.size(), layer.digest(), layer.size())));
    }

    @Test
    void pullsAreRecordedByGetNotHeadAndFlushedOnClose() throws IOException {
        BlobInfo config = push(REPO, bytes("{\"pulls\":1}"));
        BlobInfo layer = push(REPO, bytes("pulled layer"));
        Digest m = registry.manifests()
                .put(
                        REPO,
                        new Tag("v1"),
                        MediaTypes.OCI_MANIFEST,
                        bytes(imageManifest(config.digest(), config.size(), layer.digest(), layer.size())))
                .digest();
        registry.manifests().head(REPO, new Tag("v1"));
        registry.flushPulls();
        assertTrue(registry.metadata().manifests().lastPulled(REPO, m).isEmpty(), "HEAD is not a pull");
        registry.manifests().get(REPO, new Tag("v1"));
        read(REPO, layer.digest());
        // no flush: closing the registry writes what was recorded
        registry.close();
        registry = open(RegistryOptions.defaults());
        assertTrue(registry.metadata().manifests().lastPulled(REPO, m).isPresent(), "GET is a pull, flushed on close");
        assertTrue(registry.metadata().blobs().lastPulled(REPO, layer.digest()).isPresent());
    }

    @Test
    void anUploadInProgressIsNeverPurgedHoweverOld() throws IOException {
        registry.close();
        MutableClock clock = new MutableClock();
        registry = new Registry(
                new FilesystemBlobStore(dir.resolve("busy"), false),
                new SqliteMetadataStore(dir.resolve("busy.db"), clock),
                RegistryOptions.of(Map.of("uploads.expiry", "1h")),
                clock);
        UploadSession s = registry.uploads().start(REPO);
        int[] purgedDuring = {-1};
        InputStream slow = new FilterInputStream(in(bytes("arriving slowly"))) {
            @Override
            public int read(byte[] b, int off, int len) throws IOException {
                if (purgedDuring[0] < 0) {
                    // hours pass while this body streams in; the janitor runs meanwhile
                    clock.advance(Duration.ofHours(5));
                    purgedDuring[0] = registry.purgeUploads();
                }
                return super.read(b, off, len);
            }
        };
        registry.uploads().append(REPO, s.id(), OptionalLong.empty(), OptionalLong.empty(), slow);
        assertEquals(0, purgedDuring[0], "the session being written is not purged");
        assertEquals(15, registry.uploads().status(REPO, s.id()).size());
    }

    /** Short bodies, and every body while more stream in than there are cores, are hashed inline. */
    @Test
    void bodiesAreHashedInlineWhenShortOrWhenTheCoresAreBusy() {
        long small = Uploads.INLINE_HASH_MAX;
        assertTrue(Uploads.hashInline(OptionalLong.of(small), 1, 2));
        assertFalse(Uploads.hashInline(OptionalLong.of(small + 1), 1, 2));
        assertFalse(Uploads.hashInline(OptionalLong.empty(), 2, 2)); // chunked, as many bodies as cores
        assertTrue(Uploads.hashInline(OptionalLong.empty(), 3, 2));
        assertTrue(Uploads.hashInline(OptionalLong.of(64L << 20), 16, 2));
        assertFalse(Uploads.hashInline(OptionalLong.of(64L << 20), 16, 16));
    }
}
