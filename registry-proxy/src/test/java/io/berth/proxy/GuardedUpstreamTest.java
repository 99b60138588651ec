package io.berth.proxy;

import static io.berth.proxy.Hub.repo;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.berth.core.model.Digest;
import io.berth.core.model.Tag;
import io.berth.core.proxy.Upstream;
import io.berth.core.proxy.UpstreamBlob;
import io.berth.core.proxy.UpstreamException;
import io.berth.core.proxy.UpstreamException.Kind;
import io.berth.core.proxy.UpstreamStatus;
import io.berth.oci.OciClient;
import io.berth.oci.OciEndpoint;
import io.berth.oci.Reachability;
import io.berth.testsupport.HostileRegistry;
import io.berth.testsupport.MutableClock;
import io.berth.testsupport.TcpForwarder;
import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The guards with real faults: a cut link, a 429, a full bulkhead; and no password anywhere. */
class GuardedUpstreamTest {
    static final Tag LATEST = new Tag("latest");

    @TempDir
    Path dir;

    Hub hub;
    HostileRegistry front;
    MutableClock clock = new MutableClock();

    @BeforeEach
    void start() throws Exception {
        hub = new Hub(dir.resolve("hub"));
        hub.images.image(repo("library/busybox"), "latest", "busybox");
        front = new HostileRegistry(hub.uri());
    }

    @AfterEach
    void stop() {
        front.close();
        hub.close();
    }

    GuardedUpstream guarded(URI url, String user, String password, int maxConcurrent) {
        return new GuardedUpstream(
                Hub.upstream(url, user, password),
                new GuardedUpstream.Guards(0, maxConcurrent, 3, Duration.ofSeconds(30), Duration.ofMillis(300)),
                clock,
                GuardedUpstream.Registries.create());
    }

    @Test
    void aCutLinkIsUnreachableThenTheCircuitOpensAndNoConnectionIsMade() throws Exception {
        try (TcpForwarder link = new TcpForwarder(front.port())) {
            GuardedUpstream up = guarded(URI.create("http://127.0.0.1:" + link.port() + "/"), "", "", 4);
            assertTrue(up.manifest(repo("library/busybox"), LATEST, 1 << 20).isPresent());
            link.cut();
            for (int i = 0; i < 3; i++) {
                UpstreamException e =
                        assertThrows(UpstreamException.class, () -> up.manifestDigest(repo("library/busybox"), LATEST));
                assertEquals(Kind.UNREACHABLE, e.kind(), e.getMessage());
            }
            UpstreamStatus failing = up.status();
            assertEquals(UpstreamStatus.State.CIRCUIT_OPEN, failing.state());
            assertTrue(
                    failing.failingSince().isPresent() && failing.lastFailure().isPresent(), failing.toString());
            assertEquals(3, failing.failures());

            link.restore(); // the upstream is back, but the breaker holds calls off for its open time
            int seen = front.seen.size();
            UpstreamException open =
                    assertThrows(UpstreamException.class, () -> up.manifest(repo("library/busybox"), LATEST, 1 << 20));
            assertEquals(Kind.CIRCUIT_OPEN, open.kind());
            Duration retry = open.retryAfter().orElseThrow();
            assertTrue(retry.compareTo(Duration.ofSeconds(1)) >= 0 && retry.compareTo(Duration.ofSeconds(30)) <= 0);
            assertEquals(seen, front.seen.size(), "no request reached the upstream");
        }
    }

    @Test
    void a429HoldsCallsOffUntilItsRetryAfterHasPassed() throws Exception {
        HostileRegistry.Rule slowDown = x -> {
            if (x.getRequestURI().getPath().contains("/manifests/")) {
                HostileRegistry.answer(x, 429, "text/plain", new byte[0], "Retry-After", "2");
                return true;
            }
            return false;
        };
        front.rule(slowDown);
        GuardedUpstream up = guarded(front.uri(), "", "", 4);
        UpstreamException first =
                assertThrows(UpstreamException.class, () -> up.manifestDigest(repo("library/busybox"), LATEST));
        assertEquals(Kind.THROTTLED, first.kind());
        assertEquals(Optional.of(Duration.ofSeconds(2)), first.retryAfter());
        int seen = front.seen("/v2/library/busybox/manifests/").size();
        front.rules.remove(slowDown);
        UpstreamException held =
                assertThrows(UpstreamException.class, () -> up.manifestDigest(repo("library/busybox"), LATEST));
        assertEquals(Kind.THROTTLED, held.kind());
        assertEquals(seen, front.seen("/v2/library/busybox/manifests/").size(), "held off: no request");
        clock.advance(Duration.ofSeconds(3));
        assertTrue(up.manifestDigest(repo("library/busybox"), LATEST).isPresent());
        assertEquals(UpstreamStatus.State.UP, up.status().state(), "a 429 is an answer, not an outage");
    }

    @Test
    void aFullBulkheadIsUnavailableAndABlobBodyHoldsItsPermitUntilClosed() throws Exception {
        Digest layer = hub.images
                .blob(repo("library/busybox"), "a layer".getBytes(StandardCharsets.UTF_8))
                .digest();
        GuardedUpstream up = guarded(front.uri(), "", "", 1);
        UpstreamBlob open = up.blob(repo("library/busybox"), layer).orElseThrow();
        UpstreamException full =
                assertThrows(UpstreamException.class, () -> up.manifestDigest(repo("library/busybox"), LATEST));
        assertEquals(Kind.UNAVAILABLE, full.kind(), full.getMessage());
        assertTrue(full.getMessage().contains("max-concurrent"), full.getMessage());
        open.close();
        assertTrue(up.manifestDigest(repo("library/busybox"), LATEST).isPresent());
        assertEquals(UpstreamStatus.State.UP, up.status().state(), "a full bulkhead is no outage of the upstream");
    }

    @Test
    void blobBodiesThatBreakAfterTheHeadersOpenTheCircuit() throws Exception {
        Digest layer = hub.images
                .blob(repo("library/busybox"), "a layer".getBytes(StandardCharsets.UTF_8))
                .digest();
        front.rule(x -> {
            if (x.getRequestMethod().equals("GET")
                    && x.getRequestURI().getPath().contains("/blobs/")) {
                x.sendResponseHeaders(200, 1000); // announces 1000 bytes, sends 10, then the link breaks
                x.getResponseBody().write(new byte[10]);
                x.getResponseBody().flush();
                x.close();
                return true;
            }
            return false;
        });
        GuardedUpstream up = guarded(front.uri(), "", "", 4);
        for (int i = 0; i < 3; i++) {
            try (UpstreamBlob b = up.blob(repo("library/busybox"), layer).orElseThrow()) {
                assertThrows(IOException.class, () -> b.body().readAllBytes());
            }
        }
        UpstreamStatus status = up.status();
        assertEquals(UpstreamStatus.State.CIRCUIT_OPEN, status.state(), status.toString());
        assertEquals(3, status.failures());
        assertTrue(status.lastFailure().orElseThrow().contains("stopped sending"), status.toString());
        UpstreamException open =
                assertThrows(UpstreamException.class, () -> up.manifestDigest(repo("library/busybox"), LATEST));
        assertEquals(Kind.CIRCUIT_OPEN, open.kind());
    }

    @Test
    void aBlobBodyReadToItsEndOrClosedEarlyIsNoFailure() throws Exception {
        Digest layer = hub.images
                .blob(repo("library/busybox"), "a layer".getBytes(StandardCharsets.UTF_8))
                .digest();
        GuardedUpstream up = guarded(front.uri(), "", "", 1);
        for (int i = 0; i < 3; i++) {
            try (UpstreamBlob b = up.blob(repo("library/busybox"), layer).orElseThrow()) {
                assertEquals(7, b.body().readAllBytes().length);
            }
            try (UpstreamBlob b = up.blob(repo("library/busybox"), layer).orElseThrow()) {
                assertEquals(1, b.body().readNBytes(1).length); // the cache stops reading: no outage
            }
        }
        assertEquals(UpstreamStatus.State.UP, up.status().state());
        assertEquals(0, up.status().failures());
        assertTrue(up.manifestDigest(repo("library/busybox"), LATEST).isPresent(), "the permit was given back");
    }

    @Test
    void noPasswordInAnyExceptionMessageOrLogLine() throws Exception {
        String password = "pw-" + "x".repeat(8) + "-never-shown";
        List<String> lines = new CopyOnWriteArrayList<>();
        Handler capture = new Handler() {
            @Override
            public void publish(LogRecord r) {
                lines.add(r.getMessage() + " " + r.getThrown());
            }

            @Override
            public void flush() {}

            @Override
            public void close() {}
        };
        Logger root = Logger.getLogger("");
        Level before = root.getLevel();
        root.addHandler(capture);
        root.setLevel(Level.ALL);
        List<Throwable> thrown = new CopyOnWriteArrayList<>();
        try (TcpForwarder link = new TcpForwarder(front.port())) {
            URI url = URI.create("http://127.0.0.1:" + link.port() + "/");
            OciClient client = new OciClient(
                    new OciEndpoint(url, "alice", password, Optional.empty(), false),
                    Duration.ofSeconds(5),
                    new Reachability("upstream hub (" + url + ")"),
                    OciClient.DEFAULT_MAX_MANIFEST,
                    OciClient.Access.PULL,
                    "berth-proxy-test");
            Upstream up = new GuardedUpstream(
                    new OciUpstream("hub", url + " (mirror)", Hub.POLICY, client, OciClient.DEFAULT_MAX_MANIFEST),
                    new GuardedUpstream.Guards(0, 4, 3, Duration.ofSeconds(30), Duration.ofMillis(300)),
                    clock,
                    GuardedUpstream.Registries.create());
            thrown.add(assertThrows(UpstreamException.class, () -> up.manifest(repo("private/app"), LATEST, 1 << 20)));
            link.cut();
            for (int i = 0; i < 4; i++) {
                thrown.add(assertThrows(
                        UpstreamException.class, () -> up.manifestDigest(repo("library/busybox"), LATEST)));
            }
            assertEquals(Kind.REFUSED, ((UpstreamException) thrown.get(0)).kind());
            assertEquals(Kind.CIRCUIT_OPEN, ((UpstreamException) thrown.get(4)).kind());
            thrown.add(new IllegalStateException(up.status().toString()));
        } finally {
            root.removeHandler(capture);
            root.setLevel(before);
        }
        assertTrue(lines.stream().anyMatch(l -> l.contains("unreachable")), lines::toString);
        for (Throwable t : thrown) {
            for (Throwable c = t; c != null; c = c.getCause()) {
                assertFalse(String.valueOf(c.getMessage()).contains(password), c.toString());
            }
        }
        for (String l : lines) {
            assertFalse(l.contains(password), l);
        }
    }
}
