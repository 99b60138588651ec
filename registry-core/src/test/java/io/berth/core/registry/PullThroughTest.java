package io.berth.core.registry;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.berth.core.blob.FilesystemBlobStore;
import io.berth.core.error.ErrorCode;
import io.berth.core.error.RegistryException;
import io.berth.core.manifest.ManifestParser;
import io.berth.core.metadata.ManifestRecord;
import io.berth.core.metadata.TagChange;
import io.berth.core.metadata.sqlite.SqliteMetadataStore;
import io.berth.core.model.Caller;
import io.berth.core.model.Descriptor;
import io.berth.core.model.Digest;
import io.berth.core.model.DigestAlgorithm;
import io.berth.core.model.Reference;
import io.berth.core.model.RepositoryName;
import io.berth.core.model.Tag;
import io.berth.core.proxy.UpstreamException;
import io.berth.core.testing.Images;
import io.berth.core.testing.RegistryUpstream;
import io.berth.testsupport.MutableClock;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The engine's pull-through cache rules, against an upstream that is a second real registry. */
class PullThroughTest {
    private static final RepositoryName REMOTE = RepositoryName.of("library/app");
    private static final RepositoryName LOCAL = RepositoryName.of("hub/library/app");
    private static final Duration TTL = Duration.ofMinutes(5);
    private static final Duration STALE_FOR = Duration.ofHours(1);
    private static final Caller CLIENT = Caller.at("10.0.0.7");

    @TempDir
    Path dir;

    Registry origin;
    Images images;
    RegistryUpstream upstream;
    MutableClock clock;
    Registry cache;

    @BeforeEach
    void open() throws IOException {
        origin = new Registry(
                new FilesystemBlobStore(dir.resolve("origin"), false),
                new SqliteMetadataStore(dir.resolve("origin.db")),
                RegistryOptions.defaults());
        images = new Images(origin);
        upstream = new RegistryUpstream("hub", origin).policy(TTL, STALE_FOR);
        clock = new MutableClock();
        cache = new Registry(
                new FilesystemBlobStore(dir.resolve("cache"), false),
                new SqliteMetadataStore(dir.resolve("cache.db"), clock),
                RegistryOptions.defaults(),
                clock,
                RegistryUpstream.prefixed("hub", upstream));
    }

    @AfterEach
    void close() {
        upstream.release();
        cache.close();
        origin.close();
    }

    private CachedManifest get(Reference reference) {
        return cache.proxy().manifest(CLIENT, LOCAL, reference, true);
    }

    private static Tag tag(String t) {
        return new Tag(t);
    }

    private List<Digest> blobsOf(ManifestRecord m) {
        return ManifestParser.parse(m.mediaType(), m.payload()).blobs().stream()
                .map(Descriptor::digest)
                .toList();
    }

    private byte[] pullBlob(Digest digest) throws IOException {
        CachedBlob b = cache.proxy().blob(CLIENT, LOCAL, digest);
        try (InputStream in = cache.blobs().open(LOCAL, b.blob(), 0, b.blob().size())) {
            return in.readAllBytes();
        }
    }

    private static ErrorCode code(Runnable r) {
        return assertThrows(RegistryException.class, r::run).code();
    }

    @Test
    void aColdTagIsFetchedOnceStoredSparseWithItsReferencesAndThenServedWithoutTheUpstream() {
        Digest pushed = images.image(REMOTE, "v1", "one");
        CachedManifest first = get(tag("v1"));
        assertEquals(CacheOutcome.MISS, first.outcome());
        assertEquals(pushed, first.record().digest());
        assertEquals(1, upstream.calls("manifest:tag"));
        for (Digest blob : blobsOf(first.record())) {
            assertFalse(cache.metadata().blobs().linked(LOCAL, blob), "layers are fetched when asked");
            assertTrue(
                    cache.metadata().manifests().referencingBlob(LOCAL, blob).isPresent(),
                    "but their references are recorded, so GC sees them");
        }
        assertTrue(cache.proxy().proxied(LOCAL));
        assertFalse(cache.proxy().proxied(RepositoryName.of("library/app")));

        clock.advance(TTL.minusSeconds(1));
        assertEquals(CacheOutcome.HIT, get(tag("v1")).outcome());
        assertEquals(1, upstream.calls(), "a fresh tag is served without the upstream");
    }

    @Test
    void aDueTagIsRevalidatedByExactlyOneHeadAndNothingElse() {
        images.image(REMOTE, "v1", "one");
        get(tag("v1"));
        clock.advance(TTL.plusSeconds(1));
        CachedManifest again = get(tag("v1"));
        assertEquals(CacheOutcome.REVALIDATED, again.outcome());
        assertEquals(1, upstream.calls("manifestDigest"));
        assertEquals(2, upstream.calls(), "one GET when cold, one HEAD when due");
        assertEquals(CacheOutcome.HIT, get(tag("v1")).outcome(), "fresh again after the HEAD");
        assertEquals(2, upstream.calls());
    }

    @Test
    void aMovedTagIsFetchedByDigestAndTheTagMovesViaProxy() {
        Digest one = images.image(REMOTE, "v1", "one");
        get(tag("v1"));
        Digest two = images.image(REMOTE, "v1", "two");
        clock.advance(TTL.plusSeconds(1));
        CachedManifest moved = get(tag("v1"));
        assertEquals(CacheOutcome.REFRESHED, moved.outcome());
        assertEquals(two, moved.record().digest());
        assertEquals(1, upstream.calls("manifestDigest"));
        assertEquals(1, upstream.calls("manifest:digest"));
        assertEquals(Optional.of(two), cache.metadata().tags().target(LOCAL, "v1"));
        assertTrue(cache.metadata().manifests().exists(LOCAL, one), "the old manifest stays for eviction");
        List<TagChange> history = cache.metadata().tags().history(LOCAL, "v1");
        assertEquals(2, history.size());
        assertTrue(history.stream().allMatch(c -> c.origin().via().equals(Caller.PROXY)), history.toString());
    }

    @Test
    void aManifestByDigestIsNeverAskedForAgain() {
        Digest d = images.image(REMOTE, null, "untagged");
        assertEquals(CacheOutcome.MISS, get(d).outcome());
        clock.advance(Duration.ofDays(30));
        upstream.failWith(UpstreamException.Kind.UNREACHABLE, null);
        assertEquals(CacheOutcome.HIT, get(d).outcome());
        assertEquals(1, upstream.calls());
    }

    @Test
    void anIndexIsStoredWithItsChildrenFetchedOnDemand() {
        Digest amd = images.image(REMOTE, null, "amd64");
        Digest arm = images.image(REMOTE, null, "arm64");
        images.index(REMOTE, "multi", amd, arm);
        assertEquals(CacheOutcome.MISS, get(tag("multi")).outcome());
        assertFalse(cache.metadata().manifests().exists(LOCAL, amd));
        assertFalse(cache.metadata().manifests().exists(LOCAL, arm));
        assertEquals(CacheOutcome.MISS, get(arm).outcome());
        assertTrue(cache.metadata().manifests().exists(LOCAL, arm));
        assertFalse(cache.metadata().manifests().exists(LOCAL, amd), "only the child asked for");
        assertEquals(1, upstream.calls("manifest:digest"));
    }

    @Test
    void hundredConcurrentColdPullsMakeOneUpstreamCallPerManifestAndPerBlob() throws Exception {
        images.image(REMOTE, "v1", "popular");
        ManifestRecord expected = origin.manifests().head(REMOTE, tag("v1"));
        List<Digest> blobs = blobsOf(expected);
        upstream.holdUntilReleased();
        int clients = 100;
        CountDownLatch started = new CountDownLatch(clients);
        ExecutorService pool = Executors.newFixedThreadPool(clients);
        try {
            List<Future<List<byte[]>>> pulls = new ArrayList<>();
            for (int i = 0; i < clients; i++) {
                pulls.add(pool.submit(() -> {
                    started.countDown();
                    List<byte[]> got = new ArrayList<>();
                    got.add(get(tag("v1")).record().payload());
                    for (Digest b : blobs) {
                        got.add(pullBlob(b));
                    }
                    return got;
                }));
            }
            started.await();
            Thread.sleep(200); // lets the clients reach the upstream's gate; the counts hold however many did
            upstream.release();
            for (Future<List<byte[]>> f : pulls) {
                List<byte[]> got = f.get();
                assertArrayEquals(expected.payload(), got.get(0));
                for (int i = 0; i < blobs.size(); i++) {
                    try (InputStream in = origin.blobs()
                            .open(REMOTE, origin.blobs().stat(REMOTE, blobs.get(i)), 0, got.get(i + 1).length)) {
                        assertArrayEquals(in.readAllBytes(), got.get(i + 1));
                    }
                }
            }
        } finally {
            pool.shutdownNow();
        }
        assertEquals(1, upstream.calls("manifest:tag"));
        assertEquals(blobs.size(), upstream.calls("blob"));
        assertEquals(1 + blobs.size(), upstream.calls());
        System.out.println("100 concurrent cold pulls: upstream calls " + upstream.calls());
    }

    @Test
    void wrongBytesFromTheUpstreamAreNeverServedNorKept() throws IOException {
        images.image(REMOTE, "v1", "one");
        ManifestRecord m = get(tag("v1")).record();
        Digest layer = blobsOf(m).get(1);
        upstream.corruptBlobs(true);
        RegistryException e =
                assertThrows(RegistryException.class, () -> cache.proxy().blob(CLIENT, LOCAL, layer));
        assertEquals(ErrorCode.UPSTREAM_FAILED, e.code());
        assertTrue(e.getMessage().contains("nothing kept"), e.getMessage());
        assertTrue(cache.metadata().blobs().size(layer).isEmpty(), "no blob row");
        assertFalse(cache.metadata().blobs().linked(LOCAL, layer));
        assertTrue(cache.blobStore().size(layer).isEmpty(), "no blob file");
        assertEquals(List.of(), cache.blobStore().listUploads(), "no staging file left");
        assertEquals(1, cache.proxy().stats().rejectedBlobs());

        upstream.corruptBlobs(false);
        assertArrayEquals(
                origin.blobs()
                        .open(
                                REMOTE,
                                origin.blobs().stat(REMOTE, layer),
                                0,
                                origin.blobs().stat(REMOTE, layer).size())
                        .readAllBytes(),
                pullBlob(layer),
                "the next pull fetches it again");
        assertEquals(2, upstream.calls("blob"));
    }

    /** A layer of {@code size} bytes from {@code seed}, pushed to the upstream. */
    private byte[] bigLayer(int size, int seed) {
        byte[] bytes = new byte[size];
        new Random(seed).nextBytes(bytes);
        images.blob(REMOTE, bytes);
        return bytes;
    }

    private static byte[] readN(InputStream in, int n) throws IOException {
        byte[] got = in.readNBytes(n);
        assertEquals(n, got.length);
        return got;
    }

    @Test
    void aColdBlobReachesItsFirstReaderWhileItIsStillArriving() throws Exception {
        byte[] layer = bigLayer(3 << 20, 1);
        Digest digest = Digest.compute(DigestAlgorithm.SHA256, layer);
        int first = 1 << 20;
        upstream.stallBlobsAfter(first);
        BlobSource source = cache.proxy().pull(CLIENT, LOCAL, digest);
        BlobFill fill = assertInstanceOf(BlobSource.Filling.class, source).fill();
        assertEquals(layer.length, fill.blob().size(), "the upstream's length, announced before the bytes");
        try (InputStream in = fill.open(0, layer.length)) {
            byte[] head = readN(in, first);
            assertArrayEquals(Arrays.copyOf(layer, first), head, "the first part, while the rest has not arrived");
            assertEquals(first, fill.received(), "the upstream is still stalled");
            assertTrue(cache.metadata().blobs().size(digest).isEmpty(), "not recorded before it is verified");
            upstream.resumeBlobs();
            assertArrayEquals(Arrays.copyOfRange(layer, first, layer.length), in.readAllBytes());
        }
        fill.awaitStored();
        assertEquals(
                layer.length, cache.metadata().blobs().linkedSize(LOCAL, digest).orElseThrow());
        assertEquals(CacheOutcome.HIT, cache.proxy().pull(CLIENT, LOCAL, digest).outcome());
        assertEquals(1, upstream.calls("blob"));
    }

    @Test
    void theLast64KiBWaitForVerificationAndAMismatchFailsEveryReaderAndKeepsNothing() throws Exception {
        byte[] layer = bigLayer(1 << 20, 2);
        Digest digest = Digest.compute(DigestAlgorithm.SHA256, layer);
        upstream.corruptBlobs(true); // same length, last byte changed
        upstream.stallBlobsAfter(layer.length); // every byte arrived, the end not yet seen
        BlobFill fill = ((BlobSource.Filling) cache.proxy().pull(CLIENT, LOCAL, digest)).fill();
        BlobFill joined = ((BlobSource.Filling) cache.proxy().pull(CLIENT, LOCAL, digest)).fill();
        assertSame(fill, joined, "a second client reads the same fill");
        int released = layer.length - BlobFill.HOLD_BACK;
        try (InputStream a = fill.open(0, layer.length);
                InputStream b = joined.open(0, layer.length)) {
            assertArrayEquals(Arrays.copyOf(layer, released), readN(a, released));
            assertArrayEquals(Arrays.copyOf(layer, released), readN(b, released));
            assertEquals(layer.length, fill.received(), "all arrived, the tail still withheld");
            upstream.resumeBlobs();
            BlobFill.FillFailedException cutA = assertThrows(BlobFill.FillFailedException.class, a::readAllBytes);
            assertEquals(ErrorCode.UPSTREAM_FAILED, cutA.failure().code());
            assertThrows(BlobFill.FillFailedException.class, b::readAllBytes);
        }
        assertEquals(
                ErrorCode.UPSTREAM_FAILED,
                assertThrows(RegistryException.class, fill::awaitStored).code());
        assertTrue(cache.metadata().blobs().size(digest).isEmpty(), "no blob row");
        assertTrue(cache.blobStore().size(digest).isEmpty(), "no blob file");
        assertEquals(List.of(), cache.blobStore().listUploads(), "no staging file left");
        assertEquals(1, cache.proxy().stats().rejectedBlobs());

        upstream.corruptBlobs(false);
        upstream.stallBlobsAfter(-1);
        assertArrayEquals(layer, pullBlob(digest), "the next pull fetches it again");
        assertEquals(2, upstream.calls("blob"));
    }

    @Test
    void aRangeOfAFillingBlobEndsOnlyOnceItsBytesAreVerified() throws Exception {
        byte[] layer = bigLayer(1 << 20, 5);
        Digest digest = Digest.compute(DigestAlgorithm.SHA256, layer);
        upstream.corruptBlobs(true); // the last byte is wrong: the range itself is not, but is unverified
        upstream.stallBlobsAfter(layer.length); // every byte arrived, the end not yet seen
        BlobFill fill = ((BlobSource.Filling) cache.proxy().pull(CLIENT, LOCAL, digest)).fill();
        int length = 200_000; // a client's Range: bytes=0-199999, far from the blob's withheld tail
        ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor();
        try (InputStream in = fill.open(0, length)) {
            int released = length - BlobFill.HOLD_BACK;
            assertArrayEquals(Arrays.copyOf(layer, released), readN(in, released));
            Future<byte[]> rest = pool.submit(in::readAllBytes);
            Thread.sleep(300);
            assertFalse(rest.isDone(), "a range ended (a complete 206) before its bytes were verified");
            upstream.resumeBlobs();
            ExecutionException cut = assertThrows(ExecutionException.class, rest::get);
            assertInstanceOf(BlobFill.FillFailedException.class, cut.getCause());
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void aShortBodyFailsItsReadersLikeAMismatch() throws Exception {
        byte[] layer = bigLayer(1 << 20, 3);
        Digest digest = Digest.compute(DigestAlgorithm.SHA256, layer);
        upstream.stallBlobsAfter(layer.length / 2);
        BlobFill fill = ((BlobSource.Filling) cache.proxy().pull(CLIENT, LOCAL, digest)).fill();
        try (InputStream in = fill.open(0, layer.length)) {
            readN(in, layer.length / 2);
            upstream.failBlobBodies(); // the connection breaks mid-body
            upstream.resumeBlobs();
            BlobFill.FillFailedException cut = assertThrows(BlobFill.FillFailedException.class, in::readAllBytes);
            assertEquals(ErrorCode.UPSTREAM_UNAVAILABLE, cut.failure().code());
        }
        assertTrue(cache.metadata().blobs().size(digest).isEmpty());
        assertEquals(List.of(), cache.blobStore().listUploads());
    }

    @Test
    void hundredConcurrentReadersOfAFillingBlobMakeOneUpstreamCall() throws Exception {
        byte[] layer = bigLayer(3 << 20, 4); // larger than a fill's window: late readers go on from the store
        Digest digest = Digest.compute(DigestAlgorithm.SHA256, layer);
        upstream.stallBlobsAfter(256 * 1024);
        ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor();
        try {
            List<Future<byte[]>> reads = new ArrayList<>();
            CountDownLatch started = new CountDownLatch(100);
            for (int i = 0; i < 100; i++) {
                reads.add(pool.submit(() -> {
                    started.countDown();
                    BlobSource source = cache.proxy().pull(CLIENT, LOCAL, digest);
                    if (source instanceof BlobSource.Filling f) {
                        try (InputStream in = f.fill().open(0, layer.length)) {
                            return in.readAllBytes();
                        }
                    }
                    try (InputStream in = cache.blobs().open(LOCAL, source.blob(), 0, layer.length)) {
                        return in.readAllBytes();
                    }
                }));
            }
            started.await();
            Thread.sleep(200); // let them pile up on the stalled fill (not asserted on)
            upstream.resumeBlobs();
            for (Future<byte[]> r : reads) {
                assertArrayEquals(layer, r.get());
            }
        } finally {
            pool.shutdownNow();
        }
        assertEquals(1, upstream.calls("blob"));
    }

    private Optional<CachedReferrersIndex> referrers(Digest subject, Optional<String> artifactType) {
        return cache.proxy().referrers(CLIENT, LOCAL, subject, artifactType);
    }

    @Test
    void referrersPassThroughWithTheirExactBytesAndAreKeptForOutages() throws Exception {
        Digest subject = images.image(REMOTE, "v1", "one");
        Digest signature = images.referrer(REMOTE, subject, "sig");
        byte[] upstreamIndex = upstream.referrers(REMOTE, subject, Optional.empty())
                .orElseThrow()
                .index();

        get(tag("v1")); // a verifier pulls the image, then asks for its referrers
        CachedReferrersIndex cold = referrers(subject, Optional.empty()).orElseThrow();
        assertEquals(CacheOutcome.MISS, cold.outcome());
        assertArrayEquals(upstreamIndex, cold.index(), "the upstream's bytes, not a re-encoding");
        assertFalse(cold.filtered());
        assertTrue(new String(cold.index(), StandardCharsets.UTF_8).contains(signature.toString()));
        int calls = upstream.calls("referrers");
        assertEquals(
                CacheOutcome.HIT,
                referrers(subject, Optional.empty()).orElseThrow().outcome());
        assertEquals(calls, upstream.calls("referrers"), "fresh: no upstream request");

        String type = "application/vnd.oci.image.config.v1+json";
        CachedReferrersIndex filtered = referrers(subject, Optional.of(type)).orElseThrow();
        assertTrue(filtered.filtered(), "the upstream applied the filter: OCI-Filters-Applied");

        // the signature by digest: exactly the upstream's bytes, so its digest (and a verifier's check) holds
        CachedManifest sig = get(signature);
        assertEquals(
                signature, Digest.compute(DigestAlgorithm.SHA256, sig.record().payload()));
        assertArrayEquals(
                origin.manifests().head(REMOTE, signature).payload(),
                sig.record().payload());

        clock.advance(TTL.plusSeconds(1));
        assertEquals(
                CacheOutcome.REVALIDATED,
                referrers(subject, Optional.empty()).orElseThrow().outcome());
        images.referrer(REMOTE, subject, "sbom");
        clock.advance(TTL.plusSeconds(1));
        CachedReferrersIndex refreshed = referrers(subject, Optional.empty()).orElseThrow();
        assertEquals(CacheOutcome.REFRESHED, refreshed.outcome());

        upstream.failWith(UpstreamException.Kind.UNREACHABLE, null);
        clock.advance(TTL.plusSeconds(1));
        CachedReferrersIndex stale = referrers(subject, Optional.empty()).orElseThrow();
        assertEquals(CacheOutcome.STALE, stale.outcome());
        assertArrayEquals(refreshed.index(), stale.index());
        assertEquals(
                ErrorCode.UPSTREAM_UNAVAILABLE,
                code(() -> referrers(subject, Optional.of("application/other"))),
                "nothing kept for that filter: 503");
        Digest uncachedSignature = images.referrer(REMOTE, subject, "another");
        assertEquals(ErrorCode.UPSTREAM_UNAVAILABLE, code(() -> get(uncachedSignature)), "uncached referrer: 503");
        clock.advance(STALE_FOR);
        assertEquals(
                ErrorCode.UPSTREAM_UNAVAILABLE,
                code(() -> referrers(subject, Optional.empty())),
                "past stale-for: 503");
    }

    @Test
    void referrersOfASubjectNotCachedArePassedOnButNotKept() {
        Digest subject = images.image(REMOTE, "v1", "one");
        images.referrer(REMOTE, subject, "sig");
        Digest unknown = Digest.compute(DigestAlgorithm.SHA256, "no such image".getBytes(StandardCharsets.UTF_8));
        for (String type : List.of("", "application/a", "application/b")) {
            Optional<String> filter = type.isEmpty() ? Optional.empty() : Optional.of(type);
            assertEquals(
                    CacheOutcome.MISS, referrers(subject, filter).orElseThrow().outcome());
            // a registry answers an empty index for any digest: a client choosing digests and filters
            // must not make the cache keep a row for each
            assertEquals(
                    CacheOutcome.MISS, referrers(unknown, filter).orElseThrow().outcome());
            assertTrue(cache.metadata().proxy().referrers(LOCAL, subject, type).isEmpty(), "kept for " + type);
            assertTrue(cache.metadata().proxy().referrers(LOCAL, unknown, type).isEmpty(), "kept for " + type);
        }
        get(tag("v1"));
        assertEquals(
                CacheOutcome.MISS,
                referrers(subject, Optional.empty()).orElseThrow().outcome());
        assertEquals(
                CacheOutcome.HIT,
                referrers(subject, Optional.empty()).orElseThrow().outcome(),
                "held: kept");
    }

    @Test
    void aDownUpstreamServesCachedTagsStaleUntilStaleForThen503AndNothingUncached() {
        Digest d = images.image(REMOTE, "v1", "one");
        images.image(REMOTE, "v2", "two");
        get(tag("v1"));
        upstream.failWith(UpstreamException.Kind.UNREACHABLE, null);
        clock.advance(TTL.plusSeconds(1));
        CachedManifest stale = get(tag("v1"));
        assertEquals(CacheOutcome.STALE, stale.outcome());
        assertEquals(d, stale.record().digest());
        assertEquals(1, cache.proxy().stats().served(CacheOutcome.STALE));
        assertEquals(ErrorCode.UPSTREAM_UNAVAILABLE, code(() -> get(tag("v2"))), "uncached: 503");
        Digest layer = blobsOf(stale.record()).get(1);
        assertEquals(ErrorCode.UPSTREAM_UNAVAILABLE, code(() -> cache.proxy().blob(CLIENT, LOCAL, layer)));
        clock.advance(STALE_FOR);
        assertEquals(ErrorCode.UPSTREAM_UNAVAILABLE, code(() -> get(tag("v1"))), "past stale-for: 503");

        upstream.failWith(null, null);
        assertEquals(CacheOutcome.REVALIDATED, get(tag("v1")).outcome(), "back: one HEAD");
    }

    @Test
    void aThrottlingUpstreamServesCachedTagsStaleAndPassesOn429WithItsRetryAfter() {
        images.image(REMOTE, "v1", "one");
        images.image(REMOTE, "v2", "two");
        get(tag("v1"));
        upstream.failWith(UpstreamException.Kind.THROTTLED, Duration.ofSeconds(42));
        clock.advance(TTL.plusSeconds(1));
        assertEquals(CacheOutcome.STALE, get(tag("v1")).outcome());
        RegistryException e = assertThrows(RegistryException.class, () -> get(tag("v2")));
        assertEquals(ErrorCode.TOOMANYREQUESTS, e.code());
        assertEquals(42L, e.detail().get(RegistryException.RETRY_AFTER));
    }

    @Test
    void refusedOrInvalidAnswersAre502AndNeverServeStale() {
        images.image(REMOTE, "v1", "one");
        get(tag("v1"));
        upstream.failWith(UpstreamException.Kind.INVALID, null);
        clock.advance(TTL.plusSeconds(1));
        assertEquals(ErrorCode.UPSTREAM_FAILED, code(() -> get(tag("v1"))));
        upstream.failWith(UpstreamException.Kind.REFUSED, null);
        assertEquals(ErrorCode.UPSTREAM_FAILED, code(() -> get(tag("v2"))));
    }

    @Test
    void aTagTheUpstreamNoLongerHasIsRemovedFromTheCache() {
        images.image(REMOTE, "v1", "one");
        get(tag("v1"));
        origin.manifests().delete(REMOTE, tag("v1"));
        clock.advance(TTL.plusSeconds(1));
        assertEquals(ErrorCode.MANIFEST_UNKNOWN, code(() -> get(tag("v1"))));
        assertTrue(cache.metadata().tags().target(LOCAL, "v1").isEmpty());
        assertTrue(cache.metadata().proxy().validatedAt(LOCAL, "v1").isEmpty());
        assertEquals(ErrorCode.MANIFEST_UNKNOWN, code(() -> get(tag("nope"))));
        assertEquals(
                ErrorCode.BLOB_UNKNOWN,
                code(() -> cache.proxy().blob(CLIENT, LOCAL, Digest.compute(DigestAlgorithm.SHA256, new byte[] {1}))));
    }

    @Test
    void tagsPassThroughAndFallBackToTheCachedOnesWhileTheUpstreamIsDown() {
        images.image(REMOTE, "a", "one");
        images.image(REMOTE, "b", "two");
        CachedTags live = cache.proxy().tags(CLIENT, LOCAL, null, null);
        assertEquals(List.of("a", "b"), live.page().entries());
        assertEquals(CacheOutcome.MISS, live.outcome());
        get(tag("b"));
        upstream.failWith(UpstreamException.Kind.UNAVAILABLE, null);
        CachedTags stale = cache.proxy().tags(CLIENT, LOCAL, null, null);
        assertEquals(List.of("b"), stale.page().entries());
        assertEquals(CacheOutcome.STALE, stale.outcome());
    }

    @Test
    void tagsOfARepositoryTheUpstreamLacksAreNameUnknownNotAnEmptyList() {
        assertEquals(
                ErrorCode.NAME_UNKNOWN,
                code(() -> cache.proxy().tags(CLIENT, RepositoryName.of("hub/library/none"), null, null)));
        assertEquals(1, upstream.calls("tags"));
    }

    @Test
    void pushesMountsDeletesAndTagChangesAreDeniedSayingWhy() {
        Digest d = images.image(REMOTE, "v1", "one");
        ManifestRecord m = get(tag("v1")).record();
        Digest config = blobsOf(m).get(0);
        cache.proxy().blob(CLIENT, LOCAL, config);
        RepositoryName local = RepositoryName.of("team/app");
        byte[] bytes = Images.bytes("x");
        Digest x = Digest.compute(DigestAlgorithm.SHA256, bytes);
        cache.uploads().putMonolithic(local, x, OptionalLong.of(1), new ByteArrayInputStream(bytes));
        List<Runnable> writes = List.of(
                () -> cache.uploads().start(LOCAL, CLIENT),
                () -> cache.uploads()
                        .putMonolithic(CLIENT, LOCAL, x, OptionalLong.of(1), new ByteArrayInputStream(bytes)),
                () -> cache.uploads().mount(CLIENT, LOCAL, x, Optional.of(local)),
                () -> cache.manifests().put(CLIENT, LOCAL, tag("v2"), List.of(), m.mediaType(), m.payload()),
                () -> cache.manifests().delete(CLIENT, LOCAL, d),
                () -> cache.manifests().delete(CLIENT, LOCAL, tag("v1")),
                () -> cache.blobs().delete(CLIENT, LOCAL, config),
                () -> cache.tags().set(CLIENT, LOCAL, "v3", d, Optional.empty()),
                () -> cache.tags().restore(CLIENT, LOCAL, "v1", 1, 0));
        for (Runnable write : writes) {
            RegistryException e = assertThrows(RegistryException.class, write::run);
            assertEquals(ErrorCode.DENIED, e.code(), e.getMessage());
            assertTrue(e.getMessage().contains("is a pull-through cache of upstream hub"), e.getMessage());
        }
        assertEquals(Optional.of(d), cache.metadata().tags().target(LOCAL, "v1"), "nothing changed");
        assertTrue(cache.metadata().blobs().linked(LOCAL, config));
        // a local repository is untouched by the rule
        cache.uploads().mount(CLIENT, RepositoryName.of("team/other"), x, Optional.of(local));
    }

    @Test
    void pullsOfCachedContentAreRecorded() {
        Digest d = images.image(REMOTE, "v1", "one");
        get(tag("v1"));
        cache.flushPulls();
        assertTrue(cache.metadata().manifests().lastPulled(LOCAL, d).isPresent(), "the pull is recorded");
    }
}
