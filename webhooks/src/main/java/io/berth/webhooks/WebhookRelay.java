package io.berth.webhooks;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.berth.eventstream.EventStream;
import io.berth.eventstream.OpsResponses;
import io.github.resilience4j.circuitbreaker.CircuitBreakerConfig;
import io.github.resilience4j.circuitbreaker.CircuitBreakerRegistry;
import io.github.resilience4j.micrometer.tagged.TaggedCircuitBreakerMetrics;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.producer.Producer;

/**
 * {@code berth webhooks}: one {@link EndpointWorker} per endpoint, a shared producer for the
 * dead-letter topic, and {@code /healthz} and {@code /metrics} on {@code webhooks.http-port}.
 */
public final class WebhookRelay implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(WebhookRelay.class.getName());

    private final WebhookConfig config;
    private final PrometheusMeterRegistry meters;
    private final Producer<String, byte[]> deadLetters;
    private final List<EndpointWorker> workers = new ArrayList<>();
    private final List<Thread> threads = new ArrayList<>();
    private HttpServer http;

    public WebhookRelay(WebhookConfig config, PrometheusMeterRegistry meters) {
        this.config = config;
        this.meters = meters;
        this.deadLetters = EventStream.producer(config.kafka(), "berth-webhooks-dlq", Map.of());
        CircuitBreakerRegistry breakers = CircuitBreakerRegistry.of(CircuitBreakerConfig.custom()
                .failureRateThreshold(50)
                .minimumNumberOfCalls(5)
                .slidingWindowSize(10)
                .waitDurationInOpenState(Duration.ofSeconds(10))
                .build());
        TaggedCircuitBreakerMetrics.ofCircuitBreakerRegistry(breakers).bindTo(meters);
        long startedAt = System.currentTimeMillis(); // "now" for endpoints with start-from: now
        for (WebhookConfig.Endpoint e : config.endpoints()) {
            workers.add(new EndpointWorker(
                    config, e, deadLetters, breakers.circuitBreaker("webhook-" + e.name()), meters, startedAt));
        }
    }

    /** Starts the workers and the health and metrics listener; returns its port. */
    public int start() throws IOException {
        http = HttpServer.create(new InetSocketAddress(config.host(), config.httpPort()), 16);
        http.createContext("/healthz", this::health);
        http.createContext("/metrics", x -> send(x, 200, "text/plain; version=0.0.4; charset=utf-8", meters.scrape()));
        http.setExecutor(null);
        http.start();
        for (EndpointWorker w : workers) {
            Thread t = Thread.ofPlatform()
                    .name("berth-webhook-" + w.name())
                    .daemon()
                    .start(w);
            threads.add(t);
        }
        return http.getAddress().getPort();
    }

    private void health(HttpExchange x) throws IOException {
        StringBuilder b = new StringBuilder();
        boolean ok = workers.stream().allMatch(EndpointWorker::healthy);
        b.append("status: ").append(ok ? "ok" : "degraded").append('\n');
        for (EndpointWorker w : workers) {
            b.append("endpoint ")
                    .append(w.name())
                    .append(": ")
                    .append(w.state())
                    .append('\n');
        }
        send(x, 200, "text/plain; charset=utf-8", b.toString());
    }

    private static void send(HttpExchange x, int status, String type, String body) throws IOException {
        OpsResponses.send(x, status, type, body);
    }

    /**
     * Stops delivering (an unfinished delivery is not committed: it is delivered again next time).
     * The workers are told to stop, not interrupted: an interrupt inside a Kafka client makes it fail
     * with an error and a stack trace on an ordinary stop.
     */
    public void stop(Duration timeout) {
        workers.forEach(EndpointWorker::stop);
        long deadline = System.nanoTime() + timeout.toNanos();
        for (Thread t : threads) {
            try {
                t.join(Math.max(1, (deadline - System.nanoTime()) / 1_000_000));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        if (http != null) {
            http.stop(0);
        }
        deadLetters.close(Duration.ofSeconds(5));
        LOG.log(System.Logger.Level.INFO, "webhook relay stopped");
    }

    @Override
    public void close() {
        stop(Duration.ofSeconds(10));
    }
}
