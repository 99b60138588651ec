package io.berth.webhooks;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.berth.events.EventCodec;
import io.berth.events.MalformedEventException;
import io.berth.events.RegistryEvent;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.github.resilience4j.core.IntervalFunction;
import io.github.resilience4j.retry.Retry;
import io.github.resilience4j.retry.RetryConfig;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.io.IOException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.header.Header;

/**
 * Delivers the event topic to one endpoint, with a Kafka consumer group of its own
 * ({@code <group>.<endpoint>}): a slow or dead endpoint holds back only itself. Each record is
 * delivered (2xx), or retried with exponential backoff behind a circuit breaker up to
 * {@code max-attempts} and then dead-lettered to {@code <topic>.dlq}; only then is its offset
 * committed, so a relay that dies mid-delivery delivers again after a restart (at least once;
 * receivers de-duplicate by {@code X-Berth-Event-Id}).
 */
final class EndpointWorker implements Runnable {
    private static final System.Logger LOG = System.getLogger(EndpointWorker.class.getName());
    static final String MEDIA_TYPE = "application/vnd.docker.distribution.events.v2+json";
    private static final ObjectMapper JSON = new ObjectMapper();

    private final WebhookConfig config;
    private final WebhookConfig.Endpoint endpoint;
    private final Producer<String, byte[]> deadLetters;
    private final KafkaConsumer<String, byte[]> consumer;
    private final HttpClient http;
    private final CircuitBreaker breaker;
    private final Retry retry;
    private final EndpointFilter filter;
    private final Counter delivered;
    private final Counter deadLettered;
    private final Counter filtered;
    private final Counter failedAttempts;
    private final Timer latency;
    private volatile boolean running = true;
    private volatile Instant lastSuccess;
    private volatile String lastError;
    private volatile String stopped;

    EndpointWorker(WebhookConfig config, WebhookConfig.Endpoint endpoint, Producer<String, byte[]> deadLetters,
                   CircuitBreaker breaker, MeterRegistry meters) {
        this.config = config;
        this.endpoint = endpoint;
        this.deadLetters = deadLetters;
        this.breaker = breaker;
        this.filter = new EndpointFilter(endpoint);
        this.consumer = io.berth.events.EventStream.consumer(config.bootstrapServers(), config.group() + "."
                + endpoint.name(), "berth-webhooks-" + endpoint.name(), 20);
        this.http = HttpClient.newBuilder().connectTimeout(endpoint.timeout()).build();
        this.retry = Retry.of("webhook-" + endpoint.name(), RetryConfig.custom().maxAttempts(endpoint.maxAttempts())
                .intervalFunction(IntervalFunction.ofExponentialBackoff(Duration.ofMillis(500), 2.0,
                        Duration.ofSeconds(60)))
                .retryOnException(e -> running).build());
        String[] tags = {"endpoint", endpoint.name()};
        this.delivered = Counter.builder("berth.webhook.deliveries").tags(tags).tag("outcome", "delivered")
                .description("Events handed to the endpoint (2xx) or given up on (dead_lettered).").register(meters);
        this.deadLettered = Counter.builder("berth.webhook.deliveries").tags(tags).tag("outcome", "dead_lettered")
                .register(meters);
        this.filtered = Counter.builder("berth.webhook.deliveries").tags(tags).tag("outcome", "filtered")
                .register(meters);
        this.failedAttempts = Counter.builder("berth.webhook.failed.attempts").tags(tags)
                .description("Delivery attempts that did not get a 2xx.").register(meters);
        this.latency = Timer.builder("berth.webhook.delivery").tags(tags)
                .description("Time from first attempt to a 2xx.").register(meters);
        new io.micrometer.core.instrument.binder.kafka.KafkaClientMetrics(consumer).bindTo(meters);
    }

    String name() {
        return endpoint.name();
    }

    /** One line for /healthz. */
    String state() {
        if (stopped != null) {
            return "stopped (" + stopped + "); restart the relay";
        }
        return "circuit " + breaker.getState().name().toLowerCase() + (lastSuccess == null ? ""
                : ", last delivered " + lastSuccess) + (lastError == null ? "" : ", last error: " + lastError);
    }

    boolean healthy() {
        return stopped == null && breaker.getState() != CircuitBreaker.State.OPEN;
    }

    @Override
    public void run() {
        try {
            consumer.subscribe(List.of(config.topic()));
            while (running) {
                try {
                    for (ConsumerRecord<String, byte[]> r : consumer.poll(Duration.ofMillis(500))) {
                        if (!running || !handle(r)) {
                            // stopped mid-record: not committed, delivered again after a restart
                            return;
                        }
                        commit(r);
                    }
                } catch (WakeupException e) {
                    return; // stopping
                } catch (KafkaException e) {
                    // e.g. the broker went away for longer than a request may wait: start again from the
                    // last committed offset rather than stop delivering
                    lastError = "kafka: " + e.getMessage();
                    LOG.log(System.Logger.Level.WARNING, "webhook " + endpoint.name() + ": " + lastError
                            + "; resuming from the last committed event");
                    pause(Duration.ofSeconds(2));
                    rewind();
                }
            }
        } catch (WakeupException e) {
            // stopping
        } catch (RuntimeException e) {
            stopped = e.toString();
            LOG.log(System.Logger.Level.ERROR, "webhook " + endpoint.name() + ": stopped delivering: " + e);
        } finally {
            consumer.close(Duration.ofSeconds(5));
        }
    }

    /**
     * Commits past {@code r}. A commit that fails (Kafka unreachable, a rebalance) is not an error:
     * a later commit covers it, and until then a restart delivers the record again.
     */
    private void commit(ConsumerRecord<String, byte[]> r) {
        try {
            consumer.commitSync(Map.of(new TopicPartition(r.topic(), r.partition()),
                    new OffsetAndMetadata(r.offset() + 1)));
        } catch (WakeupException e) {
            throw e;
        } catch (KafkaException e) {
            LOG.log(System.Logger.Level.WARNING, "webhook " + endpoint.name() + ": offset " + r.partition() + "/"
                    + r.offset() + " not committed yet (" + e.getMessage() + ")");
        }
    }

    /** Moves every assigned partition back to its committed offset (where nothing committed: the start). */
    private void rewind() {
        try {
            var assigned = consumer.assignment();
            var committed = consumer.committed(assigned);
            for (TopicPartition tp : assigned) {
                OffsetAndMetadata o = committed.get(tp);
                if (o != null) {
                    consumer.seek(tp, o.offset());
                } else {
                    consumer.seekToBeginning(List.of(tp));
                }
            }
        } catch (WakeupException e) {
            throw e;
        } catch (KafkaException e) {
            // still unreachable: the next poll fails again and we come back here
        }
    }

    private void pause(Duration d) {
        try {
            Thread.sleep(d);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            running = false;
        }
    }

    /** Delivers or dead-letters one record; false when stopped before it was done. */
    private boolean handle(ConsumerRecord<String, byte[]> r) {
        RegistryEvent event;
        try {
            event = EventCodec.decode(r.value());
        } catch (MalformedEventException e) {
            LOG.log(System.Logger.Level.WARNING, "webhook " + endpoint.name() + ": record " + r.partition() + "/"
                    + r.offset() + " is not an event (" + e.getMessage() + "); dead-lettered");
            return deadLetter(r, e.getMessage(), 0);
        }
        if (!filter.accepts(event)) {
            filtered.increment();
            return true;
        }
        byte[] body = envelope(event);
        Timer.Sample sample = Timer.start();
        int[] attempts = {0};
        try {
            var guarded = CircuitBreaker.decorateCheckedSupplier(breaker, () -> {
                post(event, body);
                return null;
            });
            Retry.decorateCheckedSupplier(retry, () -> {
                attempts[0]++; // an attempt the open circuit refused counts too
                return guarded.get();
            }).get();
            sample.stop(latency);
            delivered.increment();
            lastSuccess = Instant.now();
            return true;
        } catch (Throwable e) {
            if (!running) {
                return false;
            }
            String why = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
            LOG.log(System.Logger.Level.WARNING, "webhook " + endpoint.name() + ": event " + event.id() + " not "
                    + "delivered after " + attempts[0] + " attempts (" + why + "); dead-lettered");
            return deadLetter(r, why, attempts[0]);
        }
    }

    /** Distribution's notification envelope, which its receivers read unchanged. */
    static byte[] envelope(RegistryEvent event) {
        try {
            return JSON.writeValueAsBytes(Map.of("events", List.of(event.data())));
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    private void post(RegistryEvent event, byte[] body) throws IOException, InterruptedException {
        long timestamp = Instant.now().getEpochSecond();
        HttpRequest.Builder req = HttpRequest.newBuilder(endpoint.url()).timeout(endpoint.timeout())
                .header("Content-Type", MEDIA_TYPE)
                .header(Signature.TIMESTAMP_HEADER, Long.toString(timestamp))
                .header(Signature.EVENT_ID_HEADER, event.id())
                .header("User-Agent", "berth-webhooks")
                .POST(HttpRequest.BodyPublishers.ofByteArray(body));
        if (!endpoint.secret().isEmpty()) {
            req.header(Signature.HEADER, Signature.sign(endpoint.secret(), timestamp, body));
        }
        endpoint.headers().forEach(req::header);
        try {
            HttpResponse<Void> res = http.send(req.build(), HttpResponse.BodyHandlers.discarding());
            if (res.statusCode() / 100 != 2) {
                throw new IOException("HTTP " + res.statusCode());
            }
        } catch (IOException | RuntimeException e) {
            failedAttempts.increment();
            lastError = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
            throw e;
        }
    }

    /** Writes the record to {@code <topic>.dlq} with why, and waits for Kafka's acknowledgement. */
    private boolean deadLetter(ConsumerRecord<String, byte[]> r, String error, int attempts) {
        ProducerRecord<String, byte[]> dead = new ProducerRecord<>(config.topic() + ".dlq", r.key(), r.value());
        for (Header h : r.headers()) {
            dead.headers().add(h);
        }
        dead.headers().add("berth-endpoint", endpoint.name().getBytes(StandardCharsets.UTF_8))
                .add("berth-endpoint-url", endpoint.shownUrl().getBytes(StandardCharsets.UTF_8))
                .add("berth-error", error.getBytes(StandardCharsets.UTF_8))
                .add("berth-attempts", Integer.toString(attempts).getBytes(StandardCharsets.UTF_8))
                .add("berth-source-offset", (r.topic() + "/" + r.partition() + "/" + r.offset())
                        .getBytes(StandardCharsets.UTF_8));
        while (running) {
            try {
                deadLetters.send(dead).get(30, java.util.concurrent.TimeUnit.SECONDS);
                deadLettered.increment();
                return true;
            } catch (Exception e) {
                LOG.log(System.Logger.Level.WARNING, "webhook " + endpoint.name() + ": dead-letter topic unreachable ("
                        + e.getMessage() + "); trying again");
                try {
                    Thread.sleep(2000);
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                    return false;
                }
            }
        }
        return false;
    }

    void stop() {
        running = false;
        consumer.wakeup();
    }
}
