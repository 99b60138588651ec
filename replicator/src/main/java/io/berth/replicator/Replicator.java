package io.berth.replicator;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.berth.events.EventCodec;
import io.berth.events.MalformedEventException;
import io.berth.events.RegistryEvent;
import io.berth.eventstream.EventStream;
import io.berth.eventstream.OpsResponses;
import io.berth.oci.OciClient;
import io.berth.oci.Reachability;
import io.berth.oci.Tls;
import io.github.resilience4j.circuitbreaker.CircuitBreakerConfig;
import io.github.resilience4j.circuitbreaker.CircuitBreakerRegistry;
import io.github.resilience4j.micrometer.tagged.TaggedCircuitBreakerMetrics;
import io.github.resilience4j.ratelimiter.RateLimiter;
import io.github.resilience4j.ratelimiter.RateLimiterConfig;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;

/**
 * {@code berth replicate}: consumes the event topic and hands each event to every target's worker;
 * reconciles every target at start and every {@code reconcile-interval}; serves {@code /healthz},
 * {@code /metrics} and {@code /status}. Offsets are committed only past events every target has
 * applied or parked.
 */
public final class Replicator implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(Replicator.class.getName());
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    private static final ObjectMapper COMPACT = new ObjectMapper();
    /** Beyond this many records in flight, consuming pauses until the targets catch up. */
    static final int MAX_IN_FLIGHT = 10_000;

    private final ReplicationConfig config;
    private final PrometheusMeterRegistry meters;
    private final Producer<String, byte[]> parking;
    private final List<TargetWorker> workers = new ArrayList<>();
    private final OffsetTracker offsets = new OffsetTracker();
    private final ScheduledExecutorService reconciler;
    private final Thread pump;
    private volatile boolean running = true;
    private volatile KafkaConsumer<String, byte[]> consumer;
    private HttpServer http;
    private volatile Instant lastEvent;
    private final Vitals vitals = new Vitals();
    private final Reachability sourceReachability;
    private final List<Reachability> targetReachability = new ArrayList<>();

    public Replicator(ReplicationConfig config, PrometheusMeterRegistry meters) {
        this.config = config;
        this.meters = meters;
        this.parking = config.kafka()
                .map(k -> (Producer<String, byte[]>) EventStream.producer(k, "berth-replicator-retry", Map.of()))
                .orElse(null);
        CircuitBreakerRegistry breakers = CircuitBreakerRegistry.of(CircuitBreakerConfig.custom()
                .failureRateThreshold(50)
                .minimumNumberOfCalls(5)
                .slidingWindowSize(10)
                .waitDurationInOpenState(Duration.ofSeconds(10))
                .build());
        TaggedCircuitBreakerMetrics.ofCircuitBreakerRegistry(breakers).bindTo(meters);
        Duration timeout = config.timeout();
        this.sourceReachability =
                new Reachability("replication source " + config.source().url());
        OciClient source = new OciClient(
                config.source().url(),
                config.source().username(),
                config.source().password(),
                Tls.context(config.source()),
                timeout,
                sourceReachability,
                config.manifestsMaxSize(),
                config.source().tokenRealms());
        for (ReplicationConfig.Target t : config.targets()) {
            RateLimiter limiter = t.bytesPerSecond() <= 0
                    ? null
                    : RateLimiter.of(
                            "replication-" + t.name(),
                            RateLimiterConfig.custom()
                                    .limitRefreshPeriod(Duration.ofMillis(100))
                                    .limitForPeriod((int)
                                            Math.max(1, Math.min(Integer.MAX_VALUE, t.bytesPerSecond() / 1024 / 10)))
                                    .timeoutDuration(Duration.ofMinutes(10))
                                    .build());
            Reachability reachability = new Reachability(
                    "replication target " + t.name() + " (" + t.endpoint().url() + ")");
            targetReachability.add(reachability);
            OciClient target = new OciClient(
                    t.endpoint().url(),
                    t.endpoint().username(),
                    t.endpoint().password(),
                    Tls.context(t.endpoint()),
                    timeout,
                    reachability,
                    config.manifestsMaxSize(),
                    t.endpoint().tokenRealms());
            Copier copier = new Copier(source, target, t, limiter);
            // every delete on a target is also a record on <group>.deletes (key: the target), for audit
            copier.onDelete((what, why) -> emitDelete(t.name(), what, why));
            TargetWorker w = new TargetWorker(
                    copier, config, parking, breakers.circuitBreaker("replication-" + t.name()), reachability, vitals);
            workers.add(w);
            String[] tags = {"target", t.name()};
            FunctionCounter.builder("berth.replication.bytes.copied", copier, c -> c.bytesCopied.get())
                    .tags(tags)
                    .description("Blob bytes copied to the target.")
                    .register(meters);
            FunctionCounter.builder("berth.replication.manifests.copied", copier, c -> c.manifestsCopied.get())
                    .tags(tags)
                    .description("Manifests copied to the target.")
                    .register(meters);
            FunctionCounter.builder("berth.replication.blobs.mounted", copier, c -> c.blobsMounted.get())
                    .tags(tags)
                    .description("Blobs mounted from another repository of the target instead of copied.")
                    .register(meters);
            FunctionCounter.builder("berth.replication.failures", w, x -> x.failures.get())
                    .tags(tags)
                    .description("Attempts that failed (an event, a reconciliation of a repository).")
                    .register(meters);
            FunctionCounter.builder("berth.replication.deletes", copier, c -> c.deletes.get())
                    .tags(tags)
                    .description("Tags and manifests deleted on the target, each on evidence from the source.")
                    .register(meters);
            Gauge.builder("berth.replication.deletes.held", w, x -> x.held() == null ? 0 : 1)
                    .tags(tags)
                    .description("1 while the target's deletes are held for an operator.")
                    .register(meters);
            FunctionCounter.builder("berth.replication.events.parked", w, x -> x.eventsParked.get())
                    .tags(tags)
                    .description("Events parked on the target's retry topic.")
                    .register(meters);
            Gauge.builder("berth.replication.lag.events", w, TargetWorker::lagEvents)
                    .tags(tags)
                    .description("Events not yet applied to the target (queued or parked).")
                    .register(meters);
            Gauge.builder("berth.replication.lag.seconds", w, TargetWorker::lagSeconds)
                    .tags(tags)
                    .description("How long the oldest queued or parked event has waited.")
                    .register(meters);
            Gauge.builder("berth.replication.in.sync", w, x -> x.state().equals("in-sync") ? 1 : 0)
                    .tags(tags)
                    .description("1 when the last reconciliation found no difference and nothing waits.")
                    .register(meters);
        }
        this.reconciler = Executors.newScheduledThreadPool(
                workers.size(),
                r -> Thread.ofPlatform().name("berth-reconcile").daemon().unstarted(r));
        this.pump = Thread.ofPlatform()
                .name("berth-replicate-events")
                .daemon()
                .unstarted(vitals.guard("the event pump", this::pumpEvents));
    }

    /** Starts the listener, the workers, the event stream and the reconciliations; returns the port. */
    public int start() throws IOException {
        http = HttpServer.create(new InetSocketAddress(config.httpHost(), config.httpPort()), 16);
        http.createContext(
                "/healthz", x -> send(x, vitals.dead() == null ? 200 : 503, "text/plain; charset=utf-8", health()));
        http.createContext("/metrics", x -> send(x, 200, "text/plain; version=0.0.4; charset=utf-8", meters.scrape()));
        http.createContext("/status", x -> send(x, 200, "application/json", JSON.writeValueAsString(status())));
        http.setExecutor(null);
        http.start();
        workers.forEach(TargetWorker::start);
        if (config.events()) {
            pump.start();
        }
        long every = config.reconcileInterval().toMillis();
        for (TargetWorker w : workers) {
            // an Error ends the schedule for good: reported as a dead loop, never silently
            Runnable reconcile = vitals.guard("the reconciliation of " + w.name(), () -> {
                try {
                    w.reconcile();
                } catch (RuntimeException e) {
                    LOG.log(System.Logger.Level.WARNING, "reconciling " + w.name() + ": " + e);
                }
            });
            reconciler.scheduleWithFixedDelay(reconcile, 0, every, TimeUnit.MILLISECONDS);
            // a target that answers again is compared at once: what it missed is copied, and it can be
            // reported in sync without waiting for the next interval
            w.onBack(() -> reconciler.execute(reconcile));
        }
        return http.getAddress().getPort();
    }

    private String health() {
        StringBuilder b = new StringBuilder();
        // a remote that does not answer, or answers too slowly to finish an exchange, degrades the replicator
        boolean ok = workers.stream()
                        .noneMatch(w ->
                                w.state().equals("unreachable") || w.state().equals("held"))
                && sourceReachability.stuckOn() == null
                && !sourceReachability.down()
                && targetReachability.stream().allMatch(r -> r.stuckOn() == null);
        String dead = vitals.dead();
        b.append("status: ")
                .append(dead != null ? "failed: " + dead : ok ? "ok" : "degraded")
                .append('\n');
        b.append("source: ")
                .append(
                        sourceReachability.down()
                                ? "unreachable: " + sourceReachability.lastFailure()
                                : sourceReachability.stuckOn() != null
                                        ? "stuck: " + sourceReachability.stuckOn()
                                        : "ok")
                .append('\n');
        for (int i = 0; i < workers.size(); i++) {
            TargetWorker w = workers.get(i);
            String stuck = targetReachability.get(i).stuckOn();
            b.append("target ")
                    .append(w.name())
                    .append(": ")
                    .append(w.state())
                    .append(stuck == null ? "" : " (stuck: " + stuck + ")")
                    .append('\n');
        }
        return b.toString();
    }

    /** What /status answers. */
    public Map<String, Object> status() {
        Map<String, Object> s = new LinkedHashMap<>();
        s.put("source", config.source().url().toString());
        s.put("topic", config.topic());
        s.put("eventsInFlight", offsets.inFlight());
        s.put("lastEvent", lastEvent == null ? null : lastEvent.toString());
        List<Map<String, Object>> targets = new ArrayList<>();
        workers.forEach(w -> targets.add(w.status()));
        s.put("targets", targets);
        return s;
    }

    /** The topic every delete on a target is written to when Kafka is configured. */
    public String deletesTopic() {
        return config.group() + ".deletes";
    }

    private void emitDelete(String target, String what, String why) {
        if (parking == null) {
            return; // without Kafka the log line is the record
        }
        Map<String, String> record = new LinkedHashMap<>();
        record.put("type", "io.berth.replication.deleted");
        record.put("time", Instant.now().toString());
        record.put("source", config.source().url().toString());
        record.put("target", target);
        record.put("deleted", what);
        record.put("why", why);
        try {
            parking.send(new ProducerRecord<>(deletesTopic(), target, COMPACT.writeValueAsBytes(record)), (m, e) -> {
                if (e != null) {
                    LOG.log(
                            System.Logger.Level.WARNING,
                            "the delete of " + what + " on " + target + " was not written to " + deletesTopic() + ": "
                                    + e);
                }
            });
        } catch (JsonProcessingException | RuntimeException e) {
            LOG.log(
                    System.Logger.Level.WARNING,
                    "the delete of " + what + " on " + target + " was not written to " + deletesTopic() + ": " + e);
        }
    }

    /** What to do when a loop of the replicator died: the command stops the process, non-zero. */
    public void onDeath(Consumer<String> listener) {
        vitals.onDeath(listener);
    }

    /** Lets the next reconciliation of these targets delete beyond their delete budget (an operator's call). */
    public void approveDeletes(Set<String> targets) {
        for (String t : targets) {
            workers.stream()
                    .filter(w -> w.name().equals(t))
                    .findFirst()
                    .orElseThrow(() ->
                            new IllegalArgumentException("--approve-deletes names " + t + ", which is not a target"))
                    .approveDeletes();
        }
    }

    /** Reconciles every target now, in the calling thread (tests, benchmarks). */
    public List<TargetWorker.Reconciliation> reconcileNow() {
        List<TargetWorker.Reconciliation> out = new ArrayList<>();
        workers.forEach(w -> out.add(w.reconcile()));
        return out;
    }

    private void pumpEvents() {
        try (KafkaConsumer<String, byte[]> c =
                EventStream.consumer(config.kafka().orElseThrow(), config.group(), "berth-replicator", 500)) {
            consumer = c;
            c.subscribe(List.of(config.topic()), new ConsumerRebalanceListener() {
                @Override
                public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
                    commit(c);
                    offsets.forget(partitions);
                }

                @Override
                public void onPartitionsAssigned(Collection<TopicPartition> partitions) {}
            });
            long lastCommit = System.nanoTime();
            boolean paused = false;
            while (running) {
                try {
                    for (ConsumerRecord<String, byte[]> r : c.poll(Duration.ofMillis(200))) {
                        dispatch(r);
                    }
                    int inFlight = offsets.inFlight();
                    if (!paused && inFlight > MAX_IN_FLIGHT) {
                        c.pause(c.assignment());
                        paused = true;
                    } else if (paused && inFlight < MAX_IN_FLIGHT / 2) {
                        c.resume(c.paused());
                        paused = false;
                    }
                    if (System.nanoTime() - lastCommit > TimeUnit.MILLISECONDS.toNanos(500)) {
                        commit(c);
                        lastCommit = System.nanoTime();
                    }
                } catch (WakeupException e) {
                    break;
                } catch (KafkaException e) {
                    LOG.log(System.Logger.Level.WARNING, "event stream: " + e.getMessage() + "; going on");
                    sleep(2000);
                }
            }
            commit(c);
        } catch (WakeupException e) {
            // stopping
        }
    }

    private void dispatch(ConsumerRecord<String, byte[]> r) {
        TopicPartition tp = new TopicPartition(r.topic(), r.partition());
        RegistryEvent event;
        try {
            event = EventCodec.decode(r.value());
        } catch (MalformedEventException e) {
            LOG.log(
                    System.Logger.Level.WARNING,
                    "record " + r.partition() + "/" + r.offset() + " is not an event (" + e.getMessage()
                            + "); skipped");
            offsets.started(tp, r.offset(), 1);
            offsets.finished(tp, r.offset());
            return;
        }
        lastEvent = Instant.now();
        offsets.started(tp, r.offset(), workers.size());
        for (TargetWorker w : workers) {
            w.submit(event, () -> offsets.finished(tp, r.offset()));
        }
    }

    private void commit(KafkaConsumer<String, byte[]> c) {
        Map<TopicPartition, OffsetAndMetadata> ready = offsets.committable();
        if (ready.isEmpty()) {
            return;
        }
        try {
            c.commitSync(ready);
        } catch (KafkaException e) {
            // a later commit covers it; a restart applies those events again, which is harmless
        }
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void send(HttpExchange x, int status, String type, String body) throws IOException {
        OpsResponses.send(x, status, type, body);
    }

    @Override
    public void close() {
        running = false;
        KafkaConsumer<String, byte[]> c = consumer;
        if (c != null) {
            c.wakeup();
        }
        try {
            pump.join(10_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        reconciler.shutdownNow();
        workers.forEach(TargetWorker::close);
        if (http != null) {
            http.stop(0);
        }
        if (parking != null) {
            parking.close(Duration.ofSeconds(5));
        }
    }
}
