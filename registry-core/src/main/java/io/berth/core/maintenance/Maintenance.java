package io.berth.core.maintenance;

import io.berth.core.eviction.CacheEviction;
import io.berth.core.gc.GarbageCollector;
import io.berth.core.registry.Registry;
import io.berth.core.retention.Retention;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.time.Duration;
import java.util.UUID;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * The jobs that work over the whole registry: online garbage collection, retention and eviction of
 * pull-through caches' content, with their schedules. Built beside the {@link Registry} from the parts it uses, so that the engine
 * knows nothing of them (no package cycle), and closed before the registry: a collection in flight
 * stops, and a scheduled retention run in flight ends, before the stores they work on close.
 */
public final class Maintenance implements AutoCloseable {
    private static final Logger LOG = System.getLogger(Maintenance.class.getName());
    /** How often due retention policies are looked for. */
    static final Duration RETENTION_CHECK = Duration.ofSeconds(30);
    /** How long a stop waits for a scheduled retention run in flight. */
    static final Duration RUN_WAIT = Duration.ofSeconds(10);

    private final GarbageCollector gc;
    private final Retention retention;
    private final CacheEviction eviction;
    private final Duration evictEvery;
    private final String instance = UUID.randomUUID().toString();
    private volatile boolean stopping;
    private ScheduledExecutorService jobs;
    private ScheduledExecutorService evictions;

    public Maintenance(Registry registry) {
        this.gc =
                new GarbageCollector(registry.metadata(), registry.blobStore(), registry.manifests(), registry.clock());
        this.retention = new Retention(registry.metadata(), registry.manifests(), registry.clock());
        this.eviction = new CacheEviction(registry, gc);
        this.evictEvery = registry.proxy().settings().evictInterval();
    }

    /** Eviction and purge of pull-through caches' content (admin API). */
    public CacheEviction eviction() {
        return eviction;
    }

    /** Online garbage collection (admin API). */
    public GarbageCollector gc() {
        return gc;
    }

    /** Retention policies, dry runs and runs (admin API). */
    public Retention retention() {
        return retention;
    }

    /**
     * Starts the background work of a serving process: resumes a collection interrupted by a crash
     * and runs due retention policies every 30 seconds (one instance at a time, by lease).
     */
    public synchronized void start() {
        if (jobs != null) {
            return;
        }
        gc.resumeInterrupted();
        jobs = Executors.newSingleThreadScheduledExecutor(
                r -> Thread.ofPlatform().name("berth-retention").daemon().unstarted(r));
        long every = RETENTION_CHECK.toMillis();
        jobs.scheduleWithFixedDelay(this::runDueRetention, every, every, TimeUnit.MILLISECONDS);
        evictions = Executors.newSingleThreadScheduledExecutor(
                r -> Thread.ofPlatform().name("berth-eviction").daemon().unstarted(r));
        long evict = evictEvery.toMillis();
        evictions.scheduleWithFixedDelay(this::runEviction, evict, evict, TimeUnit.MILLISECONDS);
    }

    private void runEviction() {
        if (stopping) {
            return;
        }
        try {
            eviction.runOnce(instance);
        } catch (RuntimeException e) {
            LOG.log(Level.WARNING, "cache eviction: " + e.getMessage());
        }
    }

    private void runDueRetention() {
        try {
            retention.runDue(instance, () -> stopping);
        } catch (RuntimeException e) {
            LOG.log(Level.WARNING, "scheduled retention: " + e.getMessage());
        }
    }

    /**
     * Stops the schedule — no policy starts after this, and a run already deleting is waited for (up
     * to {@link #RUN_WAIT}) so that the stores do not close under it — then stops garbage collection.
     */
    @Override
    public synchronized void close() {
        stopping = true;
        if (jobs != null) {
            jobs.shutdown();
            try {
                if (!jobs.awaitTermination(RUN_WAIT.toMillis(), TimeUnit.MILLISECONDS)) {
                    LOG.log(
                            Level.WARNING,
                            "a scheduled retention run did not end within " + RUN_WAIT.toSeconds() + "s of the stop");
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            jobs.shutdownNow();
        }
        if (evictions != null) {
            evictions.shutdown();
            try {
                evictions.awaitTermination(RUN_WAIT.toMillis(), TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            evictions.shutdownNow();
        }
        gc.close();
    }
}
