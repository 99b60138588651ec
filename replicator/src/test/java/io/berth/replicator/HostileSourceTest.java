package io.berth.replicator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.berth.core.model.Digest;
import io.berth.core.model.RepositoryGlob;
import io.berth.core.model.RepositoryName;
import io.berth.core.model.Tag;
import io.berth.core.testing.Images;
import io.berth.events.DistributionEvent;
import io.berth.events.RegistryEvent;
import io.berth.http.TestRegistry;
import io.berth.oci.OciClient;
import io.berth.oci.OciEndpoint;
import io.berth.oci.Reachability;
import io.berth.testsupport.HostileRegistry;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 30, points 1 and 2: a source that fails or lies never wipes a target, and names from it or
 * from events never leave the repositories given. Each test first replicates 11 tags honestly (two
 * repositories), then reconciles or applies events against a hostile source with {@code deletes:
 * true}, and checks that every tag is still on the target. Real registries (the real HTTP server in
 * this JVM) on both sides; {@link HostileRegistry} plays the misbehaving remote.
 */
class HostileSourceTest {
    static final RepositoryName APP = RepositoryName.of("team-a/app");
    static final RepositoryName OTHER = RepositoryName.of("team-a/other");
    static final RepositoryName LOCAL = RepositoryName.of("local/app");

    @TempDir
    Path dir;

    TestRegistry source;
    TestRegistry target;
    Images images;
    /** What the target holds after the honest replication: repository:tag to digest. */
    Map<String, Digest> replicated;

    @BeforeEach
    void open() throws IOException {
        source = new TestRegistry(dir.resolve("a"));
        target = new TestRegistry(dir.resolve("b"));
        images = new Images(source.registry);
        for (int i = 1; i <= 6; i++) {
            images.image(APP, "v" + i, "app-" + i);
        }
        for (int i = 1; i <= 5; i++) {
            images.image(OTHER, "v" + i, "other-" + i);
        }
    }

    @AfterEach
    void close() {
        source.close();
        target.close();
    }

    /** With deletes; {@code prefix} on the target; only {@code team-a/**} when {@code onlyTeamA}. */
    static ReplicationConfig.Target config(String prefix, boolean onlyTeamA) {
        return new ReplicationConfig.Target(
                "b",
                new OciEndpoint(URI.create("http://x"), "", "", Optional.empty(), false),
                onlyTeamA ? List.of(RepositoryGlob.of("team-a/**")) : List.of(),
                List.of(),
                Optional.empty(),
                List.of(),
                prefix,
                true,
                2,
                0);
    }

    TargetWorker worker(URI from, ReplicationConfig.Target t) {
        Copier copier = new Copier(
                new OciClient(from, "", "", null, Duration.ofSeconds(10)),
                new OciClient(target.uri("/"), "", "", null, Duration.ofSeconds(10)),
                t,
                null);
        ReplicationConfig config = new ReplicationConfig(
                new OciEndpoint(from, "", "", Optional.empty(), false),
                Optional.empty(),
                "berth.events",
                "g",
                Duration.ofHours(1),
                "127.0.0.1",
                0,
                List.of(t));
        return new TargetWorker(copier, config, null, CircuitBreaker.ofDefaults("t"), new Reachability("target b"));
    }

    /** Replicates everything honestly; returns what the target then holds. */
    Map<String, Digest> replicate(ReplicationConfig.Target t) {
        try (TargetWorker honest = worker(source.uri("/"), t)) {
            TargetWorker.Reconciliation r = honest.reconcile();
            assertTrue(r.errors().isEmpty(), r.errors().toString());
        }
        replicated = onTarget(t.prefix());
        assertEquals(11, replicated.size(), replicated.toString());
        return replicated;
    }

    Map<String, Digest> onTarget(String prefix) {
        Map<String, Digest> out = new LinkedHashMap<>();
        for (RepositoryName repo : List.of(APP, OTHER)) {
            RepositoryName dst = RepositoryName.of(prefix + repo.value());
            for (int i = 1; i <= 6; i++) {
                target.registry.metadata().tags().target(dst, "v" + i).ifPresent(d -> out.put(dst + ":" + d, d));
            }
        }
        return out;
    }

    /** Reconciles against {@code from}; prints how long it took to fail and the heap in use. */
    TargetWorker.Reconciliation reconcileAgainst(String what, URI from, ReplicationConfig.Target t) {
        try (TargetWorker w = worker(from, t)) {
            long start = System.nanoTime();
            TargetWorker.Reconciliation r = w.reconcile();
            System.out.printf(
                    "[hostile source] %s: reconciliation over in %d ms, heap in use %d MiB, state %s, "
                            + "errors %s, status held %s%n",
                    what,
                    (System.nanoTime() - start) / 1_000_000,
                    (Runtime.getRuntime().totalMemory() - Runtime.getRuntime().freeMemory()) >> 20,
                    w.state(),
                    r.errors(),
                    w.status().get("held"));
            lastStatus = w.status();
            return r;
        }
    }

    Map<String, Object> lastStatus;

    @Test
    @Timeout(60) // a guard against the hang this test is about, not a measure
    void aBlobAnswerThatStopsAfterItsStatusFailsAtTheDeadline() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        try (HostileRegistry mute = new HostileRegistry(source.uri("/"))) {
            // a status and a length, then nothing: the error body was read without a deadline, for good
            mute.rule(x -> {
                if (x.getRequestURI().getPath().contains("/blobs/")) {
                    x.sendResponseHeaders(500, 4096);
                    x.getResponseBody().flush();
                    try {
                        release.await(100, TimeUnit.SECONDS);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                    x.close();
                    return true;
                }
                return false;
            });
            OciClient c = new OciClient(mute.uri(), "", "", null, Duration.ofSeconds(2));
            long start = System.nanoTime();
            IOException e = Assertions.assertThrows(
                    IOException.class, () -> c.openBlob(APP, Digest.parse("sha256:" + "a".repeat(64)), 0, 10));
            System.out.printf(
                    "a blob answer stopped after its status: failed after %.1f s: %s%n",
                    (System.nanoTime() - start) / 1e9, e.getMessage());
        } finally {
            release.countDown();
        }
    }

    @Test
    void aSourceWhoseEveryPathAnswers404DeletesNothing() throws IOException {
        ReplicationConfig.Target t = config("", false);
        replicate(t);
        try (HostileRegistry proxyDefaultBackend = new HostileRegistry(null)) {
            TargetWorker.Reconciliation r = reconcileAgainst("every path 404", proxyDefaultBackend.uri(), t);
            assertFalse(r.errors().isEmpty(), "an unanswered catalog is an error, not an empty list");
            assertEquals(0, r.deleted());
        }
        assertEquals(replicated, onTarget(""), "every tag is still on the target");
    }

    @Test
    void aFreshEmptyBerthAtTheSourcesAddressDeletesNothingAndHoldsTheDeletes() throws IOException {
        ReplicationConfig.Target t = config("", false);
        replicate(t);
        try (TestRegistry empty = new TestRegistry(dir.resolve("empty"))) {
            TargetWorker.Reconciliation r = reconcileAgainst("fresh empty berth serve", empty.uri("/"), t);
            assertEquals(0, r.deleted());
            assertTrue(String.valueOf(lastStatus.get("held")).contains("would delete 11 tags"), lastStatus.toString());
            assertEquals("held", lastStatus.get("state"));
        }
        assertEquals(replicated, onTarget(""));
    }

    @Test
    void catalogAndTagListsAnswering404WhileManifestsAnswerDeleteNothing() throws IOException {
        ReplicationConfig.Target t = config("", false);
        replicate(t);
        try (HostileRegistry half = new HostileRegistry(source.uri("/"))) {
            half.rule(x -> {
                String p = x.getRequestURI().getPath();
                if (p.equals("/v2/_catalog") || p.endsWith("/tags/list")) {
                    HostileRegistry.answer(
                            x,
                            404,
                            "application/json",
                            "{\"errors\":[{\"code\":\"NAME_UNKNOWN\"}]}".getBytes(StandardCharsets.UTF_8));
                    return true;
                }
                return false;
            });
            TargetWorker.Reconciliation r = reconcileAgainst("catalog and tags 404, manifests answer", half.uri(), t);
            assertEquals(0, r.deleted());
            // and the events of a delete, replayed or forged, find no evidence either
            try (TargetWorker w = worker(half.uri(), t)) {
                try {
                    w.apply(event("io.berth.repository.deleted", APP.value(), null, null));
                } catch (IOException e) {
                    // no catalog: an error, never a delete
                }
                w.apply(event(
                        "io.berth.manifest.deleted",
                        APP.value(),
                        null,
                        replicated.values().iterator().next().toString()));
            }
        }
        assertEquals(replicated, onTarget(""));
    }

    @Test
    void onlyHeadAnswering404DeletesNoTag() throws IOException {
        ReplicationConfig.Target t = config("", false);
        replicate(t);
        try (HostileRegistry noHead = new HostileRegistry(source.uri("/"))) {
            noHead.rule(x -> {
                if (x.getRequestMethod().equals("HEAD")) {
                    HostileRegistry.answer(x, 404, null, new byte[0]);
                    return true;
                }
                return false;
            });
            TargetWorker.Reconciliation r = reconcileAgainst("only HEAD 404", noHead.uri(), t);
            assertEquals(0, r.deleted());
            assertFalse(r.errors().isEmpty(), "a tag listed but not found is an error to report");
            try (TargetWorker w = worker(noHead.uri(), t)) {
                w.apply(event("io.berth.tag.deleted", APP.value(), "v1", null));
            } catch (IOException e) {
                // the source contradicts itself: an error, never a delete
            }
        }
        assertEquals(replicated, onTarget(""));
    }

    @Test
    void aSourceRestoredFromAnOldBackupWithFewerTagsHoldsItsDeletesForAnOperator() throws IOException {
        ReplicationConfig.Target t = config("", false);
        replicate(t);
        try (TestRegistry backup = new TestRegistry(dir.resolve("backup"))) {
            Images old = new Images(backup.registry);
            for (int i = 1; i <= 3; i++) {
                old.image(APP, "v" + i, "app-" + i);
                old.image(OTHER, "v" + i, "other-" + i);
            }
            TargetWorker.Reconciliation r =
                    reconcileAgainst("restored from an old backup (6 of 11 tags)", backup.uri("/"), t);
            assertEquals(0, r.deleted(), "5 of 11 tags is beyond the default budget of 10%");
            assertTrue(
                    String.valueOf(lastStatus.get("held")).startsWith("would delete 5 of the target's 11 tags"),
                    lastStatus.toString());
            assertEquals(replicated, onTarget(""), "held: the target keeps everything");
            // the operator says otherwise: the next pass deletes, each delete on the source's evidence
            try (TargetWorker w = worker(backup.uri("/"), t)) {
                w.approveDeletes();
                TargetWorker.Reconciliation approved = w.reconcile();
                assertEquals(5, approved.deleted(), approved.toString());
                assertEquals(null, w.held());
            }
            assertEquals(6, onTarget("").size());
        }
    }

    @Test
    void deletesWithinTheBudgetAreMadeOneByOne() throws IOException {
        ReplicationConfig.Target t = config("", false);
        replicate(t);
        source.registry.manifests().delete(APP, new Tag("v6"));
        try (TargetWorker w = worker(source.uri("/"), t)) {
            List<String> deleted = new CopyOnWriteArrayList<>();
            w.copier().onDelete((what, why) -> deleted.add(what));
            TargetWorker.Reconciliation r = w.reconcile();
            assertEquals(1, r.deleted(), "1 of 11 tags is within the budget of 10% (at least one)");
            assertEquals(List.of("team-a/app:v6"), deleted, "each delete reported");
            assertEquals(null, w.held());
        }
        assertEquals(10, onTarget("").size());
    }

    @Test
    void namesWithDotsFromTheSourcesCatalogNeverLeaveThePrefix() throws IOException {
        ReplicationConfig.Target t = config("mirror/", true);
        replicate(t);
        Digest local = new Images(target.registry).image(LOCAL, "keep", "only-on-the-target");
        try (HostileRegistry dots = new HostileRegistry(source.uri("/"))) {
            dots.rule(x -> {
                String p = x.getRequestURI().getPath();
                if (p.equals("/v2/_catalog")) {
                    HostileRegistry.answer(
                            x,
                            200,
                            "application/json",
                            ("{\"repositories\":[\"team-a/app\",\"team-a/other\","
                                            + "\"team-a/../../local/app\",\"team-a/../../evil/app\"]}")
                                    .getBytes(StandardCharsets.UTF_8));
                    return true;
                }
                return false;
            });
            // what a collapsed URL reaches (/local/app/…, /evil/app/…): the source's team-a/app
            dots.rules.add(0, x -> {
                String p = x.getRequestURI().getPath();
                String q = x.getRequestURI().getRawQuery();
                if (p.startsWith("/evil/app/") || p.startsWith("/local/app/")) {
                    String to = "/v2/team-a/app/" + p.substring(p.indexOf("/app/") + 5) + (q == null ? "" : "?" + q);
                    HostileRegistry.answer(x, 307, null, new byte[0], "Location", to);
                    return true;
                }
                return false;
            });
            TargetWorker.Reconciliation r = reconcileAgainst("catalog names with ..", dots.uri(), t);
            assertTrue(
                    r.errors().stream().anyMatch(e -> e.contains("team-a/../../local/app")),
                    r.errors().toString());
        }
        assertEquals(
                Optional.of(local),
                target.registry.metadata().tags().target(LOCAL, "keep"),
                "a repository only on the target, outside the prefix, is untouched");
        assertTrue(
                target.registry
                        .metadata()
                        .tags()
                        .target(RepositoryName.of("evil/app"), "v1")
                        .isEmpty(),
                "nothing is created outside the prefix");
        assertEquals(replicated, onTarget("mirror/"));
    }

    @Test
    void forgedEventsOnlyTriggerARecheckAgainstTheSource() throws IOException {
        ReplicationConfig.Target t = config("mirror/", true);
        replicate(t);
        Digest local = new Images(target.registry).image(LOCAL, "keep", "only-on-the-target");
        images.image(RepositoryName.of("team-b/secret"), "v1", "filtered-out");
        try (TargetWorker w = worker(source.uri("/"), t)) {
            // a name that escapes the prefix and the repositories given
            w.apply(event("io.berth.repository.deleted", "team-a/../../local/app", null, null));
            w.submit(event("io.berth.tag.created", "team-a/../team-b/secret", "v1", null), () -> {});
            // deletes the source does not confirm
            w.apply(event("io.berth.tag.deleted", APP.value(), "v1", null));
            w.apply(event("io.berth.repository.deleted", OTHER.value(), null, null));
            w.apply(event(
                    "io.berth.manifest.deleted",
                    APP.value(),
                    null,
                    replicated.values().iterator().next().toString()));
            Thread.sleep(500); // the submitted one runs in its queue
        } catch (IOException | RuntimeException e) {
            // refusing is fine; deleting or copying is not
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        assertEquals(Optional.of(local), target.registry.metadata().tags().target(LOCAL, "keep"));
        assertTrue(
                target.registry
                        .metadata()
                        .tags()
                        .target(RepositoryName.of("mirror/team-b/secret"), "v1")
                        .isEmpty(),
                "a filtered-out repository is not copied");
        assertEquals(replicated, onTarget("mirror/"));
    }

    static RegistryEvent event(String type, String repository, String tag, String digest) {
        return new RegistryEvent(
                "1.0",
                "forged",
                "//t",
                type,
                "2026-01-01T00:00:00Z",
                repository + (tag == null ? "" : ":" + tag),
                "application/json",
                "1",
                repository,
                new DistributionEvent(
                        "forged",
                        "2026-01-01T00:00:00Z",
                        type.endsWith("deleted") ? "delete" : "push",
                        new DistributionEvent.Target(null, digest, null, null, repository, null, tag, null),
                        null,
                        null,
                        null));
    }
}
