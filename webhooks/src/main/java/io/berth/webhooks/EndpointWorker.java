package io.berth.webhooks;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.berth.events.EventCodec;
import io.berth.events.MalformedEventException;
import io.berth.events.RegistryEvent;
import io.berth.eventstream.EventStream;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.binder.kafka.KafkaClientMetrics;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.CloseOptions;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
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
 * delivered (2xx) or, after {@code max-attempts} real attempts ({@link Delivery}), dead-lettered to
 * {@code <topic>.dlq}; only then is its offset committed, so a relay that dies mid-delivery delivers
 * again after a restart (at least once; receivers de-duplicate by {@code X-Berth-Event-Id}). An
 * endpoint without a committed position starts where {@code start-from} says.
 */
final class EndpointWorker implements Runnable {
    private static final System.Logger LOG = System.getLogger(EndpointWorker.class.getName());
    static final String MEDIA_TYPE = "application/vnd.docker.distribution.events.v2+json";
    private static final ObjectMapper JSON = new ObjectMapper();

    private final WebhookConfig config;
    private final WebhookConfig.Endpoint endpoint;
    private final Producer<String, byte[]> deadLetters;
    private final KafkaConsumer<String, byte[]> consumer;
    private final CircuitBreaker breaker;
    private final Delivery delivery;
    private final EndpointFilter filter;
    private final long startedAt;
    private final Counter delivered;
    private final Counter deadLettered;
    private final Counter filtered;
    private final Counter failedAttempts;
    private final Timer latency;
    private volatile boolean running = true;
    private volatile Instant lastSuccess;
    private volatile String lastError;
    private volatile String stopped;
    /** Partitions assigned whose start position is not set yet (paused until it is). */
    private final Set<TopicPartition> unpositioned = new HashSet<>();

    EndpointWorker(
            WebhookConfig config,
            WebhookConfig.Endpoint endpoint,
            Producer<String, byte[]> deadLetters,
            CircuitBreaker breaker,
            MeterRegistry meters,
            long startedAt) {
        this.config = config;
        this.endpoint = endpoint;
        this.deadLetters = deadLetters;
        this.breaker = breaker;
        this.startedAt = startedAt;
        this.filter = new EndpointFilter(endpoint);
        this.consumer = EventStream.consumer(
                config.kafka(), config.group() + "." + endpoint.name(), "berth-webhooks-" + endpoint.name(), 20);
        String[] tags = {"endpoint", endpoint.name()};
        this.delivered = Counter.builder("berth.webhook.deliveries")
                .tags(tags)
                .tag("outcome", "delivered")
                .description("Events handed to the endpoint (2xx) or given up on (dead_lettered).")
                .register(meters);
        this.deadLettered = Counter.builder("berth.webhook.deliveries")
                .tags(tags)
                .tag("outcome", "dead_lettered")
                .register(meters);
        this.filtered = Counter.builder("berth.webhook.deliveries")
                .tags(tags)
                .tag("outcome", "filtered")
                .register(meters);
        this.failedAttempts = Counter.builder("berth.webhook.failed.attempts")
                .tags(tags)
                .description("Delivery attempts that did not get a 2xx.")
                .register(meters);
        this.latency = Timer.builder("berth.webhook.delivery")
                .tags(tags)
                .description("Time from first attempt to a 2xx.")
                .register(meters);
        this.delivery = new Delivery(
                endpoint, breaker, Duration.ofMillis(500), Duration.ofSeconds(60), failedAttempts::increment);
        new KafkaClientMetrics(consumer).bindTo(meters);
    }

    String name() {
        return endpoint.name();
    }

    /** One line for /healthz. */
    String state() {
        if (stopped != null) {
            return "stopped (" + stopped + "); restart the relay";
        }
        String error = delivery.lastError() != null ? delivery.lastError() : lastError;
        return "circuit " + breaker.getState().name().toLowerCase()
                + (lastSuccess == null ? "" : ", last delivered " + lastSuccess)
                + (error == null ? "" : ", last error: " + error);
    }

    boolean healthy() {
        return stopped == null && breaker.getState() != CircuitBreaker.State.OPEN;
    }

    @Override
    public void run() {
        try {
            consumer.subscribe(List.of(config.topic()), new ConsumerRebalanceListener() {
                @Override
                public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
                    unpositioned.removeAll(partitions);
                }

                @Override
                public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
                    // nothing is fetched before the start is known: a new endpoint must not fall back on
                    // the consumer's own reset (the oldest event) because Kafka was away just now
                    consumer.pause(partitions);
                    unpositioned.addAll(partitions);
                }
            });
            while (running) {
                try {
                    if (!unpositioned.isEmpty()) {
                        List<TopicPartition> todo = List.copyOf(unpositioned);
                        startWhereCommitted(todo);
                        unpositioned.removeAll(todo);
                        consumer.resume(todo);
                    }
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
                    LOG.log(
                            System.Logger.Level.WARNING,
                            "webhook " + endpoint.name() + ": " + lastError
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
            closeQuietly();
        }
    }

    /** Closes the consumer; leaving the group while Kafka is away is not worth an error. */
    private void closeQuietly() {
        try {
            consumer.close(CloseOptions.timeout(Duration.ofSeconds(5)));
        } catch (KafkaException e) {
            LOG.log(System.Logger.Level.DEBUG, "webhook " + endpoint.name() + ": closing the consumer: " + e);
        }
    }

    /**
     * Commits past {@code r}. A commit that fails (Kafka unreachable, a rebalance) is not an error:
     * a later commit covers it, and until then a restart delivers the record again.
     */
    private void commit(ConsumerRecord<String, byte[]> r) {
        try {
            consumer.commitSync(
                    Map.of(new TopicPartition(r.topic(), r.partition()), new OffsetAndMetadata(r.offset() + 1)));
        } catch (WakeupException e) {
            throw e;
        } catch (KafkaException e) {
            LOG.log(
                    System.Logger.Level.WARNING,
                    "webhook " + endpoint.name() + ": offset " + r.partition() + "/" + r.offset()
                            + " not committed yet (" + e.getMessage() + ")");
        }
    }

    /**
     * Moves each partition to its committed offset; where nothing was committed yet (a new endpoint),
     * to where {@code start-from} says — the first event at or after the relay's start for {@code now},
     * the oldest for {@code earliest} — and commits that position, so a restart does not move "now".
     */
    private void startWhereCommitted(Collection<TopicPartition> partitions) {
        if (partitions.isEmpty()) {
            return;
        }
        Map<TopicPartition, OffsetAndMetadata> committed = consumer.committed(new HashSet<>(partitions));
        Map<TopicPartition, OffsetAndMetadata> start = new HashMap<>();
        List<TopicPartition> fresh = new ArrayList<>();
        for (TopicPartition tp : partitions) {
            OffsetAndMetadata o = committed.get(tp);
            if (o != null) {
                consumer.seek(tp, o.offset());
            } else {
                fresh.add(tp);
            }
        }
        if (fresh.isEmpty()) {
            return;
        }
        if (endpoint.startFrom() == WebhookConfig.StartFrom.EARLIEST) {
            consumer.beginningOffsets(fresh).forEach((tp, offset) -> start.put(tp, new OffsetAndMetadata(offset)));
        } else {
            // the end first: records appended after it are kept even when no record is as new as the start
            Map<TopicPartition, Long> end = consumer.endOffsets(fresh);
            Map<TopicPartition, Long> times = new HashMap<>();
            fresh.forEach(tp -> times.put(tp, startedAt));
            var since = consumer.offsetsForTimes(times);
            for (TopicPartition tp : fresh) {
                var at = since.get(tp);
                start.put(tp, new OffsetAndMetadata(at != null ? at.offset() : end.get(tp)));
            }
        }
        start.forEach((tp, o) -> consumer.seek(tp, o.offset()));
        try {
            consumer.commitSync(start);
        } catch (WakeupException e) {
            throw e;
        } catch (KafkaException e) {
            // a later commit covers it
        }
        LOG.log(
                System.Logger.Level.INFO,
                "webhook " + endpoint.name() + ": new endpoint, starting from "
                        + (endpoint.startFrom() == WebhookConfig.StartFrom.NOW ? "now" : "the oldest event") + " ("
                        + String.join(
                                ", ",
                                start.entrySet().stream()
                                        .map(e -> e.getKey().partition() + "/"
                                                + e.getValue().offset())
                                        .sorted()
                                        .toList())
                        + ")");
    }

    /**
     * Moves every assigned partition back to its committed offset (where none: as a new endpoint
     * starts) before anything more is fetched; done at the top of the poll loop.
     */
    private void rewind() {
        try {
            var assigned = consumer.assignment();
            consumer.pause(assigned);
            unpositioned.addAll(assigned);
        } catch (KafkaException e) {
            // the consumer is unusable for now: the next poll fails again and we come back here
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
            LOG.log(
                    System.Logger.Level.WARNING,
                    "webhook " + endpoint.name() + ": record " + r.partition() + "/" + r.offset() + " is not an event ("
                            + e.getMessage() + "); dead-lettered");
            return deadLetter(r, e.getMessage(), 0);
        }
        if (!filter.accepts(event)) {
            filtered.increment();
            return true;
        }
        Timer.Sample sample = Timer.start();
        var outcome = delivery.deliver(event, envelope(event));
        if (outcome.isEmpty()) {
            return false; // stopping
        }
        if (outcome.get().delivered()) {
            sample.stop(latency);
            delivered.increment();
            lastSuccess = Instant.now();
            return true;
        }
        String why = outcome.get().lastError();
        LOG.log(
                System.Logger.Level.WARNING,
                "webhook " + endpoint.name() + ": event " + event.id() + " not " + "delivered after "
                        + outcome.get().attempts() + " attempts (" + why + "); dead-lettered");
        return deadLetter(r, why, outcome.get().attempts());
    }

    /** Distribution's notification envelope, which its receivers read unchanged. */
    static byte[] envelope(RegistryEvent event) {
        try {
            return JSON.writeValueAsBytes(Map.of("events", List.of(event.data())));
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Writes the record to {@code <topic>.dlq} with why, and waits for Kafka's acknowledgement. */
    private boolean deadLetter(ConsumerRecord<String, byte[]> r, String error, int attempts) {
        ProducerRecord<String, byte[]> dead = new ProducerRecord<>(config.topic() + ".dlq", r.key(), r.value());
        for (Header h : r.headers()) {
            dead.headers().add(h);
        }
        dead.headers()
                .add("berth-endpoint", endpoint.name().getBytes(StandardCharsets.UTF_8))
                .add("berth-endpoint-url", endpoint.shownUrl().getBytes(StandardCharsets.UTF_8))
                .add("berth-error", error.getBytes(StandardCharsets.UTF_8))
                .add("berth-attempts", Integer.toString(attempts).getBytes(StandardCharsets.UTF_8))
                .add(
                        "berth-source-offset",
                        (r.topic() + "/" + r.partition() + "/" + r.offset()).getBytes(StandardCharsets.UTF_8));
        while (running) {
            try {
                deadLetters.send(dead).get(30, TimeUnit.SECONDS);
                deadLettered.increment();
                return true;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            } catch (Exception e) {
                LOG.log(
                        System.Logger.Level.WARNING,
                        "webhook " + endpoint.name() + ": dead-letter topic unreachable (" + e.getMessage()
                                + "); trying again");
                pause(Duration.ofSeconds(2));
            }
        }
        return false;
    }

    /** Stops delivering: the consumer's poll and a delivery in progress end at once. */
    void stop() {
        running = false;
        delivery.stop();
        consumer.wakeup();
    }
}
