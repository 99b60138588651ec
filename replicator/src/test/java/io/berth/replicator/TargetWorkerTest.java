package io.berth.replicator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.berth.core.model.Digest;
import io.berth.core.model.RepositoryName;
import io.berth.core.testing.Images;
import io.berth.events.DistributionEvent;
import io.berth.events.RegistryEvent;
import io.berth.http.TestRegistry;
import io.berth.oci.OciClient;
import io.berth.oci.OciEndpoint;
import io.berth.oci.Reachability;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A target's worker between two real registries (the real HTTP server in this JVM), without Kafka. */
class TargetWorkerTest {
    static final RepositoryName APP = RepositoryName.of("team-a/app");

    @TempDir
    Path dir;

    TestRegistry source;
    TestRegistry target;
    Images images;
    TargetWorker worker;

    @BeforeEach
    void open() throws IOException {
        source = new TestRegistry(dir.resolve("a"));
        target = new TestRegistry(dir.resolve("b"));
        images = new Images(source.registry);
        ReplicationConfig.Target t = CopierTest.config("", true, List.of(), null);
        Copier copier = new Copier(CopierTest.client(source.uri("/")), CopierTest.client(target.uri("/")), t, null);
        ReplicationConfig config = new ReplicationConfig(
                new OciEndpoint(URI.create("http://x"), "", "", Optional.empty(), false),
                Optional.empty(),
                "berth.events",
                "g",
                Duration.ofHours(1),
                "127.0.0.1",
                0,
                List.of(t));
        worker = new TargetWorker(copier, config, null, CircuitBreaker.ofDefaults("t"), new Reachability("target b"));
    }

    @AfterEach
    void close() {
        worker.close();
        source.close();
        target.close();
    }

    static RegistryEvent tagCreated(String repository, String tag) {
        return new RegistryEvent(
                "1.0",
                "id",
                "//t",
                "io.berth.tag.created",
                "2026-01-01T00:00:00Z",
                repository + ":" + tag,
                "application/json",
                "1",
                repository,
                new DistributionEvent(
                        "id",
                        "2026-01-01T00:00:00Z",
                        "push",
                        new DistributionEvent.Target(null, null, null, null, repository, null, tag, null),
                        null,
                        null,
                        null));
    }

    @Test
    void aParkedEventIsRetriedInItsRepositorysQueueNeverBesideAnotherChangeOfIt() throws Exception {
        Digest v1 = images.image(APP, "v1", "one");
        CountDownLatch busy = new CountDownLatch(1);
        CountDownLatch running = new CountDownLatch(1);
        // a change of the repository in progress (an event being applied, a reconciliation)
        worker.inOrder(APP.value(), () -> {
            running.countDown();
            try {
                busy.await(30, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        assertTrue(running.await(10, TimeUnit.SECONDS));
        CompletableFuture<Boolean> retried =
                CompletableFuture.supplyAsync(() -> worker.retryInOrder(tagCreated(APP.value(), "v1")));
        Thread.sleep(1000);
        assertTrue(
                target.registry.metadata().tags().target(APP, "v1").isEmpty(),
                "the parked event waits for the change in progress: side by side, it could read the source's "
                        + "older state and write it after the newer one");
        busy.countDown();
        assertTrue(retried.get(30, TimeUnit.SECONDS));
        assertEquals(Optional.of(v1), target.registry.metadata().tags().target(APP, "v1"));
    }

    @Test
    void inSyncAsSoonAsAReconciliationCopiedWhatDifferedAndNothingWaits() {
        images.image(APP, "v1", "one");
        images.image(APP, "v2", "two");
        assertEquals("syncing", worker.state(), "before any reconciliation");
        TargetWorker.Reconciliation r = worker.reconcile();
        assertEquals(2, r.differences());
        assertEquals(2, r.copied());
        assertEquals("in-sync", worker.state(), "everything it found it copied: in sync now, not at the next one");
        assertEquals(0.0, worker.lagSeconds());
    }

    @Test
    void anUnreachableTargetIsUnreachableWhateverItsCircuitUntilItAnswers() throws IOException {
        images.image(APP, "v1", "one");
        int closed;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            closed = s.getLocalPort();
        }
        Reachability reachability = new Reachability("target b");
        ReplicationConfig.Target t = CopierTest.config("", true, List.of(), null);
        OciClient dead = new OciClient(
                URI.create("http://127.0.0.1:" + closed + "/"), "", "", null, Duration.ofSeconds(5), reachability);
        CircuitBreaker breaker = CircuitBreaker.ofDefaults("dead");
        try (TargetWorker w = new TargetWorker(
                new Copier(CopierTest.client(source.uri("/")), dead, t, null),
                new ReplicationConfig(
                        new OciEndpoint(URI.create("http://x"), "", "", Optional.empty(), false),
                        Optional.empty(),
                        "berth.events",
                        "g",
                        Duration.ofHours(1),
                        "127.0.0.1",
                        0,
                        List.of(t)),
                null,
                breaker,
                reachability)) {
            TargetWorker.Reconciliation r = w.reconcile();
            assertTrue(
                    r.errors().getFirst().endsWith("/v2/team-a/app/tags/list?n=1000: connection refused"),
                    r.errors().toString());
            breaker.transitionToOpenState();
            breaker.transitionToHalfOpenState(); // one call let through: it is not back for that
            assertEquals("unreachable", w.state());
        }
    }
}
