package io.berth.relay;

import io.berth.core.metadata.MetadataStore;
import io.berth.core.metadata.OutboxEvent;
import io.berth.core.metadata.OutboxStats;
import io.berth.events.EventCodec;
import io.berth.events.MalformedEventException;
import io.berth.eventstream.EventStream;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.github.resilience4j.circuitbreaker.CircuitBreakerConfig;
import io.github.resilience4j.circuitbreaker.CircuitBreakerRegistry;
import io.github.resilience4j.core.IntervalFunction;
import io.github.resilience4j.micrometer.tagged.TaggedCircuitBreakerMetrics;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.kafka.KafkaClientMetrics;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Future;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;

/**
 * Publishes the event outbox to Kafka. Rows go out in outbox order (the record key is the
 * repository, so one repository's events stay in order on one partition), with an idempotent
 * producer and {@code acks=all}, and are marked sent only after the broker acknowledged them: a
 * crash between publishing and marking publishes again with the same event id (consumers
 * de-duplicate), a crash before publishing loses nothing. Kafka down: rows wait, the relay retries
 * with exponential backoff behind a circuit breaker, pushes go on. Only the holder of the
 * {@code event-relay} lease publishes, so instances sharing a database never publish concurrently.
 */
public final class OutboxRelay implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(OutboxRelay.class.getName());
    static final String LEASE = "event-relay";
    private static final int BATCH = 500;

    /** Where and how to publish. */
    public record Settings(
            String bootstrapServers, String topic, Map<String, String> producerProperties, Duration retention) {}

    private final MetadataStore metadata;
    private final Settings settings;
    private final Clock clock;
    private final Producer<String, byte[]> producer;
    private final CircuitBreaker breaker;
    private final IntervalFunction backoff =
            IntervalFunction.ofExponentialBackoff(Duration.ofMillis(200), 2.0, Duration.ofSeconds(10));
    private final String owner = "relay-" + UUID.randomUUID();
    private final Semaphore wake = new Semaphore(0);
    private final CountDownLatch stopping = new CountDownLatch(1);
    private final Thread thread;
    private final Counter published;
    private final Counter failures;
    private volatile boolean running = true;
    private volatile OutboxStats stats = new OutboxStats(0, 0);
    /** When {@link #stats} was read (nanoTime), and whether a commit made it old since. */
    private volatile long statsRead;

    private volatile boolean statsOld = true;
    private final BrokerProbe probe;
    private volatile String lastError;
    private volatile long failingSince;
    private long nextPrune;
    private long leaseUntil;

    public OutboxRelay(MetadataStore metadata, Settings settings, MeterRegistry meters, Clock clock) {
        this(metadata, settings, meters, clock, newProducer(settings));
    }

    OutboxRelay(
            MetadataStore metadata,
            Settings settings,
            MeterRegistry meters,
            Clock clock,
            Producer<String, byte[]> producer) {
        this.metadata = metadata;
        this.settings = settings;
        this.clock = clock;
        this.producer = producer;
        this.probe = new BrokerProbe(settings.bootstrapServers(), settings.producerProperties(), clock);
        CircuitBreakerRegistry breakers = CircuitBreakerRegistry.of(CircuitBreakerConfig.custom()
                .failureRateThreshold(50)
                .minimumNumberOfCalls(3)
                .slidingWindowSize(10)
                .waitDurationInOpenState(Duration.ofSeconds(5))
                .permittedNumberOfCallsInHalfOpenState(1)
                .build());
        this.breaker = breakers.circuitBreaker("kafka-events");
        TaggedCircuitBreakerMetrics.ofCircuitBreakerRegistry(breakers).bindTo(meters);
        if (producer instanceof KafkaProducer<String, byte[]> kafka) {
            new KafkaClientMetrics(kafka).bindTo(meters);
        }
        this.published = Counter.builder("berth.events.published")
                .description("Events acknowledged by Kafka.")
                .register(meters);
        this.failures = Counter.builder("berth.events.publish.failures")
                .description("Attempts to publish a batch of events that failed.")
                .register(meters);
        // read from the outbox when scraped, not from the relay's last cycle, which a Kafka outage holds up
        Gauge.builder("berth.events.outbox.depth", () -> currentStats().pending())
                .description("Events waiting to be published.")
                .register(meters);
        Gauge.builder("berth.events.outbox.oldest.age.seconds", () -> {
                    OutboxStats s = currentStats();
                    return s.pending() == 0 ? 0 : Math.max(0, clock.millis() - s.oldestCreatedAt()) / 1000.0;
                })
                .description("How long the oldest waiting event has waited.")
                .register(meters);
        this.thread = new Thread(this::run, "berth-event-relay");
        thread.setDaemon(true);
    }

    static Producer<String, byte[]> newProducer(Settings settings) {
        Map<String, String> extra = new HashMap<>(Map.of(
                ProducerConfig.MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION, "5",
                ProducerConfig.LINGER_MS_CONFIG, "2",
                ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, "10000",
                ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, "30000"));
        extra.putAll(settings.producerProperties());
        return EventStream.producer(settings.bootstrapServers(), "berth-event-relay", extra);
    }

    public OutboxRelay start() {
        thread.start();
        probe.start();
        return this;
    }

    /** New events committed: publish now rather than at the next poll; the outbox's depth changed. */
    public void wake() {
        statsOld = true;
        wake.release();
    }

    /**
     * Empty when publishing works; else what is wrong ("kafka unreachable since …, N waiting"): a send
     * that failed, an open circuit, or the cluster not answering the probe ({@link BrokerProbe}, within
     * seconds of an outage, also while nothing is sent).
     */
    public Optional<String> problem() {
        Optional<BrokerProbe.Unreachable> unreachable = probe.unreachable();
        if (failingSince == 0 && breaker.getState() == CircuitBreaker.State.CLOSED && unreachable.isEmpty()) {
            return Optional.empty();
        }
        long since = failingSince == 0 ? clock.millis() : failingSince;
        if (unreachable.isPresent()) {
            since = Math.min(since, unreachable.get().since().toEpochMilli());
        }
        String error = lastError != null
                ? lastError
                : unreachable.map(BrokerProbe.Unreachable::reason).orElse(null);
        return Optional.of("kafka unreachable since " + Instant.ofEpochMilli(since) + " (circuit "
                + breaker.getState().name().toLowerCase() + ", "
                + currentStats().pending() + " events waiting"
                + (error == null ? "" : ": " + error) + ")");
    }

    /** Events waiting and the age of the oldest, as last seen. */
    public OutboxStats stats() {
        return stats;
    }

    /**
     * The outbox's depth now: read again when an event was committed here since (the push a client was
     * just told succeeded counts), else at most a quarter second old (other instances' commits).
     */
    OutboxStats currentStats() {
        long now = System.nanoTime();
        if (statsOld || now - statsRead > 250_000_000L) {
            statsOld = false;
            try {
                stats = metadata.outbox().stats();
                statsRead = now;
            } catch (RuntimeException e) {
                statsOld = true; // the metadata store failing: the last figure, read again next time
            }
        }
        return stats;
    }

    private void run() {
        while (running) {
            try {
                cycle();
            } catch (RuntimeException e) {
                // the metadata store failing must not end the relay: try again in a moment
                LOG.log(System.Logger.Level.WARNING, "event relay: " + e.getMessage());
                pause(Duration.ofSeconds(1));
            }
        }
    }

    private void cycle() {
        long now = clock.millis();
        stats = metadata.outbox().stats();
        statsRead = System.nanoTime();
        if (now >= nextPrune) {
            int pruned = metadata.inTransaction(
                    tx -> tx.outbox().pruneSent(now - settings.retention().toMillis()));
            if (pruned > 0) {
                LOG.log(System.Logger.Level.DEBUG, "event relay: pruned " + pruned + " published events");
            }
            nextPrune = now + 600_000;
        }
        if (now + 5_000 >= leaseUntil) {
            long until = now + 15_000;
            boolean held = metadata.inTransaction(tx -> tx.leases().acquire(LEASE, owner, until));
            leaseUntil = held ? until : 0;
            if (!held) {
                pause(Duration.ofSeconds(5)); // another instance publishes
                return;
            }
        }
        List<OutboxEvent> batch =
                stats.pending() == 0 ? List.of() : metadata.outbox().pending(BATCH);
        if (batch.isEmpty()) {
            awaitWake(Duration.ofMillis(500));
            return;
        }
        if (!breaker.tryAcquirePermission()) {
            pause(Duration.ofMillis(500));
            return;
        }
        long start = System.nanoTime();
        try {
            publish(batch);
            breaker.onSuccess(System.nanoTime() - start, TimeUnit.NANOSECONDS);
            if (failingSince != 0) {
                LOG.log(
                        System.Logger.Level.INFO,
                        "event relay: publishing again after failing since " + Instant.ofEpochMilli(failingSince));
            }
            failingSince = 0;
            lastError = null;
            attempt = 0;
        } catch (Exception e) {
            breaker.onError(System.nanoTime() - start, TimeUnit.NANOSECONDS, e);
            failures.increment();
            lastError = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
            if (failingSince == 0) {
                failingSince = clock.millis();
                LOG.log(
                        System.Logger.Level.WARNING,
                        "event relay: cannot publish to Kafka (" + lastError
                                + "); events wait in the outbox and are published when it is back");
            }
            pause(Duration.ofMillis(backoff.apply(++attempt)));
        }
    }

    private int attempt;

    /**
     * Sends the batch in waves and marks what was acknowledged as sent; throws when a record was not
     * acknowledged (it and everything after it are sent again later, in order).
     *
     * <p>A wave holds at most one event per repository, and the next wave starts only when the broker
     * acknowledged every event of this one: an event is never sent before its repository's previous
     * event was acknowledged. Sending a whole batch at once is not safe across an outage: a send that
     * waits for metadata fails on its own while a later one succeeds once the broker is back, and the
     * producer's retries after an expired batch may write a later batch first — the topic would then
     * hold a repository's events out of order. Duplicates (an acknowledgement lost after the write)
     * are harmless: consumers de-duplicate by event id, and the first copy of each event is in order.
     */
    private int publish(List<OutboxEvent> batch) throws Exception {
        List<OutboxEvent> pending = batch;
        int sent = 0;
        while (!pending.isEmpty()) {
            List<OutboxEvent> wave = new ArrayList<>();
            List<OutboxEvent> later = new ArrayList<>();
            Set<String> inWave = new HashSet<>();
            for (OutboxEvent e : pending) {
                (inWave.add(e.repository()) ? wave : later).add(e);
            }
            sent += sendWave(wave);
            pending = later;
        }
        return sent;
    }

    /** Sends events of distinct repositories, marks the acknowledged ones sent; throws if any was not. */
    private int sendWave(List<OutboxEvent> wave) throws Exception {
        List<Future<RecordMetadata>> acks = new ArrayList<>(wave.size());
        for (OutboxEvent e : wave) {
            Future<RecordMetadata> ack = producer.send(record(e));
            acks.add(ack);
            if (ack.isDone() && failed(ack)) {
                break; // no metadata (the broker is away): the rest of the wave would only wait for it too
            }
        }
        producer.flush();
        List<Long> done = new ArrayList<>();
        Exception failure = null;
        for (int i = 0; i < acks.size(); i++) {
            try {
                acks.get(i).get(30, TimeUnit.SECONDS);
                done.add(wave.get(i).seq());
            } catch (Exception ex) {
                if (failure == null) {
                    failure = ex.getCause() instanceof Exception c ? c : ex;
                }
            }
        }
        if (!done.isEmpty()) {
            long at = clock.millis();
            metadata.inTransaction(tx -> tx.outbox().markSent(done, at));
        }
        published.increment(done.size());
        if (failure != null) {
            throw failure;
        }
        return done.size();
    }

    private static boolean failed(Future<?> f) {
        return f.state() == Future.State.FAILED;
    }

    private ProducerRecord<String, byte[]> record(OutboxEvent e) {
        ProducerRecord<String, byte[]> record = new ProducerRecord<>(
                settings.topic(),
                null,
                e.createdAt(),
                e.repository(),
                e.payload().getBytes(StandardCharsets.UTF_8));
        record.headers()
                .add(EventCodec.HEADER_ID, bytes(e.id()))
                .add(EventCodec.HEADER_TYPE, bytes(e.type()))
                .add(EventCodec.HEADER_SPEC_VERSION, bytes("1.0"))
                .add(EventCodec.HEADER_SOURCE, bytes(source(e)))
                .add(EventCodec.HEADER_CONTENT_TYPE, bytes(EventCodec.STRUCTURED_CONTENT_TYPE));
        return record;
    }

    /** The CloudEvents source of an outbox row (for the ce_source header), read from its payload. */
    private String source(OutboxEvent e) {
        try {
            return EventCodec.decode(e.payload().getBytes(StandardCharsets.UTF_8))
                    .source();
        } catch (MalformedEventException ex) {
            return "";
        }
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private void awaitWake(Duration max) {
        try {
            if (wake.tryAcquire(max.toMillis(), TimeUnit.MILLISECONDS)) {
                wake.drainPermits();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            running = false;
        }
    }

    /** Waits {@code d}, less if the relay is stopped meanwhile. */
    private void pause(Duration d) {
        try {
            stopping.await(d.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            running = false;
        }
    }

    /**
     * Stops after the current batch (a batch still waiting for Kafka after {@code timeout} is given up:
     * its unacknowledged rows are published again later); closes the producer. A relay that stopped
     * gives its lease up, so that another instance publishes at once rather than when it expires.
     *
     * <p>The relay's thread is not interrupted while it works: an interrupt while it waits for
     * acknowledgements would leave rows the broker has written unmarked, and the next holder of the
     * lease would publish them a second time.
     */
    public void stop(Duration timeout) {
        running = false;
        stopping.countDown();
        wake.release();
        try {
            thread.join(timeout.toMillis());
            if (thread.isAlive()) {
                thread.interrupt();
                thread.join(1000);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        probe.close();
        if (!thread.isAlive() && leaseUntil != 0) {
            releaseLease();
        }
        producer.close(Duration.ofSeconds(5));
    }

    /** Gives the lease up: holds it until a moment already past, which any other instance may take over. */
    private void releaseLease() {
        try {
            metadata.inTransaction(tx -> tx.leases().acquire(LEASE, owner, clock.millis() - 1));
            leaseUntil = 0;
        } catch (RuntimeException e) {
            // it expires by itself
            LOG.log(System.Logger.Level.DEBUG, "event relay: lease not given up: " + e.getMessage());
        }
    }

    @Override
    public void close() {
        stop(Duration.ofSeconds(10));
    }
}
