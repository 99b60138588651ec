package io.berth.replicator;

import io.berth.core.error.RegistryException;
import io.berth.core.model.Digest;
import io.berth.core.model.RepositoryName;
import io.berth.core.model.Tag;
import io.berth.events.EventCodec;
import io.berth.events.MalformedEventException;
import io.berth.events.RegistryEvent;
import io.berth.eventstream.EventStream;
import io.berth.oci.OciClient;
import io.berth.oci.Reachability;
import io.github.resilience4j.circuitbreaker.CallNotPermittedException;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.github.resilience4j.core.IntervalFunction;
import io.github.resilience4j.retry.Retry;
import io.github.resilience4j.retry.RetryConfig;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
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
 * One target's replication: its own queue per repository (a repository's events apply in order, up
 * to {@code concurrency} repositories at once), its own retry, circuit breaker and rate limiter, so a
 * slow or dead target holds back only itself. An event that still fails after its retries — or that
 * arrives while the circuit is open — is parked durably on the target's retry topic
 * ({@code <group>.<target>.retry}, acknowledged by Kafka) and retried from there until it succeeds;
 * only then does it count as done for the event stream's offsets. Reconciliation compares the source
 * with the target and copies or deletes what differs.
 */
final class TargetWorker implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(TargetWorker.class.getName());
    /** Beyond this many events waiting, new ones are parked at once rather than queued in memory. */
    static final int MAX_QUEUED = 2000;
    /** Header of a parked event: when the replicator first received it (epoch ms), for the lag. */
    static final String RECEIVED_AT = "berth-received-at";

    private final Copier copier;
    private final Vitals vitals;
    private final ReplicationConfig.Target config;
    private final ReplicationConfig replication;
    private final Producer<String, byte[]> parking;
    private final CircuitBreaker breaker;
    private final Retry retry;
    private final ExecutorService pool;
    private final Map<String, Deque<Runnable>> queues = new HashMap<>();
    private final AtomicInteger queued = new AtomicInteger();
    private final ConcurrentLinkedDeque<Long> pendingSince = new ConcurrentLinkedDeque<>();
    private final Thread retryThread;
    private final Thread probe;
    private final Reachability reachability;
    /** Wakes the retry loop and the probe early (the target answers again, or the worker stops). */
    private final Semaphore wake = new Semaphore(0);

    private volatile Runnable onBack = () -> {};
    private volatile boolean running = true;
    private KafkaConsumer<String, byte[]> retryConsumer;

    // status
    final AtomicLong eventsApplied = new AtomicLong();
    final AtomicLong eventsParked = new AtomicLong();
    final AtomicLong failures = new AtomicLong();
    final AtomicLong parkedWaiting = new AtomicLong();
    /** When the oldest parked event still waiting was first received (epoch ms), 0 when none. */
    private volatile long oldestParked;
    /** Differences found by the reconciliation in progress. */
    private final AtomicInteger reconcilingDifferences = new AtomicInteger();

    private volatile Instant lastSuccess;
    private final Deque<String> lastErrors = new ConcurrentLinkedDeque<>();
    private volatile Reconciliation lastReconciliation;
    private volatile boolean reconciling;
    /** Why the last reconciliation held its deletes, or null. */
    private volatile String held;
    /** An operator allowed the next reconciliation's deletes beyond the budget. */
    private volatile boolean approved;

    /** What one reconciliation found and did. */
    record Reconciliation(
            Instant at,
            long durationMillis,
            int repositories,
            int tags,
            int differences,
            int copied,
            int deleted,
            List<String> errors) {
        boolean inSync() {
            return differences == 0 && errors.isEmpty();
        }
    }

    TargetWorker(
            Copier copier,
            ReplicationConfig replication,
            Producer<String, byte[]> parking,
            CircuitBreaker breaker,
            Reachability reachability) {
        this(copier, replication, parking, breaker, reachability, new Vitals());
    }

    TargetWorker(
            Copier copier,
            ReplicationConfig replication,
            Producer<String, byte[]> parking,
            CircuitBreaker breaker,
            Reachability reachability,
            Vitals vitals) {
        this.vitals = vitals;
        this.copier = copier;
        this.reachability = reachability;
        this.config = copier.config();
        this.replication = replication;
        this.parking = parking;
        this.breaker = breaker;
        this.retry = Retry.of(
                "replication-" + config.name(),
                RetryConfig.custom()
                        .maxAttempts(4)
                        .intervalFunction(IntervalFunction.ofExponentialBackoff(
                                Duration.ofMillis(500), 2.0, Duration.ofSeconds(10)))
                        .retryOnException(e -> running && !(e instanceof CallNotPermittedException))
                        .build());
        this.pool = Executors.newFixedThreadPool(
                config.concurrency(),
                r -> Thread.ofPlatform()
                        .name("berth-replicate-" + config.name())
                        .daemon()
                        .unstarted(r));
        this.retryThread = Thread.ofPlatform()
                .name("berth-replicate-" + config.name() + "-retry")
                .daemon()
                .unstarted(vitals.guard("the retry loop of " + config.name(), this::retryLoop));
        this.probe = Thread.ofPlatform()
                .name("berth-replicate-" + config.name() + "-probe")
                .daemon()
                .unstarted(vitals.guard("the probe of " + config.name(), this::probeLoop));
        reachability.onBack(() -> {
            wake.release(); // parked events are tried at once
            onBack.run();
        });
    }

    /** What to do when the target answers again after being unreachable. */
    void onBack(Runnable r) {
        this.onBack = r;
    }

    String name() {
        return config.name();
    }

    String retryTopic() {
        return replication.group() + "." + config.name() + ".retry";
    }

    void start() {
        if (parking != null) {
            retryThread.start(); // without Kafka nothing is ever parked
        }
        probe.start();
    }

    /** While the target is unreachable, asks it every few seconds whether it is back. */
    private void probeLoop() {
        while (running) {
            try {
                Thread.sleep(5000);
            } catch (InterruptedException e) {
                return;
            }
            if (running && reachability.down()) {
                try {
                    copier.target().ping();
                } catch (IOException e) {
                    // still away; the reachability has it
                }
            }
        }
    }

    // ---- ordered per repository, parallel across repositories

    /** Runs {@code task} after every earlier task of the same repository; up to {@code concurrency} at once. */
    void inOrder(String repository, Runnable task) {
        synchronized (queues) {
            Deque<Runnable> q = queues.get(repository);
            if (q != null) {
                q.addLast(task);
                return;
            }
            queues.put(repository, new ArrayDeque<>());
        }
        pool.execute(() -> drain(repository, task));
    }

    private void drain(String repository, Runnable first) {
        Runnable next = first;
        while (next != null) {
            try {
                next.run();
            } catch (RuntimeException e) {
                LOG.log(System.Logger.Level.ERROR, "replication to " + name() + ": " + e);
            } catch (Error e) {
                // the queue of this repository would wait for ever: the process must be restarted
                vitals.died("the queue of " + repository + " for " + name(), e);
                throw e;
            }
            synchronized (queues) {
                Deque<Runnable> q = queues.get(repository);
                next = q.pollFirst();
                if (next == null) {
                    queues.remove(repository);
                }
            }
        }
    }

    // ---- events

    /**
     * Takes an event of the stream; {@code done} runs once it was applied to this target or parked
     * durably (or when the target does not want it).
     */
    void submit(RegistryEvent event, Runnable done) {
        if (!RepositoryName.isValid(event.repository())) {
            // never put in a URL: a name such as team-a/../../local/app would leave the repositories given
            failed(event.type() + " " + event.subject() + ": refused: not a repository name");
            LOG.log(
                    System.Logger.Level.WARNING,
                    "replication to " + name() + ": event " + event.id() + " names '" + event.repository()
                            + "', which is not a repository name; skipped");
            done.run();
            return;
        }
        if (!config.wants(event.repository())) {
            done.run();
            return;
        }
        long since = System.currentTimeMillis();
        if (queued.get() >= MAX_QUEUED) {
            if (park(event, since)) {
                done.run();
            }
            return;
        }
        queued.incrementAndGet();
        pendingSince.add(since);
        inOrder(event.repository(), () -> {
            boolean finished = false;
            try {
                finished = breaker.getState() == CircuitBreaker.State.OPEN
                        ? park(event, since)
                        : applyWithRetry(event) || park(event, since);
            } finally {
                pendingSince.remove(since);
                queued.decrementAndGet();
                if (finished) {
                    done.run(); // applied or parked; else (shutting down) its offset stays uncommitted
                }
            }
        });
    }

    private boolean applyWithRetry(RegistryEvent event) {
        try {
            Retry.decorateCheckedRunnable(retry, CircuitBreaker.decorateCheckedRunnable(breaker, () -> apply(event)))
                    .run();
            return true;
        } catch (Throwable e) {
            return false;
        }
    }

    /**
     * Brings the target to the source's state for what the event names. The event only says where
     * to look: its names are parsed first (one that is not a repository name, tag or digest is
     * refused, never used in a URL), and what is done is decided by asking the source — an event
     * carries no authority to copy or delete by itself.
     */
    void apply(RegistryEvent event) throws IOException {
        try {
            var target = event.data().target();
            RepositoryName repo = RepositoryName.of(event.repository());
            switch (event.eventType()) {
                case MANIFEST_PUSHED, TAG_CREATED, TAG_MOVED, TAG_DELETED -> {
                    if (target.tag() != null && !target.tag().isEmpty()) {
                        Tag tag = new Tag(target.tag());
                        if (config.wantsTag(tag)) {
                            copier.syncTag(repo, tag);
                        }
                    } else if (target.digest() != null) {
                        copier.syncDigest(repo, Digest.parse(target.digest()));
                    }
                }
                case MANIFEST_DELETED -> copier.syncDigest(repo, Digest.parse(target.digest()));
                case REPOSITORY_DELETED -> copier.deleteRepository(repo, null);
                default -> {
                    // blobs follow their manifests; pulls change nothing
                }
            }
            eventsApplied.incrementAndGet();
            lastSuccess = Instant.now();
        } catch (RegistryException e) {
            // a name, tag or digest that does not parse: nothing to ask the source about, nothing to retry
            failed(event.type() + " " + event.subject() + ": refused: " + e.getMessage());
            LOG.log(
                    System.Logger.Level.WARNING,
                    "replication to " + name() + ": event " + event.id() + " refused: " + e.getMessage());
        } catch (IOException | RuntimeException e) {
            failed(event.type() + " " + event.subject() + ": " + e.getMessage());
            throw e;
        }
    }

    private void failed(String what) {
        failures.incrementAndGet();
        lastErrors.addFirst(Instant.now() + " " + what);
        while (lastErrors.size() > 10) {
            lastErrors.pollLast();
        }
    }

    /**
     * Writes the event to the retry topic and waits for Kafka's acknowledgement (trying until it has
     * it); false only when the worker stops first.
     */
    private boolean park(RegistryEvent event, long receivedAt) {
        ProducerRecord<String, byte[]> r =
                new ProducerRecord<>(retryTopic(), event.repository(), EventCodec.encode(event));
        r.headers().add(RECEIVED_AT, Long.toString(receivedAt).getBytes(StandardCharsets.UTF_8));
        while (running) {
            try {
                parking.send(r).get(30, TimeUnit.SECONDS);
                eventsParked.incrementAndGet();
                if (parkedWaiting.getAndIncrement() == 0 || oldestParked == 0) {
                    oldestParked = receivedAt;
                }
                return true;
            } catch (Exception e) {
                LOG.log(
                        System.Logger.Level.WARNING,
                        "replication to " + name() + ": cannot park an event on " + retryTopic() + " (" + e.getMessage()
                                + "); trying again");
                sleep(2000);
            }
        }
        return false;
    }

    /**
     * Retries parked events in order until each succeeds; commits past each one only then. Each try
     * runs in its repository's queue like any event: never beside another change of that repository,
     * which could read the source's older state and write it after a newer one.
     */
    private void retryLoop() {
        try (KafkaConsumer<String, byte[]> consumer = EventStream.consumer(
                replication.kafka().orElseThrow(), retryTopic(), "berth-replicator-" + config.name() + "-retry", 50)) {
            retryConsumer = consumer;
            consumer.subscribe(List.of(retryTopic()), new ConsumerRebalanceListener() {
                @Override
                public void onPartitionsRevoked(Collection<TopicPartition> partitions) {}

                @Override
                public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
                    countBacklog(consumer, partitions);
                }
            });
            while (running) {
                try {
                    for (ConsumerRecord<String, byte[]> r : consumer.poll(Duration.ofMillis(500))) {
                        RegistryEvent event;
                        try {
                            event = EventCodec.decode(r.value());
                        } catch (MalformedEventException e) {
                            continue;
                        }
                        long receivedAt = receivedAt(r);
                        oldestParked = receivedAt;
                        long backoff = 1000;
                        while (running && !retryInOrder(event)) {
                            try {
                                if (wake.tryAcquire(backoff, TimeUnit.MILLISECONDS)) {
                                    backoff = 1000; // the target answers again: no reason to wait longer
                                } else {
                                    backoff = Math.min(backoff * 2, 60_000);
                                }
                            } catch (InterruptedException e) {
                                Thread.currentThread().interrupt();
                                return;
                            }
                        }
                        if (!running) {
                            return;
                        }
                        if (parkedWaiting.updateAndGet(n -> Math.max(0, n - 1)) == 0) {
                            oldestParked = 0;
                        }
                        try {
                            consumer.commitSync(Map.of(
                                    new TopicPartition(r.topic(), r.partition()),
                                    new OffsetAndMetadata(r.offset() + 1)));
                        } catch (KafkaException e) {
                            // a later commit covers it; a restart applies it again, which is harmless
                        }
                    }
                } catch (WakeupException e) {
                    return;
                } catch (KafkaException e) {
                    sleep(2000);
                }
            }
        }
    }

    /** Parked events left by an earlier run (not yet retried) count as waiting, for status and lag. */
    private void countBacklog(KafkaConsumer<String, byte[]> consumer, Collection<TopicPartition> partitions) {
        try {
            var committed = consumer.committed(new HashSet<>(partitions));
            var begin = consumer.beginningOffsets(partitions);
            long backlog = 0;
            for (var e : consumer.endOffsets(partitions).entrySet()) {
                OffsetAndMetadata c = committed.get(e.getKey());
                backlog += Math.max(0, e.getValue() - (c != null ? c.offset() : begin.getOrDefault(e.getKey(), 0L)));
            }
            long earlier = backlog;
            parkedWaiting.updateAndGet(n -> Math.max(n, earlier));
        } catch (KafkaException e) {
            // unknown for now: the count shows what this run parks
        }
    }

    private static long receivedAt(ConsumerRecord<String, byte[]> r) {
        var h = r.headers().lastHeader(RECEIVED_AT);
        try {
            return h == null ? r.timestamp() : Long.parseLong(new String(h.value(), StandardCharsets.UTF_8));
        } catch (NumberFormatException e) {
            return r.timestamp();
        }
    }

    /** One try of a parked event, in its repository's queue; whether it was applied. */
    boolean retryInOrder(RegistryEvent event) {
        CountDownLatch done = new CountDownLatch(1);
        boolean[] applied = {false};
        try {
            inOrder(event.repository(), () -> {
                try {
                    CircuitBreaker.decorateCheckedRunnable(breaker, () -> apply(event))
                            .run();
                    applied[0] = true;
                } catch (Throwable e) {
                    // tried again after the backoff
                } finally {
                    done.countDown();
                }
            });
            done.await();
        } catch (RejectedExecutionException e) {
            return false; // stopping
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            running = false;
            return false;
        }
        return applied[0];
    }

    // ---- reconciliation

    /** A delete a reconciliation plans: a tag, or a whole repository (tag null), and the tags it removes. */
    private record PlannedDelete(RepositoryName repository, Tag tag, int tags) {}

    /**
     * Lets the next reconciliation make more deletes than the budget allows (an operator's decision,
     * {@code berth replicate --approve-deletes}); the evidence each delete needs is still asked for.
     */
    void approveDeletes() {
        approved = true;
    }

    Copier copier() {
        return copier;
    }

    /** Why deletes are held, or null. */
    String held() {
        return held;
    }

    /**
     * Compares the source's repositories, tags and digests with the target's; copies what differs at
     * once, each repository in its queue after the events before it. Deletes are planned first and
     * made only on positive evidence (see {@link Copier}), and only when the source lists anything at
     * all and the plan stays within the target's delete budget; otherwise the pass holds them, says so
     * in /status and /healthz and waits for an operator.
     */
    synchronized Reconciliation reconcile() {
        reconcilingDifferences.set(0);
        reconciling = true;
        long start = System.nanoTime();
        List<String> errors = Collections.synchronizedList(new ArrayList<>());
        AtomicInteger tags = new AtomicInteger();
        AtomicInteger differences = new AtomicInteger();
        AtomicInteger copied = new AtomicInteger();
        AtomicInteger deleted = new AtomicInteger();
        AtomicInteger onTarget = new AtomicInteger();
        List<PlannedDelete> planned = Collections.synchronizedList(new ArrayList<>());
        List<RepositoryName> repositories = new ArrayList<>();
        try {
            OciClient.Listing<RepositoryName> catalog = copier.source().catalog();
            catalog.refused()
                    .forEach(n -> errors.add(
                            "the source's catalog lists '" + n + "', which is not a " + "repository name: skipped"));
            for (RepositoryName repo : catalog.values()) {
                if (config.wants(repo)) {
                    repositories.add(repo);
                }
            }
            runInQueues(
                    repositories,
                    repo -> reconcileRepository(repo, tags, differences, copied, onTarget, planned, errors),
                    errors);
            if (config.deletes()) {
                Set<RepositoryName> listed = new HashSet<>(repositories);
                OciClient.Listing<RepositoryName> theirs = copier.target().catalog();
                for (RepositoryName dst : theirs.values()) {
                    if (!dst.value().startsWith(config.prefix())) {
                        continue;
                    }
                    RepositoryName repo = RepositoryName.of(
                            dst.value().substring(config.prefix().length()));
                    if (!config.wants(repo) || listed.contains(repo)) {
                        continue;
                    }
                    int held = copier.target()
                            .tags(dst)
                            .map(l -> (int)
                                    l.values().stream().filter(config::wantsTag).count())
                            .orElse(0);
                    if (held == 0) {
                        continue;
                    }
                    onTarget.addAndGet(held);
                    differences.incrementAndGet();
                    reconcilingDifferences.incrementAndGet();
                    if (copier.source().tags(repo).isPresent()) {
                        errors.add("the source is inconsistent: its catalog lacks " + repo + " while its tag list "
                                + "answers; not deleted");
                    } else {
                        planned.add(new PlannedDelete(repo, null, held));
                    }
                }
                long wouldDelete =
                        planned.stream().mapToLong(PlannedDelete::tags).sum();
                // an approval is for the pass that follows it, not a standing permission
                boolean approval = approved;
                approved = false;
                String hold = null;
                if (wouldDelete > 0 && catalog.values().isEmpty()) {
                    hold = "would delete " + wouldDelete + " tags: the source lists no repositories at all (an empty "
                            + "or newly set up registry at its address?)";
                } else if (wouldDelete > config.deleteAllowance(onTarget.get()) && !approval) {
                    hold = "would delete " + wouldDelete + " of the target's " + onTarget.get() + " tags, over its "
                            + "delete-budget of " + config.deleteBudgetPercent() + "% ("
                            + config.deleteAllowance(onTarget.get()) + ")";
                }
                if (hold != null) {
                    if (!hold.equals(held)) {
                        LOG.log(
                                System.Logger.Level.WARNING,
                                "replication to " + name() + ": deletes held: " + hold
                                        + "; nothing deleted. An operator who confirms runs berth replicate --approve-deletes "
                                        + name());
                    }
                    held = hold;
                } else {
                    held = null;
                    if (wouldDelete > 0) {
                        Map<RepositoryName, List<PlannedDelete>> byRepository = new LinkedHashMap<>();
                        planned.forEach(d -> byRepository
                                .computeIfAbsent(d.repository(), r -> new ArrayList<>())
                                .add(d));
                        runInQueues(
                                List.copyOf(byRepository.keySet()),
                                repo -> {
                                    for (PlannedDelete d : byRepository.get(repo)) {
                                        // asked again in the queue: the source may have changed since
                                        if (d.tag() != null) {
                                            if (copier.syncTag(repo, d.tag())) {
                                                deleted.incrementAndGet();
                                            }
                                        } else {
                                            deleted.addAndGet(copier.deleteRepository(repo, catalog));
                                        }
                                    }
                                },
                                errors);
                    }
                }
            }
        } catch (IOException | RuntimeException e) {
            errors.add(e.getMessage() == null ? e.toString() : e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            errors.add("interrupted");
        }
        Reconciliation r = new Reconciliation(
                Instant.now(),
                (System.nanoTime() - start) / 1_000_000,
                repositories.size(),
                tags.get(),
                differences.get(),
                copied.get(),
                deleted.get(),
                List.copyOf(errors));
        errors.forEach(e -> failed("reconcile: " + e));
        lastReconciliation = r;
        reconciling = false;
        reconcilingDifferences.set(0);
        // INFO even with errors: an unreachable target is already its one WARN (Reachability)
        LOG.log(
                System.Logger.Level.INFO,
                "reconciled " + name()
                        + ": " + r.repositories() + " repositories, " + r.tags() + " tags, " + r.differences()
                        + " differences ("
                        + r.copied() + " copied, " + r.deleted() + " deleted" + (held == null ? "" : ", deletes held")
                        + ") in "
                        + r.durationMillis() + " ms" + (r.errors().isEmpty() ? "" : ", errors: " + r.errors()));
        return r;
    }

    /** A step of a reconciliation for one repository. */
    private interface RepositoryStep {
        void run(RepositoryName repository) throws IOException;
    }

    /** Runs {@code step} for each repository in its queue and waits for all; failures become errors. */
    private void runInQueues(List<RepositoryName> repositories, RepositoryStep step, List<String> errors)
            throws InterruptedException {
        CountDownLatch done = new CountDownLatch(repositories.size());
        for (RepositoryName repo : repositories) {
            inOrder(repo.value(), () -> {
                try {
                    step.run(repo);
                } catch (IOException | RuntimeException e) {
                    errors.add(repo + ": " + e.getMessage());
                } finally {
                    done.countDown();
                }
            });
        }
        done.await();
    }

    private void reconcileRepository(
            RepositoryName repo,
            AtomicInteger tags,
            AtomicInteger differences,
            AtomicInteger copied,
            AtomicInteger onTarget,
            List<PlannedDelete> planned,
            List<String> errors)
            throws IOException {
        RepositoryName dst = config.destination(repo);
        OciClient.Listing<Tag> listed = copier.source()
                .tags(repo)
                .orElseThrow(() -> new IOException("the source's " + "catalog lists " + repo
                        + " but its tag list answers 404: not compared, nothing deleted"));
        listed.refused()
                .forEach(
                        t -> errors.add(repo + ": the source lists tag '" + t + "', which is not a tag: " + "skipped"));
        List<Tag> sourceTags = listed.values().stream().filter(config::wantsTag).toList();
        Map<Tag, Digest> want = digests(copier.source(), repo, sourceTags);
        for (Tag t : sourceTags) {
            if (!want.containsKey(t)) {
                errors.add(repo + ": the source lists tag " + t + " but HEAD of it answers 404: not copied, not "
                        + "deleted");
            }
        }
        List<Tag> targetTags = copier.target().tags(dst).map(OciClient.Listing::values).orElse(List.of()).stream()
                .filter(config::wantsTag)
                .toList();
        Map<Tag, Digest> have = digests(copier.target(), dst, targetTags);
        tags.addAndGet(want.size());
        onTarget.addAndGet(have.size());
        for (Map.Entry<Tag, Digest> e : want.entrySet()) {
            if (!e.getValue().equals(have.get(e.getKey()))) {
                differences.incrementAndGet();
                reconcilingDifferences.incrementAndGet();
                // the digests just asked, in this repository's queue: not asked again
                if (copier.syncTag(
                        repo, e.getKey(), Optional.of(e.getValue()), Optional.ofNullable(have.get(e.getKey())))) {
                    copied.incrementAndGet();
                }
            }
        }
        if (config.deletes()) {
            Set<Tag> onSource = new HashSet<>(sourceTags);
            for (Tag tag : have.keySet()) {
                if (!onSource.contains(tag)) {
                    differences.incrementAndGet();
                    reconcilingDifferences.incrementAndGet();
                    planned.add(new PlannedDelete(repo, tag, 1));
                }
            }
        }
    }

    private static Map<Tag, Digest> digests(OciClient registry, RepositoryName repo, List<Tag> tags)
            throws IOException {
        Map<Tag, Digest> out = new LinkedHashMap<>();
        for (Tag tag : tags) {
            registry.manifestDigest(repo, tag).ifPresent(digest -> out.put(tag, digest));
        }
        return out;
    }

    // ---- status

    /** The target as /status shows it. */
    Map<String, Object> status() {
        Map<String, Object> s = new LinkedHashMap<>();
        Reconciliation r = lastReconciliation;
        s.put("name", name());
        s.put("url", config.endpoint().url().toString());
        s.put("state", state());
        if (held != null) {
            s.put("held", held);
        }
        s.put("deletes", copier.deletes.get());
        s.put("circuit", breaker.getState().name().toLowerCase());
        if (reachability.down()) {
            s.put("unreachableSince", reachability.downSince().toString());
            s.put("unreachable", reachability.lastFailure());
        }
        s.put("lagEvents", lagEvents());
        s.put("lagSeconds", lagSeconds());
        s.put("parkedWaiting", parkedWaiting.get());
        s.put("eventsApplied", eventsApplied.get());
        s.put("eventsParked", eventsParked.get());
        s.put("bytesCopied", copier.bytesCopied.get());
        s.put("manifestsCopied", copier.manifestsCopied.get());
        s.put("blobsMounted", copier.blobsMounted.get());
        s.put("lastSuccess", lastSuccess == null ? null : lastSuccess.toString());
        if (r != null) {
            Map<String, Object> rec = new LinkedHashMap<>();
            rec.put("at", r.at().toString());
            rec.put("durationMillis", r.durationMillis());
            rec.put("repositories", r.repositories());
            rec.put("tags", r.tags());
            rec.put("differences", r.differences());
            rec.put("copied", r.copied());
            rec.put("deleted", r.deleted());
            rec.put("errors", r.errors());
            s.put("lastReconciliation", rec);
        }
        s.put("lastErrors", List.copyOf(lastErrors));
        return s;
    }

    /**
     * {@code unreachable} while requests to the target get no answer (until one does, whatever the
     * circuit) or its circuit is open; {@code in-sync} once a reconciliation completed without errors
     * (what it found different, it copied or deleted) and no event waits, queued or parked — at once,
     * not at the next reconciliation; else {@code syncing}.
     */
    String state() {
        Reconciliation r = lastReconciliation;
        if (reachability.down() || breaker.getState() == CircuitBreaker.State.OPEN) {
            return "unreachable";
        }
        if (held != null) {
            return "held";
        }
        if (r == null
                || !r.errors().isEmpty()
                || lagEvents() > 0
                || (reconciling && reconcilingDifferences.get() > 0)) {
            return "syncing";
        }
        return "in-sync";
    }

    Reconciliation lastReconciliation() {
        return lastReconciliation;
    }

    /** How long the oldest event not yet applied — queued or parked — has waited. */
    double lagSeconds() {
        long oldest = pendingSince.stream().mapToLong(Long::longValue).min().orElse(0);
        long parked = parkedWaiting.get() > 0 ? oldestParked : 0;
        if (parked != 0 && (oldest == 0 || parked < oldest)) {
            oldest = parked;
        }
        return oldest == 0 ? 0 : Math.max(0, System.currentTimeMillis() - oldest) / 1000.0;
    }

    long lagEvents() {
        return queued.get() + parkedWaiting.get();
    }

    private void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            running = false;
        }
    }

    @Override
    public void close() {
        running = false;
        wake.release();
        probe.interrupt();
        KafkaConsumer<String, byte[]> c = retryConsumer;
        if (c != null) {
            c.wakeup();
        }
        pool.shutdownNow();
        try {
            retryThread.join(5000);
            pool.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
