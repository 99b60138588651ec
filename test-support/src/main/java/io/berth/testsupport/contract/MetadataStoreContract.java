package io.berth.testsupport.contract;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.berth.core.metadata.BlobRecord;
import io.berth.core.metadata.CachedReferrers;
import io.berth.core.metadata.CachedRepository;
import io.berth.core.metadata.LinkedBlob;
import io.berth.core.metadata.ManifestKey;
import io.berth.core.metadata.ManifestRecord;
import io.berth.core.metadata.ManifestReferences;
import io.berth.core.metadata.MetadataStore;
import io.berth.core.metadata.OutboxEvent;
import io.berth.core.metadata.OutboxRange;
import io.berth.core.metadata.OutboxRecords;
import io.berth.core.metadata.OutboxStats;
import io.berth.core.metadata.ReferrerRecord;
import io.berth.core.metadata.RobotRecord;
import io.berth.core.metadata.TagChange;
import io.berth.core.metadata.UploadSession;
import io.berth.core.model.ChangeOrigin;
import io.berth.core.model.Digest;
import io.berth.core.model.DigestAlgorithm;
import io.berth.core.model.RepositoryName;
import io.berth.core.model.UploadId;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The contract every {@link MetadataStore} passes; a backend's test extends this. */
public abstract class MetadataStoreContract {
    protected static final RepositoryName REPO = RepositoryName.of("team/app");
    protected static final ChangeOrigin ORIGIN = new ChangeOrigin("v2", "req-1", "alice");

    @TempDir
    protected Path dir;

    protected MetadataStore store;

    protected abstract MetadataStore newStore(Path dir);

    @BeforeEach
    void open() {
        store = newStore(dir);
    }

    @AfterEach
    void close() {
        store.close();
    }

    protected static Digest digest(String content) {
        return Digest.compute(DigestAlgorithm.SHA256, content.getBytes(StandardCharsets.UTF_8));
    }

    private ManifestRecord manifest(String content, Optional<Digest> subject, String artifactType) {
        byte[] payload = content.getBytes(StandardCharsets.UTF_8);
        return new ManifestRecord(
                REPO,
                Digest.compute(DigestAlgorithm.SHA256, payload),
                "application/vnd.oci.image.manifest.v1+json",
                artifactType,
                subject,
                Map.of("k", "v"),
                payload,
                1);
    }

    @Test
    void blobsLinkPerRepository() {
        Digest b = digest("blob");
        store.inTransaction(tx -> {
            tx.blobs().put(b, 4);
            tx.repositories().ensure(REPO);
            tx.blobs().link(REPO, b);
            tx.blobs().link(REPO, b);
            return null;
        });
        assertTrue(store.blobs().linked(REPO, b));
        assertEquals(4, store.blobs().linkedSize(REPO, b).orElseThrow());
        assertFalse(store.blobs().linked(RepositoryName.of("other"), b));
        assertTrue(store.blobs().linkedAnywhere(b));
        assertTrue(store.<Boolean>inTransaction(tx -> tx.blobs().unlink(REPO, b)));
        assertFalse(store.blobs().linked(REPO, b));
        assertEquals(4, store.blobs().size(b).orElseThrow());
    }

    @Test
    void blobsLinkedToARepositoryAreListedByDigestPageByPageWithTheirTimes() {
        List<Digest> linked = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            linked.add(digest("linked " + i));
        }
        linked.sort((a, b) -> a.toString().compareTo(b.toString()));
        Digest elsewhere = digest("elsewhere");
        long linkedAt = store.<Long>inTransaction(tx -> {
            tx.repositories().ensure(REPO);
            for (int i = 0; i < linked.size(); i++) {
                tx.blobs().put(linked.get(i), 10 + i);
                tx.blobs().link(REPO, linked.get(i));
            }
            tx.blobs().put(elsewhere, 3);
            tx.blobs().link(RepositoryName.of("other"), elsewhere);
            tx.blobs().recordPull(REPO, linked.get(1), 4321);
            return tx.now();
        });

        List<LinkedBlob> first = store.blobs().linkedTo(REPO, null, 3);
        assertEquals(
                linked.subList(0, 3), first.stream().map(LinkedBlob::digest).toList());
        List<LinkedBlob> rest =
                store.blobs().linkedTo(REPO, first.getLast().digest().toString(), 3);
        assertEquals(linked.subList(3, 5), rest.stream().map(LinkedBlob::digest).toList(), "the next page");
        assertEquals(first, store.blobs().linkedTo(REPO, "", 3), "empty is from the start too");

        LinkedBlob pulled = first.get(1);
        assertEquals(11, pulled.size());
        assertEquals(linkedAt, pulled.linkedAt());
        assertEquals(4321, pulled.lastPulledAt().orElseThrow());
        assertTrue(first.get(0).lastPulledAt().isEmpty(), "never pulled");
        assertEquals(linkedAt, first.get(0).lastUsed());

        assertTrue(store.<Boolean>inTransaction(tx -> tx.blobs().unlink(REPO, linked.get(0))));
        assertEquals(
                linked.subList(1, 5),
                store.blobs().linkedTo(REPO, null, 10).stream()
                        .map(LinkedBlob::digest)
                        .toList(),
                "an unlinked blob is not listed");
        assertEquals(
                List.of(elsewhere),
                store.blobs().linkedTo(RepositoryName.of("other"), null, 10).stream()
                        .map(LinkedBlob::digest)
                        .toList());
        assertTrue(store.blobs().linkedTo(RepositoryName.of("none"), null, 10).isEmpty());
    }

    @Test
    void referencesAreFoundPerRepository() {
        ManifestRecord image = manifest("{\"image\":1}", Optional.empty(), null);
        ManifestRecord index = manifest("{\"index\":1}", Optional.empty(), null);
        Digest layer = digest("layer");
        store.inTransaction(tx -> {
            tx.repositories().ensure(REPO);
            tx.manifests().put(image, new ManifestReferences(Set.of(layer), Set.of()));
            tx.manifests().put(index, new ManifestReferences(Set.of(), Set.of(image.digest())));
            return null;
        });
        assertEquals(Optional.of(image.digest()), store.manifests().referencingBlob(REPO, layer));
        assertEquals(Optional.of(index.digest()), store.manifests().indexReferencing(REPO, image.digest()));
        RepositoryName other = RepositoryName.of("other/repo");
        assertTrue(store.manifests().referencingBlob(other, layer).isEmpty());
        assertTrue(store.manifests().indexReferencing(other, image.digest()).isEmpty());
        assertTrue(store.manifests().indexReferencing(REPO, index.digest()).isEmpty());
        store.inTransaction(tx -> tx.manifests().delete(REPO, index.digest(), ORIGIN));
        assertTrue(store.manifests().indexReferencing(REPO, image.digest()).isEmpty());
    }

    /** The reads a garbage collection dry run follows: what a manifest keeps and what keeps a blob. */
    @Test
    void dependentsIndexesAndBlobReferencesAreFound() {
        ManifestRecord image = manifest("{\"image\":1}", Optional.empty(), null);
        ManifestRecord index = manifest("{\"index\":1}", Optional.empty(), null);
        ManifestRecord index2 = manifest("{\"index\":2}", Optional.empty(), null);
        ManifestRecord signature = manifest("{\"sig\":1}", Optional.of(image.digest()), "application/x-sig");
        RepositoryName other = RepositoryName.of("other/repo");
        Digest layer = digest("layer");
        store.inTransaction(tx -> {
            tx.repositories().ensure(REPO);
            tx.repositories().ensure(other);
            tx.blobs().put(layer, 5);
            tx.blobs().link(REPO, layer);
            tx.manifests().put(image, new ManifestReferences(Set.of(layer), Set.of()));
            tx.manifests().put(index, new ManifestReferences(Set.of(), Set.of(image.digest())));
            tx.manifests().put(index2, new ManifestReferences(Set.of(), Set.of(image.digest(), index2.digest())));
            tx.manifests().put(signature, new ManifestReferences(Set.of(), Set.of()));
            tx.manifests()
                    .put(
                            new ManifestRecord(
                                    other,
                                    image.digest(),
                                    image.mediaType(),
                                    null,
                                    Optional.empty(),
                                    Map.of(),
                                    image.payload(),
                                    1),
                            new ManifestReferences(Set.of(layer), Set.of()));
            return null;
        });
        assertEquals(List.of(image.digest()), store.manifests().dependents(REPO, index.digest()));
        assertEquals(List.of(image.digest()), store.manifests().dependents(REPO, index2.digest()), "not itself");
        assertEquals(List.of(signature.digest()), store.manifests().dependents(REPO, image.digest()));
        assertEquals(
                Set.of(index.digest(), index2.digest()),
                Set.copyOf(store.manifests().indexesListing(REPO, image.digest())));
        assertTrue(store.manifests().indexesListing(REPO, index2.digest()).isEmpty());
        assertEquals(List.of(layer), store.manifests().blobsOf(REPO, image.digest()));
        assertEquals(
                List.of(image.digest()),
                store.manifests()
                        .digestsStartingWith(
                                REPO, "sha256:" + image.digest().hex().substring(0, 8), 5));
        assertEquals(
                List.of(image.digest()),
                store.manifests()
                        .digestsStartingWith(
                                other, "sha256:" + image.digest().hex().substring(0, 8), 5));
        assertEquals(
                4, store.manifests().digestsStartingWith(REPO, "sha256:", 5).size());
        assertEquals(
                Set.of(new ManifestKey(REPO, image.digest()), new ManifestKey(other, image.digest())),
                Set.copyOf(store.manifests().referencingBlobAnywhere(layer)));
        long later = System.currentTimeMillis() + 3_600_000;
        assertEquals(Optional.of(new BlobRecord(layer, 5)), store.gc().blobUnlinkedSince(layer, later));
        assertTrue(store.gc().blobUnlinkedSince(layer, 0).isEmpty(), "recorded after the cutoff");
        assertTrue(store.gc().blobUnlinkedSince(digest("unknown"), later).isEmpty());
    }

    @Test
    void manifestsKeepExactPayloadAndReferences() {
        ManifestRecord m = manifest("{\"a\":1}", Optional.empty(), null);
        store.inTransaction(tx -> {
            tx.repositories().ensure(REPO);
            tx.manifests().put(m, new ManifestReferences(Set.of(digest("l1")), Set.of()));
            return null;
        });
        ManifestRecord got = store.manifests().get(REPO, m.digest()).orElseThrow();
        assertArrayEquals(m.payload(), got.payload());
        assertEquals(m.mediaType(), got.mediaType());
        assertEquals("v", got.annotations().get("k"));
        assertTrue(store.manifests().exists(REPO, m.digest()));
    }

    @Test
    void tagsMoveAndKeepHistory() {
        ManifestRecord a = manifest("{\"a\":1}", Optional.empty(), null);
        ManifestRecord b = manifest("{\"b\":1}", Optional.empty(), null);
        store.inTransaction(tx -> {
            tx.repositories().ensure(REPO);
            tx.manifests().put(a, new ManifestReferences(Set.of(), Set.of()));
            tx.manifests().put(b, new ManifestReferences(Set.of(), Set.of()));
            assertTrue(tx.tags().set(REPO, "v1", a.digest(), ORIGIN).isEmpty());
            assertEquals(
                    a.digest(), tx.tags().set(REPO, "v1", b.digest(), ORIGIN).orElseThrow());
            tx.tags().set(REPO, "v1", b.digest(), ORIGIN); // unchanged: no new history entry
            return null;
        });
        assertEquals(b.digest(), store.tags().target(REPO, "v1").orElseThrow());
        assertTrue(store.<Boolean>inTransaction(tx -> tx.tags().delete(REPO, "v1", ORIGIN)));
        List<TagChange> h = store.tags().history(REPO, "v1");
        assertEquals(
                List.of(TagChange.Action.CREATED, TagChange.Action.MOVED, TagChange.Action.DELETED),
                h.stream().map(TagChange::action).toList());
        assertEquals(a.digest(), h.get(1).previous().orElseThrow());
        assertTrue(h.stream().allMatch(c -> c.origin().equals(ORIGIN)), "each version records where it came from");
        assertTrue(store.tags().target(REPO, "v1").isEmpty());
        store.inTransaction(tx -> tx.manifests().delete(REPO, b.digest(), ORIGIN));
        assertEquals(3, store.tags().history(REPO, "v1").size(), "history outlives the manifests it names");
    }

    @Test
    void deletingAManifestRemovesItsTags() {
        ManifestRecord a = manifest("{\"a\":2}", Optional.empty(), null);
        store.inTransaction(tx -> {
            tx.repositories().ensure(REPO);
            tx.manifests().put(a, new ManifestReferences(Set.of(), Set.of()));
            tx.tags().set(REPO, "x", a.digest(), ORIGIN);
            tx.tags().set(REPO, "y", a.digest(), ORIGIN);
            return null;
        });
        assertEquals(List.of("x", "y"), store.tags().of(REPO, a.digest()));
        assertTrue(store.<Boolean>inTransaction(tx -> tx.manifests().delete(REPO, a.digest(), ORIGIN)));
        assertTrue(store.tags().names(REPO, null, 10).isEmpty());
        assertFalse(store.manifests().exists(REPO, a.digest()));
        assertFalse(store.<Boolean>inTransaction(tx -> tx.manifests().delete(REPO, a.digest(), ORIGIN)));
    }

    @Test
    void listingsPageLexically() {
        ManifestRecord a = manifest("{\"p\":1}", Optional.empty(), null);
        store.inTransaction(tx -> {
            for (String r : List.of("b", "a", "c/d")) {
                tx.repositories().ensure(RepositoryName.of(r));
            }
            tx.repositories().ensure(REPO);
            tx.manifests().put(a, new ManifestReferences(Set.of(), Set.of()));
            for (String t : List.of("v2", "v10", "latest", "V1")) {
                tx.tags().set(REPO, t, a.digest(), ORIGIN);
            }
            return null;
        });
        assertEquals(List.of("V1", "latest", "v10", "v2"), store.tags().names(REPO, null, 10));
        assertEquals(List.of("latest", "v10"), store.tags().names(REPO, "V1", 2));
        assertEquals(List.of("a", "b"), store.repositories().names(null, 2));
        assertEquals(List.of("c/d", "team/app"), store.repositories().names("b", 5));
        assertEquals(4, store.repositories().count());
    }

    @Test
    void referrersFollowSubjectsAndFilterByArtifactType() {
        Digest subject = digest("subject");
        ManifestRecord sig = manifest("{\"sig\":1}", Optional.of(subject), "application/sig");
        ManifestRecord sbom = manifest("{\"sbom\":1}", Optional.of(subject), "application/sbom");
        store.inTransaction(tx -> {
            tx.repositories().ensure(REPO);
            tx.manifests().put(sig, new ManifestReferences(Set.of(), Set.of()));
            tx.manifests().put(sbom, new ManifestReferences(Set.of(), Set.of()));
            return null;
        });
        assertEquals(
                2, store.manifests().referrers(REPO, subject, null, null, 100).size());
        List<ReferrerRecord> only = store.manifests().referrers(REPO, subject, "application/sbom", null, 100);
        assertEquals(1, only.size());
        assertEquals(sbom.digest(), only.get(0).digest());
        assertEquals("v", only.get(0).annotations().get("k"));
        assertTrue(store.manifests()
                .referrers(REPO, digest("none"), null, null, 100)
                .isEmpty());
    }

    @Test
    void uploadsAdvanceOnlyFromTheExpectedSize() {
        UploadId id = UploadId.random();
        store.inTransaction(tx -> {
            tx.uploads().create(new UploadSession(id, REPO, 0, 1, 1, "10.0.0.1"));
            return null;
        });
        assertTrue(store.<Boolean>inTransaction(tx -> tx.uploads().advance(id, 0, 10)));
        assertFalse(store.<Boolean>inTransaction(tx -> tx.uploads().advance(id, 0, 20)));
        assertEquals(10, store.uploads().get(id).orElseThrow().size());
        assertEquals("10.0.0.1", store.uploads().get(id).orElseThrow().client());
        assertEquals(1, store.uploads().ofClient("10.0.0.1"));
        assertEquals(0, store.uploads().ofClient("10.0.0.2"));
        assertEquals(1, store.uploads().idleSince(Long.MAX_VALUE).size());
        assertTrue(store.<Boolean>inTransaction(tx -> tx.uploads().delete(id)));
        assertFalse(store.uploads().exists(id));
    }

    @Test
    void anErrorInsideATransactionLeavesTheStoreUsable() {
        assertThrows(
                OutOfMemoryError.class,
                () -> store.inTransaction(tx -> {
                    tx.repositories().ensure(RepositoryName.of("half/done"));
                    throw new OutOfMemoryError("injected");
                }));
        assertFalse(store.repositories().exists(RepositoryName.of("half/done")));
        store.inTransaction(tx -> {
            tx.repositories().ensure(RepositoryName.of("after/error"));
            return null;
        });
        assertTrue(store.repositories().exists(RepositoryName.of("after/error")));
        store.checkAvailable();
    }

    @Test
    void failedTransactionsLeaveNothing() {
        assertThrows(
                IllegalStateException.class,
                () -> store.inTransaction(tx -> {
                    tx.repositories().ensure(RepositoryName.of("rolled/back"));
                    throw new IllegalStateException("boom");
                }));
        assertFalse(store.repositories().exists(RepositoryName.of("rolled/back")));
    }

    static OutboxEvent event(long seq, String repository, long repoSeq, long at) {
        return new OutboxEvent(
                seq, "id-" + seq, repository, repoSeq, "io.berth.manifest.pushed", "{\"n\":" + seq + "}", at);
    }

    @Test
    void theOutboxHandsOutPendingEventsInOrderUntilMarkedAndPrunesOnlySentOnes() {
        assertEquals(new OutboxStats(0, 0), store.outbox().stats());
        store.inTransaction(tx -> {
            for (int i = 0; i < 5; i++) {
                long seq = tx.nextSequence("outbox");
                tx.outbox().insert(event(seq, i % 2 == 0 ? "a/x" : "b/y", tx.nextSequence("repo:" + i % 2), 1000 + i));
            }
            return null;
        });
        List<OutboxEvent> pending = store.outbox().pending(3);
        assertEquals(List.of(1L, 2L, 3L), pending.stream().map(OutboxEvent::seq).toList());
        assertEquals(event(1, "a/x", 1, 1000), pending.get(0));
        assertEquals(event(2, "b/y", 1, 1001), pending.get(1));
        assertEquals(event(3, "a/x", 2, 1002), pending.get(2));
        assertEquals(new OutboxStats(5, 1000), store.outbox().stats());

        assertEquals(2, (int) store.inTransaction(tx -> tx.outbox().markSent(List.of(1L, 2L), 5000)));
        assertEquals(
                List.of(3L, 4L, 5L),
                store.outbox().pending(10).stream().map(OutboxEvent::seq).toList());
        assertEquals(new OutboxStats(3, 1002), store.outbox().stats());
        assertEquals(0, (int) store.inTransaction(tx -> tx.outbox().markSent(List.of(1L), 6000)), "already sent");

        assertEquals(0, (int) store.inTransaction(tx -> tx.outbox().pruneSent(5000)), "sent at 5000: not before it");
        assertEquals(2, (int) store.inTransaction(tx -> tx.outbox().pruneSent(5001)));
        assertEquals(3, store.outbox().pending(10).size(), "pending rows are never pruned, however old");
    }

    @Test
    void readersPageTheOutboxBySequenceOrTimeAndSeeWhatWasPruned() {
        assertEquals(new OutboxRange(0, 0, 0), store.outbox().range());
        assertFalse(store.outbox().range().anyPruned());
        for (int i = 0; i < 6; i++) {
            int n = i;
            store.inTransaction(tx -> {
                long seq = tx.nextSequence(OutboxRecords.SEQUENCE);
                // events without a broker: written as published at their creation, never pending
                tx.outbox()
                        .insert(
                                event(seq, n % 2 == 0 ? "a/x" : "b/y", tx.nextSequence("repo:" + n % 2), 1000 + n),
                                n >= 4);
                return null;
            });
        }
        assertEquals(
                List.of(5L, 6L),
                store.outbox().pending(10).stream().map(OutboxEvent::seq).toList(),
                "only events to publish are pending");
        assertEquals(
                List.of(1L, 2L, 3L),
                store.outbox().after(0, 3).stream().map(OutboxEvent::seq).toList());
        assertEquals(event(3, "a/x", 2, 1002), store.outbox().after(2, 1).get(0));
        assertEquals(
                List.of(5L, 6L),
                store.outbox().after(4, 10).stream().map(OutboxEvent::seq).toList(),
                "published or not");
        assertEquals(List.of(), store.outbox().after(6, 10));
        assertEquals(OptionalLong.of(1), store.outbox().firstSince(0));
        assertEquals(OptionalLong.of(3), store.outbox().firstSince(1002));
        assertEquals(OptionalLong.empty(), store.outbox().firstSince(1006));
        assertEquals(new OutboxRange(1, 1000, 6), store.outbox().range());

        // unpublished-by-design rows are pruned like published ones, by their creation time
        assertEquals(2, (int) store.inTransaction(tx -> tx.outbox().pruneSent(1002)));
        OutboxRange range = store.outbox().range();
        assertEquals(new OutboxRange(3, 1002, 6), range);
        assertTrue(range.anyPruned());
        assertTrue(range.prunedAfter(0), "events 1 and 2 are gone");
        assertTrue(range.prunedAfter(1));
        assertFalse(range.prunedAfter(2), "3 is the next, and is there");
        assertFalse(range.prunedAfter(6), "nothing after the last");
        assertEquals(2, (int) store.inTransaction(tx -> tx.outbox().pruneSent(5000)));
        assertEquals(new OutboxRange(5, 1004, 6), store.outbox().range(), "pending rows are never pruned");
        assertTrue(store.outbox().range().prunedAfter(2));
        assertFalse(store.outbox().range().prunedAfter(4));
        store.inTransaction(tx -> tx.outbox().markSent(List.of(5L, 6L), 2000));
        assertEquals(2, (int) store.inTransaction(tx -> tx.outbox().pruneSent(5000)));
        range = store.outbox().range();
        assertEquals(new OutboxRange(0, 0, 6), range);
        assertTrue(range.prunedAfter(5), "empty, but 6 was handed out");
        assertFalse(range.prunedAfter(6));
    }

    @Test
    void sequencesCountOnlyWhenTheirTransactionCommits() {
        assertEquals(1L, (long) store.inTransaction(tx -> tx.nextSequence("s")));
        assertEquals(2L, (long) store.inTransaction(tx -> tx.nextSequence("s")));
        assertThrows(
                IllegalStateException.class,
                () -> store.inTransaction(tx -> {
                    tx.nextSequence("s");
                    tx.outbox().insert(event(99, "a/x", 3, 1));
                    throw new IllegalStateException("rolled back");
                }));
        assertEquals(List.of(), store.outbox().pending(10), "the rolled-back event is not there");
        assertEquals(3L, (long) store.inTransaction(tx -> tx.nextSequence("s")), "no gap");
        assertEquals(1L, (long) store.inTransaction(tx -> tx.nextSequence("other")));
    }

    @Test
    void afterCommitActionsRunOnlyAfterACommit() {
        List<String> ran = new ArrayList<>();
        store.inTransaction(tx -> {
            tx.afterCommit(() -> ran.add("committed"));
            assertEquals(List.of(), ran, "not before the commit");
            return null;
        });
        assertThrows(
                IllegalStateException.class,
                () -> store.inTransaction(tx -> {
                    tx.afterCommit(() -> ran.add("rolled back"));
                    throw new IllegalStateException("boom");
                }));
        assertEquals(List.of("committed"), ran);
    }

    @Test
    void aLeaseHasOneHolderUntilItExpires() {
        assertTrue(store.<Boolean>inTransaction(tx -> tx.leases().acquire("relay", "one", 10_000)));
        assertTrue(
                store.<Boolean>inTransaction(tx -> tx.leases().acquire("relay", "one", 20_000)),
                "renewed by its holder");
        // "now" of a transaction is the store's clock: far past these epoch-millisecond times
        assertTrue(
                store.<Boolean>inTransaction(tx -> tx.leases().acquire("relay", "two", tx.now() + 60_000)),
                "an expired lease goes to whoever asks");
        assertFalse(
                store.<Boolean>inTransaction(tx -> tx.leases().acquire("relay", "one", tx.now() + 60_000)),
                "held by two until it expires");
        assertTrue(
                store.<Boolean>inTransaction(tx -> tx.leases().acquire("other", "one", tx.now() + 60_000)),
                "leases are independent");
    }

    @Test
    void pullTimesAreRecorded() {
        Digest b = digest("pulled");
        store.inTransaction(tx -> {
            tx.blobs().put(b, 6);
            tx.blobs().link(REPO, b);
            tx.blobs().recordPull(REPO, b, 1234);
            return null;
        });
        assertEquals(1234, store.blobs().lastPulled(REPO, b).orElseThrow());
    }

    @Test
    void concurrentWritersLeaveConsistentState() throws Exception {
        ManifestRecord a = manifest("{\"c\":1}", Optional.empty(), null);
        ManifestRecord b = manifest("{\"c\":2}", Optional.empty(), null);
        store.inTransaction(tx -> {
            tx.repositories().ensure(REPO);
            tx.manifests().put(a, new ManifestReferences(Set.of(), Set.of()));
            tx.manifests().put(b, new ManifestReferences(Set.of(), Set.of()));
            return null;
        });
        ExecutorService pool = Executors.newFixedThreadPool(8);
        List<Future<?>> futures = new ArrayList<>();
        for (int i = 0; i < 64; i++) {
            ManifestRecord m = i % 2 == 0 ? a : b;
            futures.add(pool.submit(() -> store.inTransaction(tx -> tx.tags().set(REPO, "hot", m.digest(), ORIGIN))));
        }
        for (Future<?> f : futures) {
            f.get();
        }
        pool.shutdown();
        List<TagChange> h = store.tags().history(REPO, "hot");
        // versions are dense 1..n and each entry's previous is the prior entry's target
        for (int i = 0; i < h.size(); i++) {
            assertEquals(i + 1, h.get(i).version());
            if (i > 0) {
                assertEquals(h.get(i - 1).digest(), h.get(i).previous());
            }
        }
        assertEquals(
                h.get(h.size() - 1).digest().orElseThrow(),
                store.tags().target(REPO, "hot").orElseThrow());
    }

    @Test
    void robotAccountsAreStoredByNameOnceAndDeleted() {
        RobotRecord ci = new RobotRecord(
                "ci", "ab".repeat(32), List.of("team-a/**", "shared/*"), List.of("pull", "push"), "CI", 1234L, "root");
        Assertions.assertTrue((boolean) store.inTransaction(tx -> tx.robots().insert(ci)));
        Assertions.assertFalse((boolean) store.inTransaction(tx -> tx.robots().insert(ci)), "names are unique");
        Assertions.assertEquals(Optional.of(ci), store.robots().get("ci"));
        Assertions.assertEquals(List.of(ci), store.robots().all());
        Assertions.assertTrue(store.robots().get("other").isEmpty());
        Assertions.assertTrue((boolean) store.inTransaction(tx -> tx.robots().delete("ci")));
        Assertions.assertFalse((boolean) store.inTransaction(tx -> tx.robots().delete("ci")));
        Assertions.assertEquals(List.of(), store.robots().all());
    }

    @Test
    void aCachedRepositoryRecordsItsUpstreamOnceAndItsTagsValidationTimes() {
        RepositoryName cached = RepositoryName.of("hub/library/busybox");
        RepositoryName remote = RepositoryName.of("library/busybox");
        assertTrue(store.proxy().repository(cached).isEmpty());
        store.inTransaction(tx -> {
            tx.repositories().ensure(cached);
            tx.proxy().ensureRepository(cached, "hub", remote);
            tx.proxy().ensureRepository(cached, "other", RepositoryName.of("x/y"));
            tx.proxy().validated(cached, "latest", 1000);
            return null;
        });
        CachedRepository row = store.proxy().repository(cached).orElseThrow();
        assertEquals(cached, row.repository());
        assertEquals("hub", row.upstream(), "the first upstream stays");
        assertEquals(remote, row.remote());
        assertEquals(List.of(row), store.proxy().repositories("", 10));
        assertEquals(List.of(), store.proxy().repositories(cached.value(), 10));
        assertEquals(1000, store.proxy().validatedAt(cached, "latest").orElseThrow());
        assertTrue(store.proxy().validatedAt(cached, "other").isEmpty());
        assertTrue(store.proxy().validatedAt(REPO, "latest").isEmpty());
        store.inTransaction(tx -> {
            tx.proxy().validated(cached, "latest", 2500);
            return null;
        });
        assertEquals(2500, store.proxy().validatedAt(cached, "latest").orElseThrow(), "a later validation replaces");
        assertTrue((boolean) store.inTransaction(tx -> tx.proxy().forgetTag(cached, "latest")));
        assertFalse((boolean) store.inTransaction(tx -> tx.proxy().forgetTag(cached, "latest")));
        assertTrue(store.proxy().validatedAt(cached, "latest").isEmpty());
    }

    @Test
    void cachedReferrersKeepTheirExactBytesFilterAndValidationTime() {
        RepositoryName cached = RepositoryName.of("hub/library/signed");
        Digest subject = Digest.compute(DigestAlgorithm.SHA256, "subject".getBytes(StandardCharsets.UTF_8));
        byte[] all = "{\"schemaVersion\":2,  \"manifests\":[]}".getBytes(StandardCharsets.UTF_8);
        byte[] signatures = "{\"schemaVersion\":2,\"manifests\":[ ]}".getBytes(StandardCharsets.UTF_8);
        assertTrue(store.proxy().referrers(cached, subject, "").isEmpty());
        store.inTransaction(tx -> {
            tx.repositories().ensure(cached);
            tx.proxy().putReferrers(cached, subject, "", new CachedReferrers(all, false, 1000));
            tx.proxy().putReferrers(cached, subject, "application/x-sig", new CachedReferrers(signatures, true, 1200));
            return null;
        });
        CachedReferrers unfiltered =
                store.proxy().referrers(cached, subject, "").orElseThrow();
        assertArrayEquals(all, unfiltered.index(), "exact bytes, whitespace included");
        assertFalse(unfiltered.filtered());
        assertEquals(1000, unfiltered.validatedAt());
        CachedReferrers filtered =
                store.proxy().referrers(cached, subject, "application/x-sig").orElseThrow();
        assertArrayEquals(signatures, filtered.index());
        assertTrue(filtered.filtered());
        assertTrue(store.proxy().referrers(cached, subject, "application/other").isEmpty());
        assertTrue(store.proxy().referrers(REPO, subject, "").isEmpty());
        store.inTransaction(tx -> {
            tx.proxy().putReferrers(cached, subject, "", new CachedReferrers(signatures, false, 2500));
            return null;
        });
        assertArrayEquals(
                signatures,
                store.proxy().referrers(cached, subject, "").orElseThrow().index());
        assertEquals(
                2500, store.proxy().referrers(cached, subject, "").orElseThrow().validatedAt(), "replaced");
        assertTrue((boolean) store.inTransaction(tx -> tx.repositories().delete(cached, ORIGIN)));
        assertTrue(store.proxy().referrers(cached, subject, "").isEmpty(), "deleted with the repository");
    }

    @Test
    void deletingARepositoryDeletesItsCacheRows() {
        RepositoryName cached = RepositoryName.of("hub/library/alpine");
        store.inTransaction(tx -> {
            tx.repositories().ensure(cached);
            tx.proxy().ensureRepository(cached, "hub", RepositoryName.of("library/alpine"));
            tx.proxy().validated(cached, "3", 1000);
            return null;
        });
        assertTrue((boolean) store.inTransaction(tx -> tx.repositories().delete(cached, ORIGIN)));
        assertTrue(store.proxy().repository(cached).isEmpty());
        assertTrue(store.proxy().validatedAt(cached, "3").isEmpty());
    }

    @Test
    void reopeningKeepsDataAndDoesNotReapplyMigrations() {
        store.inTransaction(tx -> {
            tx.repositories().ensure(REPO);
            return null;
        });
        store.close();
        store = newStore(dir);
        Assertions.assertTrue(store.repositories().exists(REPO));
    }

    @Test
    void deferredCommitsAreVisibleAtOnceKeptInOrderAndAcrossReopening() {
        UploadId first = UploadId.random();
        store.inTransaction(MetadataStore.Durability.DEFERRED, tx -> {
            tx.uploads().create(new UploadSession(first, REPO, 0, 1, 1, "10.0.0.1"));
            return null;
        });
        Assertions.assertTrue(store.uploads().exists(first), "visible to reads at once");
        Assertions.assertTrue(
                (boolean) store.inTransaction(
                        MetadataStore.Durability.DURABLE, tx -> tx.uploads().advance(first, 0, 5)),
                "a durable change on top of the deferred one");
        store.close();
        store = newStore(dir);
        Assertions.assertEquals(5, store.uploads().get(first).orElseThrow().size());
    }

    /**
     * Reads outside transactions run in autocommit, each statement on committed state as it is then:
     * a pooled connection that kept a transaction (and its snapshot) open between reads would answer
     * with what was committed when it was first used.
     */
    @Test
    void readsOutsideTransactionsSeeEachCommitAtOnce() {
        for (int i = 1; i <= 20; i++) {
            RepositoryName repository = RepositoryName.of("team/app-" + i);
            store.inTransaction(tx -> {
                tx.repositories().ensure(repository);
                return null;
            });
            assertEquals(i, store.repositories().count());
            assertTrue(store.repositories().exists(repository));
        }
    }
}
