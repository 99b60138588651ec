package io.berth.core.gc;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.berth.core.blob.FaultyBlobStore;
import io.berth.core.blob.FilesystemBlobStore;
import io.berth.core.error.ErrorCode;
import io.berth.core.error.RegistryException;
import io.berth.core.maintenance.Maintenance;
import io.berth.core.manifest.ManifestParser;
import io.berth.core.metadata.GcRunRecord;
import io.berth.core.metadata.sqlite.SqliteMetadataStore;
import io.berth.core.model.Digest;
import io.berth.core.model.DigestAlgorithm;
import io.berth.core.model.MediaTypes;
import io.berth.core.model.RepositoryName;
import io.berth.core.model.Tag;
import io.berth.core.model.UploadId;
import io.berth.core.registry.BlobInfo;
import io.berth.core.registry.Registry;
import io.berth.core.registry.RegistryOptions;
import io.berth.core.testing.Images;
import io.berth.testsupport.MutableClock;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class GarbageCollectorTest {
    static final RepositoryName APP = RepositoryName.of("team-a/app");

    @TempDir
    Path dir;

    MutableClock clock = new MutableClock(Instant.now());
    Registry registry;
    private Maintenance maintenance;
    private Registry maintained;
    Images images;

    @BeforeEach
    void open() throws IOException {
        registry = open(clock);
        images = new Images(registry);
    }

    Registry open(Clock c) throws IOException {
        return new Registry(
                new FilesystemBlobStore(dir.resolve("blobs"), false),
                new SqliteMetadataStore(dir.resolve("berth.db"), c),
                RegistryOptions.defaults(),
                c);
    }

    /** The collector over the registry open now (rebuilt when a test reopens it). */
    private GarbageCollector gc() {
        if (maintained != registry) {
            if (maintenance != null) {
                maintenance.close();
            }
            maintenance = new Maintenance(registry);
            maintained = registry;
        }
        return maintenance.gc();
    }

    @AfterEach
    void close() {
        if (maintenance != null) {
            maintenance.close();
        }
        registry.close();
    }

    /** Every file under the data directory with its size and time: what a dry run must not change. */
    Map<String, String> tree() throws IOException {
        Map<String, String> out = new TreeMap<>();
        try (Stream<Path> s = Files.walk(dir.resolve("blobs"))) {
            for (Path p : s.filter(Files::isRegularFile).toList()) {
                out.put(
                        dir.relativize(p).toString(),
                        Files.size(p) + "@" + Files.getLastModifiedTime(p).toMillis());
            }
        }
        return out;
    }

    /** A file in the blob store that no metadata knows (a push that died between placing and recording). */
    Digest orphan(String content, long modifiedAt) throws IOException {
        byte[] b = Images.bytes(content);
        Digest d = Digest.compute(DigestAlgorithm.SHA256, b);
        UploadId id = UploadId.random();
        registry.blobStore().createUpload(id);
        registry.blobStore().append(id, 0, new ByteArrayInputStream(b));
        registry.blobStore().commitUpload(id, d);
        Path file = dir.resolve("blobs")
                .resolve("blobs/sha256")
                .resolve(d.hex().substring(0, 2))
                .resolve(d.hex());
        if (!Files.exists(file)) {
            try (Stream<Path> s = Files.walk(dir.resolve("blobs"))) {
                file = s.filter(p -> p.getFileName().toString().equals(d.hex()))
                        .findFirst()
                        .orElseThrow();
            }
        }
        Files.setLastModifiedTime(file, FileTime.fromMillis(modifiedAt));
        return d;
    }

    /** An image whose manifest is deleted at once: its two blobs are garbage. */
    List<BlobInfo> garbage(String seed) {
        BlobInfo config = images.blob(APP, Images.bytes("{\"garbage\":\"" + seed + "\"}"));
        BlobInfo layer = images.blob(APP, Images.bytes("garbage layer " + seed));
        Digest m = images.put(APP, null, MediaTypes.OCI_MANIFEST, Images.imageManifest(config, List.of(layer), null));
        registry.manifests().delete(APP, m);
        return List.of(config, layer);
    }

    GarbageCollector.Status run(boolean dryRun, Duration grace, boolean untagged) {
        return gc().runNow(new GarbageCollector.Options(dryRun, grace, untagged));
    }

    @Test
    void aDryRunSaysWhatAndHowManyBytesAndDeletesNothing() throws IOException {
        Digest kept = images.image(APP, "v1", "kept");
        List<BlobInfo> garbage = garbage("g");
        Digest untagged = images.image(APP, null, "untagged");
        Digest old = orphan("orphan file", clock.millis() - Duration.ofHours(3).toMillis());
        clock.advance(Duration.ofHours(2));
        Map<String, String> before = tree();
        long tagsBefore = registry.metadata().tags().count(APP);

        GarbageCollector.Status s = run(true, Duration.ofHours(1), true);
        assertEquals(GarbageCollector.State.SUCCEEDED, s.state());
        assertTrue(s.dryRun());
        assertEquals(before, tree(), "not one file changed");
        assertTrue(registry.metadata().manifests().exists(APP, untagged));
        assertEquals(tagsBefore, registry.metadata().tags().count(APP));
        assertEquals(1, s.manifestsDeleted(), "the untagged manifest");
        assertEquals(5, s.blobsDeleted(), "two unreferenced blobs, the untagged image's two and the orphan file");
        assertEquals(
                garbage.get(0).size()
                        + garbage.get(1).size()
                        + "{\"seed\":\"untagged\"}".length()
                        + "layer untagged".length()
                        + "orphan file".length(),
                s.bytesFreed());
        assertTrue(
                s.items().contains("manifest " + APP + "@" + untagged),
                s.items().toString());
        assertTrue(s.items()
                .contains("blob " + garbage.get(1).digest() + " ("
                        + garbage.get(1).size() + " bytes)"));
        assertTrue(
                s.items().stream().anyMatch(i -> i.startsWith("file " + old)),
                s.items().toString());
        assertTrue(registry.metadata().manifests().exists(APP, kept));
    }

    /** Every manifest of the given repositories, as {@code repository@digest}. */
    Set<String> manifests(RepositoryName... repositories) {
        Set<String> out = new TreeSet<>();
        for (RepositoryName r : repositories) {
            registry.metadata()
                    .manifests()
                    .summaries(r, null, 10_000, false)
                    .forEach(m -> out.add(r + "@" + m.digest()));
        }
        return out;
    }

    /**
     * The issue's case — an untagged image's blobs were missing from the dry run — and the harder ones:
     * an untagged index whose children go only once it is gone, a referrer of an untagged manifest, blobs
     * shared with a kept image or another repository, a blob linked again within the grace. The dry run
     * and then the run, on the same state: counts, bytes and the very items must agree.
     */
    @Test
    void aDryRunReportsExactlyWhatTheRunThenDeletes() throws IOException {
        RepositoryName other = RepositoryName.of("team-b/other");
        images.image(APP, "v1", "kept");
        BlobInfo keptLayer = images.blob(APP, Images.bytes("layer kept"));
        // an untagged image sharing a layer with the kept one: its config and own layer go, the shared one stays
        BlobInfo ownConfig = images.blob(APP, Images.bytes("{\"own\":1}"));
        BlobInfo ownLayer = images.blob(APP, Images.bytes("own layer"));
        images.put(
                APP,
                null,
                MediaTypes.OCI_MANIFEST,
                Images.imageManifest(ownConfig, List.of(keptLayer, ownLayer), null));
        // an untagged index: its children are reachable until it is deleted, so they go in a later pass
        Digest childA = images.image(APP, null, "child a");
        Digest childB = images.image(APP, null, "child b");
        images.index(APP, null, childA, childB);
        // a referrer of an untagged image goes with it; one of a tagged image stays
        Digest signed = images.image(APP, null, "signed");
        images.referrer(APP, signed, "sig of untagged");
        images.referrer(APP, images.image(APP, "v2", "v2"), "sig of tagged");
        // a blob another repository's tagged image references stays
        BlobInfo crossConfig = images.blob(other, Images.bytes("{\"cross\":1}"));
        BlobInfo crossLayer = images.blob(other, Images.bytes("cross layer"));
        images.put(other, "v1", MediaTypes.OCI_MANIFEST, Images.imageManifest(crossConfig, List.of(crossLayer), null));
        images.blob(APP, Images.bytes("cross layer"));
        BlobInfo appConfig = images.blob(APP, Images.bytes("{\"app\":1}"));
        images.put(APP, null, MediaTypes.OCI_MANIFEST, Images.imageManifest(appConfig, List.of(crossLayer), null));
        garbage("g");
        orphan("orphan file", clock.millis() - Duration.ofHours(3).toMillis());
        BlobInfo relinked = images.blob(APP, Images.bytes("relinked"));
        clock.advance(Duration.ofHours(2));
        // within the grace: an unreferenced blob linked again, and an untagged image pushed just now
        images.blob(other, Images.bytes("relinked"));
        images.image(APP, null, "young");

        Map<String, String> filesBefore = tree();
        Set<String> manifestsBefore = manifests(APP, other);
        GarbageCollector.Status dry = run(true, Duration.ofHours(1), true);
        assertEquals(filesBefore, tree(), "the dry run changed nothing");
        assertEquals(manifestsBefore, manifests(APP, other));

        GarbageCollector.Status real = run(false, Duration.ofHours(1), true);
        assertEquals(GarbageCollector.State.SUCCEEDED, real.state());
        Set<String> manifestsGone = new TreeSet<>(manifestsBefore);
        manifestsGone.removeAll(manifests(APP, other));
        Map<String, String> filesAfter = tree();
        Set<String> blobsGone = new TreeSet<>();
        filesBefore.keySet().stream()
                .filter(f -> !filesAfter.containsKey(f))
                .forEach(f -> blobsGone.add(Path.of(f).getFileName().toString()));

        Set<String> listedManifests = new TreeSet<>();
        Set<String> listedBlobs = new TreeSet<>();
        for (String item : dry.items()) {
            String[] words = item.split(" ");
            if (words[0].equals("manifest")) {
                listedManifests.add(words[1]);
            } else {
                listedBlobs.add(Digest.parse(words[1]).hex());
            }
        }
        System.out.println("dry run: " + dry.manifestsDeleted() + " manifests, " + dry.blobsDeleted() + " blobs ("
                + dry.bytesFreed() + " B); run: " + real.manifestsDeleted() + " manifests, " + real.blobsDeleted()
                + " blobs (" + real.bytesFreed() + " B)");
        assertEquals(manifestsGone, listedManifests, "the manifests the dry run listed are those the run deleted");
        assertEquals(blobsGone, listedBlobs, "the blobs and files the dry run listed are those the run deleted");
        assertEquals(
                7,
                manifestsGone.size(),
                "untagged image, index and its two children, the untagged signed"
                        + " image and its referrer, the image sharing another repository's layer: " + manifestsGone);
        assertEquals(real.manifestsDeleted(), dry.manifestsDeleted());
        assertEquals(real.blobsDeleted(), dry.blobsDeleted());
        assertEquals(real.bytesFreed(), dry.bytesFreed());
        assertTrue(registry.blobStore().size(keptLayer.digest()).isPresent());
        assertTrue(registry.blobStore().size(crossLayer.digest()).isPresent());
        assertTrue(registry.blobStore().size(relinked.digest()).isPresent());
    }

    @Test
    void aRunDeletesWhatNothingReferencesOnceOlderThanTheGrace() throws IOException {
        Digest kept = images.image(APP, "v1", "kept");
        List<BlobInfo> garbage = garbage("g");
        Digest untagged = images.image(APP, null, "untagged");
        Digest oldOrphan =
                orphan("old orphan", clock.millis() - Duration.ofHours(3).toMillis());
        Digest youngOrphan =
                orphan("young orphan", clock.millis() + Duration.ofHours(2).toMillis());

        GarbageCollector.Status early = run(false, Duration.ofHours(1), false);
        assertEquals(1, early.blobsDeleted(), "within the grace only the old orphan file goes");
        assertTrue(registry.blobStore().size(garbage.get(0).digest()).isPresent());
        assertTrue(registry.blobStore().size(oldOrphan).isEmpty());

        clock.advance(Duration.ofHours(2));
        GarbageCollector.Status s = run(false, Duration.ofHours(1), false);
        assertEquals(2, s.blobsDeleted(), "the garbage image's config and layer");
        for (BlobInfo b : garbage) {
            assertTrue(registry.blobStore().size(b.digest()).isEmpty(), "the file is gone");
            assertTrue(registry.metadata().blobs().size(b.digest()).isEmpty(), "and its record");
        }
        assertTrue(registry.metadata().manifests().exists(APP, untagged), "untagged manifests only when asked");
        assertTrue(registry.blobStore().size(youngOrphan).isPresent(), "younger than the cutoff");

        GarbageCollector.Status withUntagged = run(false, Duration.ofHours(1), true);
        assertEquals(1, withUntagged.manifestsDeleted());
        assertEquals(2, withUntagged.blobsDeleted(), "the untagged image's blobs went in the same run");
        assertFalse(registry.metadata().manifests().exists(APP, untagged));

        // what is kept still pulls, byte for byte
        var m = registry.manifests().get(APP, new Tag("v1"));
        assertEquals(kept, m.digest());
        for (var d : ManifestParser.parse(m.mediaType(), m.payload()).blobs()) {
            BlobInfo b = registry.blobs().stat(APP, d.digest());
            try (InputStream in = registry.blobs().open(APP, b, 0, b.size())) {
                assertEquals(d.digest(), Digest.compute(DigestAlgorithm.SHA256, in.readAllBytes()));
            }
        }
        assertEquals(GarbageCollector.State.SUCCEEDED, gc().status().state());
    }

    @Test
    void aReservedDigestIsNotCollectedAndAClaimMakesAnUploadWait() throws IOException {
        List<BlobInfo> garbage = garbage("g");
        Digest d = garbage.get(1).digest();
        clock.advance(Duration.ofHours(2));
        var metadata = registry.metadata();
        assertTrue(metadata.<Boolean>inTransaction(tx -> tx.gc().reserve(d, "upload-1", 0)));
        assertTrue(metadata.<Boolean>inTransaction(tx -> tx.gc().reservedBy(d, "upload-1")));
        assertFalse(metadata.<Boolean>inTransaction(tx -> tx.gc().reservedBy(d, "upload-9")));
        run(false, Duration.ofHours(1), false);
        assertTrue(registry.blobStore().size(d).isPresent(), "an upload is placing it");
        metadata.inTransaction(tx -> {
            tx.gc().release(d, "upload-1");
            return null;
        });
        // a claim (GC deleting the file) makes reservations wait, until it ends or is stale
        assertTrue(metadata.<Boolean>inTransaction(tx -> tx.gc().claimDeletion(d, "run-1", clock.millis())));
        assertFalse(metadata.<Boolean>inTransaction(tx -> tx.gc().reserve(d, "upload-2", clock.millis() - 60_000)));
        clock.advance(Duration.ofMinutes(11));
        assertTrue(
                metadata.<Boolean>inTransaction(tx -> tx.gc()
                        .reserve(
                                d,
                                "upload-2",
                                clock.millis() - Duration.ofMinutes(10).toMillis())),
                "a claim older than 10 minutes is stale");
        // a referenced or recently linked blob cannot be claimed
        Digest v1 = images.image(APP, "v1", "v1");
        var layer = ManifestParser.parse(
                        MediaTypes.OCI_MANIFEST,
                        metadata.manifests().get(APP, v1).orElseThrow().payload())
                .blobs()
                .get(1)
                .digest();
        assertFalse(metadata.<Boolean>inTransaction(tx -> tx.gc().claimDeletion(layer, "run-1", Long.MIN_VALUE)));
        BlobInfo fresh = images.blob(APP, Images.bytes("just pushed"));
        assertFalse(metadata.<Boolean>inTransaction(
                tx -> tx.gc().claimDeletion(fresh.digest(), "run-1", clock.millis() - 1000)));
    }

    @Test
    void aRunStoppedInTheMiddleResumesWhereItWasAndFinishesItsClaims() throws IOException {
        List<BlobInfo> first = garbage("a");
        List<BlobInfo> second = garbage("b");
        Digest claimed = orphan(
                "claimed but not deleted", clock.millis() - Duration.ofHours(3).toMillis());
        clock.advance(Duration.ofHours(2));
        List<Digest> all = new ArrayList<>();
        first.forEach(b -> all.add(b.digest()));
        second.forEach(b -> all.add(b.digest()));
        all.sort((x, y) -> x.toString().compareTo(y.toString()));
        long now = clock.millis();
        // the state a process killed in the middle of the blobs phase leaves: the first blob done, a claim open
        registry.metadata().inTransaction(tx -> {
            tx.gc()
                    .putRun(new GcRunRecord(
                            "run-1",
                            "RUNNING",
                            false,
                            false,
                            Duration.ofHours(1).toMillis(),
                            now - Duration.ofHours(1).toMillis(),
                            "blobs",
                            all.get(0).toString(),
                            now - 1000,
                            now - 500,
                            OptionalLong.empty(),
                            0,
                            1,
                            1,
                            10,
                            null));
            tx.gc().claimDeletion(claimed, "run-1", Long.MAX_VALUE);
            return null;
        });
        registry.close();
        registry = open(clock);
        GarbageCollector gc = gc();
        assertEquals("run-1", gc.resumeInterrupted().orElseThrow().id());
        long deadline = System.currentTimeMillis() + 30_000;
        while (!gc.status().finished() && System.currentTimeMillis() < deadline) {
            Thread.onSpinWait();
        }
        GarbageCollector.Status s = gc.status();
        assertEquals(GarbageCollector.State.SUCCEEDED, s.state());
        assertEquals("run-1", s.id());
        assertEquals(1 + 3, s.blobsDeleted(), "counted on from the record: three more after the cursor");
        assertTrue(registry.blobStore().size(all.get(0)).isPresent(), "before the cursor: left for the next run");
        for (Digest d : all.subList(1, 4)) {
            assertTrue(registry.blobStore().size(d).isEmpty());
        }
        assertTrue(registry.blobStore().size(claimed).isEmpty(), "the open claim was finished");
        assertTrue(registry.metadata().gc().deletions().isEmpty());
        assertTrue(gc.resumeInterrupted().isEmpty(), "nothing left to resume");
    }

    @Test
    void oneRunAtATime() throws Exception {
        for (int i = 0; i < 200; i++) {
            garbage("g" + i);
        }
        clock.advance(Duration.ofHours(2));
        GarbageCollector.Status started = gc().start(new GarbageCollector.Options(false, null, false));
        RegistryException e = assertThrows(
                RegistryException.class, () -> gc().start(new GarbageCollector.Options(true, null, false)));
        assertEquals(ErrorCode.FAILED_PRECONDITION, e.code());
        assertTrue(e.getMessage().contains(started.id()));
        while (!gc().status().finished()) {
            Thread.sleep(10);
        }
        assertEquals(400, gc().status().blobsDeleted());
        assertEquals(
                ErrorCode.INVALID_ARGUMENT,
                assertThrows(
                                RegistryException.class,
                                () -> new GarbageCollector.Options(false, Duration.ofSeconds(-1), false))
                        .code());
    }

    /**
     * Pushes race a collection with no grace at all: a push may then be refused (its blob collected
     * before its manifest arrived, as a client that checked with HEAD long before would see) but never
     * may an acknowledged image lose a byte.
     */
    @Test
    void everyAcknowledgedImageSurvivesCollectionsRunningInALoop() throws Exception {
        registry.close();
        // time must pass for records to fall behind the cutoff; a slow store widens the window between a
        // blob's file being placed and its record being written, where a collection must not strike
        FaultyBlobStore slow = new FaultyBlobStore(new FilesystemBlobStore(dir.resolve("blobs"), false));
        slow.pauseAfterCommitMillis = 3;
        registry = new Registry(slow, new SqliteMetadataStore(dir.resolve("berth.db")), RegistryOptions.defaults());
        images = new Images(registry);
        AtomicBoolean running = new AtomicBoolean(true);
        ConcurrentLinkedQueue<Digest> acknowledged = new ConcurrentLinkedQueue<>();
        ExecutorService pool = Executors.newFixedThreadPool(4);
        List<Future<?>> pushers = new ArrayList<>();
        for (int t = 0; t < 3; t++) {
            int thread = t;
            pushers.add(pool.submit(() -> {
                int i = 0;
                while (running.get()) {
                    // unique content: a file lost to a collection would not come back with a later push
                    String seed = "t" + thread + "-" + i;
                    try {
                        Digest m = images.image(APP, "t" + thread + "-" + i, seed);
                        acknowledged.add(m);
                        if (i % 2 == 0) {
                            // the manifest goes (with every tag on it): its blobs become garbage
                            registry.manifests().delete(APP, m);
                        }
                    } catch (RegistryException e) {
                        if (e.code() != ErrorCode.MANIFEST_BLOB_UNKNOWN && e.code() != ErrorCode.MANIFEST_UNKNOWN) {
                            throw e;
                        }
                    }
                    i++;
                }
                return null;
            }));
        }
        int runs = 0;
        long deleted = 0;
        long end = System.currentTimeMillis() + 4000;
        while (System.currentTimeMillis() < end) {
            deleted += gc().runNow(new GarbageCollector.Options(false, Duration.ZERO, false))
                    .blobsDeleted();
            runs++;
        }
        System.out.println("collections: " + runs + ", blobs deleted: " + deleted + ", images acknowledged: "
                + acknowledged.size());
        running.set(false);
        for (Future<?> f : pushers) {
            f.get();
        }
        pool.shutdown();
        assertTrue(runs > 3, "collections ran: " + runs);
        int checked = 0;
        for (String tag : registry.metadata().tags().names(APP, null, 100_000)) {
            var m = registry.manifests().get(APP, new Tag(tag));
            for (var d : ManifestParser.parse(m.mediaType(), m.payload()).blobs()) {
                BlobInfo b = registry.blobs().stat(APP, d.digest());
                try (InputStream in = registry.blobs().open(APP, b, 0, b.size())) {
                    byte[] content = in.readAllBytes();
                    assertEquals(d.digest(), Digest.compute(DigestAlgorithm.SHA256, content), "tag " + tag);
                    checked++;
                }
            }
        }
        assertTrue(checked > 10, "checked " + checked + " blobs of tagged images");
        GarbageCollector.Status last = gc().runNow(new GarbageCollector.Options(false, Duration.ZERO, false));
        assertEquals(GarbageCollector.State.SUCCEEDED, last.state());
        assertTrue(registry.metadata().gc().deletions().isEmpty());
        assertArrayEquals(
                new Object[0],
                registry.metadata()
                        .gc()
                        .unreferencedBlobs(null, last.startedAt(), 10)
                        .toArray(),
                "after a last collection nothing unreferenced is left");
    }
}
