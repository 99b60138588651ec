package io.berth.webhooks;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.Headers;
import com.sun.net.httpserver.HttpServer;
import io.berth.events.RegistryEvent;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.github.resilience4j.circuitbreaker.CircuitBreakerConfig;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntUnaryOperator;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Attempts, the circuit and stopping, against a real local receiver. */
class DeliveryTest {
    final AtomicInteger requests = new AtomicInteger();
    final CountDownLatch hold = new CountDownLatch(1);
    volatile IntUnaryOperator status = n -> 200;
    volatile boolean hang;
    final HttpServer receiver;

    DeliveryTest() throws IOException {
        receiver = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 16);
        receiver.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
        receiver.createContext("/hook", x -> {
            x.getRequestBody().readAllBytes();
            int n = requests.incrementAndGet();
            if (hang) {
                try {
                    hold.await(30, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            x.sendResponseHeaders(status.applyAsInt(n), -1);
            x.close();
        });
        receiver.start();
    }

    @AfterEach
    void close() {
        hold.countDown();
        receiver.stop(0);
    }

    WebhookConfig.Endpoint endpoint(String url, int maxAttempts) {
        return new WebhookConfig.Endpoint(
                "t",
                URI.create(url),
                "",
                Map.of(),
                Set.of(),
                List.of(),
                Set.of(),
                Set.of(),
                Duration.ofSeconds(5),
                maxAttempts,
                WebhookConfig.StartFrom.NOW);
    }

    String url() {
        return "http://127.0.0.1:" + receiver.getAddress().getPort() + "/hook";
    }

    static CircuitBreaker breaker() {
        return CircuitBreaker.of(
                "t",
                CircuitBreakerConfig.custom()
                        .failureRateThreshold(50)
                        .minimumNumberOfCalls(2)
                        .slidingWindowSize(4)
                        .waitDurationInOpenState(Duration.ofMillis(700))
                        .build());
    }

    Delivery delivery(WebhookConfig.Endpoint e, CircuitBreaker b) {
        return new Delivery(e, b, Duration.ofMillis(50), Duration.ofMillis(200), () -> {});
    }

    static RegistryEvent event() {
        return WebhookConfigTest.event("a/b", "push", "application/vnd.oci.image.manifest.v1+json");
    }

    @Test
    void waitingForAnOpenCircuitIsNotAnAttempt() {
        CircuitBreaker b = breaker();
        b.transitionToOpenState(); // as after the failures of earlier events
        long t0 = System.nanoTime();
        Optional<Delivery.Outcome> o = delivery(endpoint(url(), 1), b).deliver(event(), new byte[0]);
        assertTrue(o.orElseThrow().delivered(), "delivered by the one attempt the circuit let through: " + o);
        assertEquals(1, o.get().attempts());
        assertEquals(1, requests.get());
        System.out.printf("waited %d ms for the circuit%n", (System.nanoTime() - t0) / 1_000_000);
    }

    @Test
    void anOutageThatOpensTheCircuitDoesNotUseUpTheAttempts() {
        status = n -> n <= 3 ? 503 : 200; // three failures open the circuit (two calls, half failed)
        CircuitBreaker b = breaker();
        Optional<Delivery.Outcome> o = delivery(endpoint(url(), 4), b).deliver(event(), new byte[0]);
        assertTrue(o.orElseThrow().delivered(), o.toString());
        assertEquals(4, o.get().attempts(), "every attempt a real request");
        assertEquals(4, requests.get());
    }

    @Test
    void maxAttemptsRealFailuresEndTheDeliveryWithTheLastError() {
        status = n -> 503;
        Optional<Delivery.Outcome> o = delivery(endpoint(url(), 3), breaker()).deliver(event(), new byte[0]);
        assertFalse(o.orElseThrow().delivered());
        assertEquals(3, o.get().attempts());
        assertEquals(3, requests.get(), "three requests, however long the circuit stayed open between them");
        assertEquals("HTTP 503", o.get().lastError());
    }

    @Test
    void aRefusedConnectionIsSaidInWords() throws IOException {
        int closed;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            closed = s.getLocalPort();
        }
        Optional<Delivery.Outcome> o = delivery(endpoint("http://127.0.0.1:" + closed + "/hook", 1), breaker())
                .deliver(event(), new byte[0]);
        assertEquals("connection refused", o.orElseThrow().lastError());
    }

    @Test
    void stopEndsADeliveryInFlightWithoutInterruptingItsThread() throws Exception {
        hang = true;
        Delivery d = delivery(endpoint(url(), 8), breaker());
        CompletableFuture<Boolean> interrupted = new CompletableFuture<>();
        CompletableFuture<Optional<Delivery.Outcome>> result = new CompletableFuture<>();
        Thread t = Thread.ofPlatform().start(() -> {
            result.complete(d.deliver(event(), new byte[0]));
            interrupted.complete(Thread.currentThread().isInterrupted());
        });
        long deadline = System.currentTimeMillis() + 10_000;
        while (requests.get() == 0 && System.currentTimeMillis() < deadline) {
            Thread.sleep(10);
        }
        d.stop();
        assertEquals(Optional.empty(), result.get(5, TimeUnit.SECONDS), "not delivered, not dead-lettered");
        assertFalse(interrupted.get(5, TimeUnit.SECONDS), "the thread (and its Kafka client) was not interrupted");
        t.join();
    }

    WebhookConfig.Endpoint endpoint(String url, String secret, Duration timeout) {
        return new WebhookConfig.Endpoint(
                "t",
                URI.create(url),
                secret,
                Map.of("Authorization", "Bearer receiver-token"),
                Set.of(),
                List.of(),
                Set.of(),
                Set.of(),
                timeout,
                1,
                WebhookConfig.StartFrom.NOW);
    }

    /** Delivers once on a thread of its own; fails (rather than hangs) when no outcome comes within a minute. */
    Delivery.Outcome deliverOnce(WebhookConfig.Endpoint e) throws Exception {
        CompletableFuture<Optional<Delivery.Outcome>> result = new CompletableFuture<>();
        Delivery d = delivery(e, breaker());
        Thread.ofPlatform().daemon().start(() -> result.complete(d.deliver(event(), "{}".getBytes())));
        try {
            return result.get(60, TimeUnit.SECONDS).orElseThrow();
        } finally {
            d.stop();
        }
    }

    @Test
    void aReceiverTricklingItsAnswerFailsTheAttemptAtTheTimeout() throws Exception {
        try (HostileReceiver hostile = new HostileReceiver(HostileReceiver.Mode.TRICKLE, null)) {
            long t0 = System.nanoTime();
            Delivery.Outcome o = deliverOnce(endpoint(hostile.url(), "", Duration.ofSeconds(1)));
            long ms = (System.nanoTime() - t0) / 1_000_000;
            assertFalse(o.delivered(), "200 headers and a body that never ends in time are no delivery");
            assertEquals("no complete answer within 1s", o.lastError());
            assertTrue(hostile.cutOff.await(10, TimeUnit.SECONDS), "the connection was closed");
            System.out.printf(
                    "trickling receiver (1 byte/100 ms, timeout 1s): failed after %d ms, %d body bytes read%n",
                    ms, hostile.bodyBytesSent.get());
        }
    }

    @Test
    void aReceiverWhoseAnswerNeverEndsIsCutAfter64KiB() throws Exception {
        try (HostileReceiver hostile = new HostileReceiver(HostileReceiver.Mode.ENDLESS, null)) {
            long t0 = System.nanoTime();
            Delivery.Outcome o = deliverOnce(endpoint(hostile.url(), "", Duration.ofMinutes(10)));
            long ms = (System.nanoTime() - t0) / 1_000_000;
            assertFalse(o.delivered());
            assertEquals("answer body over 64 KiB", o.lastError());
            assertTrue(hostile.cutOff.await(10, TimeUnit.SECONDS), "the connection was closed");
            System.out.printf(
                    "endless answer (timeout 10m): failed after %d ms, %d KiB written by the receiver%n",
                    ms, hostile.bodyBytesSent.get() / 1024);
        }
    }

    @Test
    void aRedirectIsNotFollowedSoTheSignatureAndHeadersStayWithTheConfiguredUrl() throws Exception {
        // the redirect's target: another origin (same address, other port) that records what reaches it
        ConcurrentLinkedQueue<Headers> elsewhere = new ConcurrentLinkedQueue<>();
        HttpServer other = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 4);
        other.createContext("/", x -> {
            elsewhere.add(x.getRequestHeaders());
            x.sendResponseHeaders(200, -1);
            x.close();
        });
        other.start();
        try (HostileReceiver hostile = new HostileReceiver(
                HostileReceiver.Mode.REDIRECT,
                "http://127.0.0.1:" + other.getAddress().getPort() + "/steal")) {
            Delivery.Outcome o = deliverOnce(endpoint(hostile.url(), "s3cret", Duration.ofSeconds(5)));
            assertFalse(o.delivered(), "a redirect is a failed attempt");
            assertEquals("HTTP 307 (redirects are not followed)", o.lastError());
            assertEquals(1, hostile.requests.get());
            assertTrue(
                    elsewhere.isEmpty(),
                    "nothing reached the redirect's target: "
                            + elsewhere.stream().map(h -> h.keySet().toString()).toList());
        } finally {
            other.stop(0);
        }
    }
}
