package io.berth.http;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.function.DoubleSupplier;
import java.util.function.ToDoubleFunction;

/**
 * The HTTP layer's metrics, on the process's Micrometer registry: request counts and latency
 * histograms by route, method and status ({@code berth_http_requests_total},
 * {@code berth_http_request_duration_seconds}), blob read failures, and gauges other parts register.
 * {@code /metrics} is the registry's Prometheus scrape, so everything else bound to the registry
 * (JVM, Resilience4j, Kafka clients) appears there too.
 */
public final class HttpMetrics {
    private static final Duration[] BUCKETS = {
        Duration.ofMillis(1),
        Duration.ofMillis(2),
        Duration.ofMillis(5),
        Duration.ofMillis(10),
        Duration.ofMillis(25),
        Duration.ofMillis(50),
        Duration.ofMillis(100),
        Duration.ofMillis(250),
        Duration.ofMillis(500),
        Duration.ofSeconds(1),
        Duration.ofMillis(2500),
        Duration.ofSeconds(5),
        Duration.ofSeconds(10),
        Duration.ofSeconds(30),
        Duration.ofSeconds(60)
    };

    private final PrometheusMeterRegistry registry;
    private final Counter blobReadFailures;
    private final Counter blobBytesSendfile;
    private final Counter blobBytesCopied;
    private final Counter uploadBytesSocket;
    private final Counter uploadBytesStream;

    public HttpMetrics(PrometheusMeterRegistry registry) {
        this.registry = registry;
        this.blobReadFailures = Counter.builder("berth.blob.read.failures")
                .description("Blob reads that failed or ended early while serving.")
                .register(registry);
        this.blobBytesSendfile = blobBytes("sendfile");
        this.blobBytesCopied = blobBytes("copy");
        this.uploadBytesSocket = uploadBytes("socket");
        this.uploadBytesStream = uploadBytes("stream");
    }

    private Counter uploadBytes(String path) {
        return Counter.builder("berth.upload.received.bytes")
                .baseUnit("bytes")
                .tag("path", path)
                .description("Blob upload body bytes received, by path: socket (read from the socket into the "
                        + "storage's buffers, http.socket-reads) or stream (through the HTTP server's reader).")
                .register(registry);
    }

    private Counter blobBytes(String path) {
        return Counter.builder("berth.blob.sent.bytes")
                .baseUnit("bytes")
                .tag("path", path)
                .description("Blob body bytes sent from this server's storage (not through a redirect), by path: "
                        + "sendfile (zero copy) or copy (through the server's memory).")
                .register(registry);
    }

    public MeterRegistry registry() {
        return registry;
    }

    public void request(String route, String method, int status, long nanos) {
        Tags tags = Tags.of("route", route, "method", method, "status", Integer.toString(status));
        Counter.builder("berth.http.requests")
                .description("HTTP requests served.")
                .tags(tags)
                .register(registry)
                .increment();
        Timer.builder("berth.http.request.duration")
                .description("Time to serve HTTP requests.")
                .tags(tags)
                .serviceLevelObjectives(BUCKETS)
                .register(registry)
                .record(nanos, TimeUnit.NANOSECONDS);
    }

    /** A blob could not be read back from storage while serving it. */
    public void blobReadFailed() {
        blobReadFailures.increment();
    }

    /** {@code bytes} of a blob body were sent, with sendfile or else copied. */
    public void blobBytesSent(boolean sendfile, long bytes) {
        (sendfile ? blobBytesSendfile : blobBytesCopied).increment(bytes);
    }

    /** {@code bytes} of a blob upload body were received, read from the socket directly or else through the stream. */
    public void uploadBytesReceived(boolean socket, long bytes) {
        (socket ? uploadBytesSocket : uploadBytesStream).increment(bytes);
    }

    /** Registers a gauge {@code name} (dotted, e.g. {@code berth.storage.free.bytes}) with tags. */
    public void gauge(String name, String description, DoubleSupplier value, String... tags) {
        Gauge.builder(name, value::getAsDouble)
                .description(description)
                .tags(tags)
                .register(registry);
    }

    /**
     * Registers a counter {@code name} whose running total {@code state} keeps ({@code state} must live
     * as long as the process: the registry holds it weakly).
     */
    public <T> void counter(String name, String description, T state, ToDoubleFunction<T> value, String... tags) {
        FunctionCounter.builder(name, state, value)
                .description(description)
                .tags(tags)
                .register(registry);
    }

    /** The Prometheus text exposition of everything in the registry. */
    public String scrape() {
        return registry.scrape();
    }
}
