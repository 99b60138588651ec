package io.berth.core.eviction;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.berth.core.blob.FilesystemBlobStore;
import io.berth.core.error.ErrorCode;
import io.berth.core.error.RegistryException;
import io.berth.core.gc.GarbageCollector;
import io.berth.core.manifest.ManifestParser;
import io.berth.core.metadata.ManifestRecord;
import io.berth.core.metadata.TagChange;
import io.berth.core.metadata.sqlite.SqliteMetadataStore;
import io.berth.core.model.Caller;
import io.berth.core.model.Descriptor;
import io.berth.core.model.Digest;
import io.berth.core.model.RepositoryName;
import io.berth.core.model.Tag;
import io.berth.core.proxy.ProxyRoute;
import io.berth.core.proxy.ProxySettings;
import io.berth.core.proxy.Upstream;
import io.berth.core.proxy.Upstreams;
import io.berth.core.registry.CachedBlob;
import io.berth.core.registry.Registry;
import io.berth.core.registry.RegistryOptions;
import io.berth.core.testing.Images;
import io.berth.core.testing.RegistryUpstream;
import io.berth.testsupport.MutableClock;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Eviction and purge of pull-through caches' content, against an upstream that is a second real
 * registry, with the files checked on disk after the online garbage collector's deletes.
 */
class CacheEvictionTest {
    private static final RepositoryName LOCAL = RepositoryName.of("hub/library/app");
    private static final RepositoryName REMOTE = RepositoryName.of("library/app");
    private static final Caller CLIENT = Caller.at("10.0.0.7");
    private static final Duration EVICT_AFTER = Duration.ofDays(1);

    @TempDir
    Path dir;

    Registry origin;
    Images images;
    RegistryUpstream upstream;
    MutableClock clock;
    Registry cache;
    volatile ProxySettings settings = new ProxySettings(EVICT_AFTER, 0, Duration.ofMinutes(1));
    CacheEviction eviction;
    GarbageCollector gc;

    @BeforeEach
    void open() throws IOException {
        origin = new Registry(
                new FilesystemBlobStore(dir.resolve("origin"), false),
                new SqliteMetadataStore(dir.resolve("origin.db")),
                RegistryOptions.defaults());
        images = new Images(origin);
        upstream = new RegistryUpstream("hub", origin);
        clock = new MutableClock();
        Upstreams routes = RegistryUpstream.prefixed("hub", upstream);
        cache = new Registry(
                new FilesystemBlobStore(dir.resolve("cache"), false),
                new SqliteMetadataStore(dir.resolve("cache.db"), clock),
                RegistryOptions.defaults(),
                clock,
                new Upstreams() {
                    @Override
                    public Optional<ProxyRoute> route(RepositoryName local) {
                        return routes.route(local);
                    }

                    @Override
                    public List<Upstream> all() {
                        return routes.all();
                    }

                    @Override
                    public ProxySettings settings() {
                        return settings;
                    }
                });
        gc = new GarbageCollector(cache.metadata(), cache.blobStore(), cache.manifests(), clock);
        eviction = new CacheEviction(cache, gc);
    }

    @AfterEach
    void close() {
        gc.close();
        cache.close();
        origin.close();
    }

    /** Pulls an image through the cache as a client does: the manifest by tag, then every blob. */
    private List<Digest> pull(RepositoryName repository, String tag) throws IOException {
        ManifestRecord m =
                cache.proxy().manifest(CLIENT, repository, new Tag(tag), true).record();
        List<Digest> blobs = new ArrayList<>();
        for (Descriptor d : ManifestParser.parse(m.mediaType(), m.payload()).blobs()) {
            CachedBlob b = cache.proxy().blob(CLIENT, repository, d.digest());
            try (InputStream in =
                    cache.blobs().open(repository, b.blob(), 0, b.blob().size())) {
                in.readAllBytes();
            }
            blobs.add(d.digest());
        }
        return blobs;
    }

    private boolean onDisk(Digest blob) throws IOException {
        return cache.blobStore().size(blob).isPresent();
    }

    private boolean cached(String tag) {
        return cache.metadata().tags().target(LOCAL, tag).isPresent();
    }

    /** Bytes of a cached image: its manifest and its blobs. */
    private long size(String tag, List<Digest> blobs) {
        Digest d = cache.metadata().tags().target(LOCAL, tag).orElseThrow();
        long total = cache.metadata().manifests().get(LOCAL, d).orElseThrow().payload().length;
        for (Digest b : blobs) {
            total += cache.metadata().blobs().size(b).orElseThrow();
        }
        return total;
    }

    @Test
    void anImageNotPulledForEvictAfterIsEvictedAndItsFilesDeleted() throws IOException {
        images.image(REMOTE, "v1", "one");
        List<Digest> blobs = pull(LOCAL, "v1");
        for (Digest b : blobs) {
            assertTrue(onDisk(b));
        }

        clock.advance(EVICT_AFTER.minusMinutes(1));
        eviction.runOnce("me");
        assertTrue(cached("v1"), "not yet due");

        clock.advance(Duration.ofMinutes(2));
        CacheEviction.Outcome outcome = eviction.runOnce("me");
        assertTrue(outcome.ran());
        assertEquals(1, outcome.manifestsRemoved());
        assertFalse(cached("v1"));
        for (Digest b : blobs) {
            assertFalse(onDisk(b), "the file of " + b + " is deleted");
            assertTrue(cache.metadata().blobs().size(b).isEmpty(), "and its record");
        }
        List<TagChange> history = cache.metadata().tags().history(LOCAL, "v1");
        TagChange removed = history.getLast();
        assertEquals(Caller.PROXY, removed.origin().via(), history.toString());

        int fetches = upstream.calls("manifest:tag");
        pull(LOCAL, "v1");
        assertEquals(fetches + 1, upstream.calls("manifest:tag"), "the next pull fetches it again");
    }

    @Test
    void aPullWithinEvictAfterKeepsIt() throws IOException {
        images.image(REMOTE, "v1", "one");
        images.image(REMOTE, "v2", "two");
        List<Digest> one = pull(LOCAL, "v1");
        List<Digest> two = pull(LOCAL, "v2");
        clock.advance(Duration.ofHours(20));
        pull(LOCAL, "v1");
        clock.advance(Duration.ofHours(5));

        eviction.runOnce("me");
        assertTrue(cached("v1"), "pulled 5 hours ago");
        for (Digest b : one) {
            assertTrue(onDisk(b));
        }
        assertFalse(cached("v2"), "pulled 25 hours ago");
        for (Digest b : two) {
            assertFalse(onDisk(b));
        }
    }

    @Test
    void overBudgetTheLeastRecentlyPulledGoFirstUntilUnder() throws IOException {
        images.image(REMOTE, "a", "image a");
        images.image(REMOTE, "b", "image b");
        images.image(REMOTE, "c", "image c");
        List<Digest> a = pull(LOCAL, "a");
        clock.advance(Duration.ofMinutes(1));
        List<Digest> b = pull(LOCAL, "b");
        clock.advance(Duration.ofMinutes(1));
        List<Digest> c = pull(LOCAL, "c");
        clock.advance(Duration.ofMinutes(1));
        pull(LOCAL, "a"); // a is now the most recently pulled: b is the least
        long budget = size("a", a) + size("c", c);
        assertTrue(budget < budget + size("b", b));
        settings = new ProxySettings(Duration.ZERO, budget, Duration.ofMinutes(1));

        CacheEviction.Outcome outcome = eviction.runOnce("me");
        assertEquals(1, outcome.manifestsRemoved(), "one image brings it under budget");
        assertTrue(cached("a"));
        assertFalse(cached("b"));
        assertTrue(cached("c"));
        for (Digest d : b) {
            assertFalse(onDisk(d));
        }
        for (Digest d : a) {
            assertTrue(onDisk(d));
        }

        settings = new ProxySettings(Duration.ZERO, budget - 1, Duration.ofMinutes(1));
        eviction.runOnce("me");
        assertTrue(cached("a"), "the most recently pulled stays");
        assertFalse(cached("c"));
    }

    /** GETs one blob of a proxied repository without its manifest, as a client may. */
    private void pullBlob(RepositoryName repository, Digest blob) throws IOException {
        CachedBlob b = cache.proxy().blob(CLIENT, repository, blob);
        try (InputStream in =
                cache.blobs().open(repository, b.blob(), 0, b.blob().size())) {
            in.readAllBytes();
        }
    }

    /** The blobs (config, layers) of an upstream image, which the cache has not seen. */
    private List<Digest> upstreamBlobs(String tag) {
        Digest d = origin.metadata().tags().target(REMOTE, tag).orElseThrow();
        return origin.metadata().manifests().blobsOf(REMOTE, d);
    }

    @Test
    void aBlobPulledWithoutItsManifestIsEvictedByAge() throws IOException {
        images.image(REMOTE, "v1", "one");
        Digest layer = upstreamBlobs("v1").getLast();
        pullBlob(LOCAL, layer);
        assertTrue(onDisk(layer));
        assertTrue(cache.metadata().blobs().linked(LOCAL, layer));

        clock.advance(EVICT_AFTER.minusMinutes(1));
        eviction.runOnce("me");
        assertTrue(onDisk(layer), "not yet due");

        clock.advance(Duration.ofMinutes(2));
        CacheEviction.Outcome outcome = eviction.runOnce("me");
        assertEquals(1, outcome.blobsUnlinked());
        assertEquals(1, outcome.blobsDeleted());
        assertFalse(cache.metadata().blobs().linked(LOCAL, layer));
        assertFalse(onDisk(layer), "no manifest names it: its file goes");

        int fetches = upstream.calls("blob");
        pullBlob(LOCAL, layer);
        assertEquals(fetches + 1, upstream.calls("blob"), "the next pull fetches it again");
    }

    @Test
    void aBlobLinkedAfterItsImageWasEvictedIsEvictedInItsTurn() throws IOException {
        images.image(REMOTE, "v1", "one");
        cache.proxy().manifest(CLIENT, LOCAL, new Tag("v1"), true);
        clock.advance(EVICT_AFTER.plusMinutes(1));
        assertEquals(1, eviction.runOnce("me").manifestsRemoved());
        // as a fill that ends after its image was evicted: linked, named by no manifest of the cache
        Digest layer = upstreamBlobs("v1").getLast();
        pullBlob(LOCAL, layer);

        clock.advance(Duration.ofHours(1));
        eviction.runOnce("me");
        assertTrue(onDisk(layer), "pulled within evict-after");
        clock.advance(EVICT_AFTER);
        eviction.runOnce("me");
        assertFalse(cache.metadata().blobs().linked(LOCAL, layer));
        assertFalse(onDisk(layer));
    }

    @Test
    void strayBlobsCountAgainstTheBudgetOnceOlderThanTheInterval() throws IOException {
        images.image(REMOTE, "a", "image a");
        images.image(REMOTE, "b", "image b");
        Digest stray = upstreamBlobs("b").getLast();
        pullBlob(LOCAL, stray);
        clock.advance(Duration.ofMinutes(5));
        List<Digest> a = pull(LOCAL, "a");
        long budget = size("a", a);
        settings = new ProxySettings(Duration.ZERO, budget, Duration.ofMinutes(10));

        eviction.runOnce("me");
        assertTrue(onDisk(stray), "linked within the interval: maybe its manifest is on its way");

        clock.advance(Duration.ofMinutes(6));
        CacheEviction.Outcome outcome = eviction.runOnce("me");
        assertEquals(0, outcome.manifestsRemoved(), "the stray blob was the least recently used");
        assertEquals(1, outcome.blobsUnlinked());
        assertFalse(onDisk(stray));
        assertTrue(cached("a"));
        for (Digest d : a) {
            assertTrue(onDisk(d));
        }

        pullBlob(LOCAL, stray);
        clock.advance(Duration.ofMinutes(11));
        pull(LOCAL, "a"); // the image is now the most recent; the stray blob alone exceeds the budget
        settings = new ProxySettings(Duration.ZERO, budget, Duration.ofMinutes(10));
        eviction.runOnce("me");
        assertFalse(onDisk(stray));
        assertTrue(cached("a"));
    }

    @Test
    void aBlobPulledBeforeItsManifestIsNotStray() throws IOException {
        images.image(REMOTE, "v1", "one");
        List<Digest> blobs = upstreamBlobs("v1");
        for (Digest b : blobs) {
            pullBlob(LOCAL, b);
        }
        clock.advance(Duration.ofMinutes(30));
        pull(LOCAL, "v1");
        clock.advance(Duration.ofMinutes(30));
        settings = new ProxySettings(Duration.ofMinutes(45), 0, Duration.ofMinutes(1));

        CacheEviction.Outcome outcome = eviction.runOnce("me");
        assertEquals(0, outcome.blobsUnlinked(), "its image, pulled 30 minutes ago, names them");
        for (Digest b : blobs) {
            assertTrue(onDisk(b));
            assertTrue(cache.metadata().blobs().linked(LOCAL, b));
        }
    }

    @Test
    void aBlobALocalImageUsesSurvives() throws IOException {
        RepositoryName team = RepositoryName.of("team/app");
        Images local = new Images(cache);
        local.image(team, "1.0", "shared");
        images.image(REMOTE, "v1", "shared"); // the same config and layer upstream
        List<Digest> blobs = pull(LOCAL, "v1");

        clock.advance(EVICT_AFTER.plusMinutes(1));
        eviction.runOnce("me");
        assertFalse(cached("v1"));
        for (Digest b : blobs) {
            assertTrue(onDisk(b), "the local image uses " + b);
            assertTrue(cache.metadata().blobs().linked(team, b));
        }
        assertTrue(cache.metadata().tags().target(team, "1.0").isPresent());
    }

    @Test
    void aSecondInstanceSkipsWhileTheLeaseIsHeld() throws IOException {
        images.image(REMOTE, "v1", "one");
        pull(LOCAL, "v1");
        clock.advance(EVICT_AFTER.plusMinutes(1));
        cache.metadata()
                .inTransaction(tx -> tx.leases().acquire(CacheEviction.LEASE, "other", clock.millis() + 60_000));

        assertFalse(eviction.runOnce("me").ran());
        assertTrue(cached("v1"));

        clock.advance(Duration.ofMinutes(2)); // the other instance's lease ran out
        assertTrue(eviction.runOnce("me").ran());
        assertFalse(cached("v1"));
    }

    @Test
    void purgeOfATagKeepsTheOtherTags() throws IOException {
        images.image(REMOTE, "v1", "one");
        images.image(REMOTE, "v2", "two");
        List<Digest> one = pull(LOCAL, "v1");
        List<Digest> two = pull(LOCAL, "v2");

        CacheEviction.Outcome outcome = eviction.purge(CLIENT, LOCAL, Optional.of(new Tag("v1")));
        assertEquals(1, outcome.tagsRemoved());
        assertEquals(1, outcome.manifestsRemoved());
        assertEquals(one.size(), outcome.blobsDeleted());
        assertFalse(cached("v1"));
        assertTrue(cached("v2"));
        for (Digest b : one) {
            assertFalse(onDisk(b));
        }
        for (Digest b : two) {
            assertTrue(onDisk(b));
        }
        TagChange removed = cache.metadata().tags().history(LOCAL, "v1").getLast();
        assertEquals(Caller.PROXY, removed.origin().via());
        assertEquals(
                ErrorCode.NOT_FOUND,
                assertThrows(RegistryException.class, () -> eviction.purge(CLIENT, LOCAL, Optional.of(new Tag("v1"))))
                        .code());
    }

    @Test
    void purgeOfARepositoryMakesTheNextPullFetchAgain() throws IOException {
        images.image(REMOTE, "v1", "one");
        List<Digest> blobs = pull(LOCAL, "v1");
        assertEquals(1, upstream.calls("manifest:tag"));
        int blobFetches = upstream.calls("blob");

        eviction.purge(CLIENT, LOCAL, Optional.empty());
        assertFalse(cache.metadata().repositories().exists(LOCAL));
        for (Digest b : blobs) {
            assertFalse(onDisk(b));
        }

        pull(LOCAL, "v1");
        assertEquals(2, upstream.calls("manifest:tag"), "fetched again");
        assertEquals(2 * blobFetches, upstream.calls("blob"), "every blob fetched again");
    }

    @Test
    void purgeOfALocalRepositoryIsRefused() {
        RepositoryName team = RepositoryName.of("team/app");
        new Images(cache).image(team, "1.0", "local");
        RegistryException e =
                assertThrows(RegistryException.class, () -> eviction.purge(CLIENT, team, Optional.empty()));
        assertEquals(ErrorCode.FAILED_PRECONDITION, e.code());
        assertTrue(cache.metadata().tags().target(team, "1.0").isPresent());
        assertEquals(
                ErrorCode.NOT_FOUND,
                assertThrows(
                                RegistryException.class,
                                () -> eviction.purge(CLIENT, RepositoryName.of("no/such"), Optional.empty()))
                        .code());
    }
}
