package io.berth.core.registry;

import io.berth.core.blob.BlobStore;
import io.berth.core.blob.BufferPool;
import io.berth.core.metadata.MetadataStore;
import io.berth.core.proxy.Upstreams;
import java.io.IOException;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * The registry engine: every rule of the OCI distribution model, over a {@link BlobStore} and a
 * {@link MetadataStore}. Protocol layers (HTTP, gRPC) call it and translate; they hold no rule.
 */
public final class Registry implements AutoCloseable {
    private static final Logger LOG = System.getLogger(Registry.class.getName());

    private final BlobStore blobStore;
    private final MetadataStore metadata;
    private final RegistryOptions options;
    private final PullRecorder pulls;
    private final StorageHealth storageHealth = new StorageHealth();
    private final EventRecorder events;
    private final Immutability immutability;
    private final Tags tags;
    private final Repositories repositories;
    private final Uploads uploads;
    private final Blobs blobs;
    private final Manifests manifests;
    private final Listings listings;
    private final PullThrough proxy;
    private final ScheduledExecutorService housekeeping;
    private final EventLog eventLog;
    private final Clock clock;
    private final BufferPool hashBuffers;
    private final List<AutoCloseable> alsoClose = new CopyOnWriteArrayList<>();

    public Registry(BlobStore blobStore, MetadataStore metadata, RegistryOptions options) {
        this(blobStore, metadata, options, Clock.systemUTC());
    }

    /** As above, with the clock that timestamps sessions and pulls and decides expiry (tests move it). */
    public Registry(BlobStore blobStore, MetadataStore metadata, RegistryOptions options, Clock clock) {
        this(blobStore, metadata, options, clock, Upstreams.none());
    }

    /**
     * As above, with the upstreams of pull-through caches: the repositories they route are served
     * through {@link #proxy()} and refuse client writes.
     */
    public Registry(
            BlobStore blobStore, MetadataStore metadata, RegistryOptions options, Clock clock, Upstreams upstreams) {
        ProxyGuard guard = new ProxyGuard(upstreams, metadata, clock);
        this.blobStore = blobStore;
        this.metadata = metadata;
        this.options = options;
        this.clock = clock;
        this.events = new EventRecorder(options);
        this.pulls = new PullRecorder(metadata, clock, events, options.pullEvents());
        // hashing buffers: up to 8 per upload in flight, shared, allocated as bytes arrive
        this.hashBuffers = BufferPool.heap(
                "hashing", 1 << 16, 8 * Math.min(options.maxConcurrentUploads(), 64), Duration.ofSeconds(30));
        this.uploads = new Uploads(blobStore, metadata, storageHealth, options, clock, hashBuffers, events, guard);
        this.blobs = new Blobs(blobStore, metadata, pulls, storageHealth, events, guard);
        this.manifests = new Manifests(metadata, pulls, options, events, guard);
        this.listings = new Listings(metadata, options);
        this.immutability = new Immutability(metadata);
        this.tags = new Tags(metadata, manifests, uploads, guard);
        this.proxy = new PullThrough(guard, metadata, manifests, uploads, listings, options, clock);
        this.repositories = new Repositories(metadata, events);
        this.housekeeping = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "berth-housekeeping");
            t.setDaemon(true);
            return t;
        });
        long flush = options.pullFlushInterval().toMillis();
        housekeeping.scheduleWithFixedDelay(this::flushPulls, flush, flush, TimeUnit.MILLISECONDS);
        long purge = options.uploadPurgeInterval().toMillis();
        housekeeping.scheduleWithFixedDelay(this::purgeUploads, purge, purge, TimeUnit.MILLISECONDS);
        this.eventLog = new EventLog(metadata, events, options.eventsRetention(), clock);
        if (!options.eventsPublished()) {
            // no relay prunes the outbox: events recorded for the admin API (and any left from a time with
            // Kafka) would pile up
            housekeeping.scheduleWithFixedDelay(this::pruneEvents, 60_000, 600_000, TimeUnit.MILLISECONDS);
        }
    }

    /** Immutability rules (admin API). */
    public Immutability immutability() {
        return immutability;
    }

    /** Tags with details, retag and promotion, history and restore (admin API). */
    public Tags tags() {
        return tags;
    }

    /** Repositories with details, their manifests, deleting one (admin API). */
    public Repositories repositories() {
        return repositories;
    }

    /** Pull-through caches: reads of proxied repositories (see {@link PullThrough#proxied}). */
    public PullThrough proxy() {
        return proxy;
    }

    public Uploads uploads() {
        return uploads;
    }

    public Blobs blobs() {
        return blobs;
    }

    public Manifests manifests() {
        return manifests;
    }

    public Listings listings() {
        return listings;
    }

    /** The recorder of events into the outbox (the relay listens to its commits). */
    public EventRecorder events() {
        return events;
    }

    /** The events the outbox keeps, for readers without Kafka (admin API). */
    public EventLog eventLog() {
        return eventLog;
    }

    /**
     * Removes events older than {@code events.retention} that no relay waits for (also done every 10
     * minutes when no broker is configured; with one, the relay prunes what it published).
     */
    public int pruneEvents() {
        try {
            long before = clock.millis() - options.eventsRetention().toMillis();
            return metadata.inTransaction(tx -> tx.outbox().pruneSent(before));
        } catch (RuntimeException e) {
            LOG.log(Level.WARNING, "could not prune events: " + e.getMessage());
            return 0;
        }
    }

    /** Whether blob storage is failing writes now (health reporting). */
    public StorageHealth storageHealth() {
        return storageHealth;
    }

    /** The registry's clock. */
    public Clock clock() {
        return clock;
    }

    /** Hashing buffers in use now (a gauge). */
    public int hashBuffersInUse() {
        return hashBuffers.inUse();
    }

    public RegistryOptions options() {
        return options;
    }

    public MetadataStore metadata() {
        return metadata;
    }

    public BlobStore blobStore() {
        return blobStore;
    }

    /** Throws when storage or metadata cannot be used now. */
    public void checkReady() throws IOException {
        blobStore.checkAvailable();
        metadata.checkAvailable();
    }

    /** Manifest pulls counted since start: by replicators ({@code auth.replicators}), or by other clients. */
    public long manifestPulls(boolean replication) {
        return pulls.manifestPulls(replication);
    }

    /** Writes recorded pull times now (also done periodically and on close). */
    public void flushPulls() {
        try {
            pulls.flush();
        } catch (RuntimeException e) {
            LOG.log(Level.WARNING, "could not record pull times: " + e.getMessage());
        }
    }

    /** Removes expired upload sessions now (also done periodically). */
    public int purgeUploads() {
        try {
            return uploads.purgeExpired(options.uploadExpiry().toMillis());
        } catch (IOException | RuntimeException e) {
            LOG.log(Level.WARNING, "could not purge expired uploads: " + e.getMessage());
            return 0;
        }
    }

    /** Something to close after the stores (the data locks). */
    public void closeWith(AutoCloseable resource) {
        alsoClose.add(resource);
    }

    @Override
    public void close() {
        housekeeping.shutdownNow();
        flushPulls();
        try {
            blobStore.close();
        } catch (IOException e) {
            LOG.log(Level.WARNING, "closing blob store: " + e.getMessage());
        }
        metadata.close();
        for (AutoCloseable resource : alsoClose) {
            try {
                resource.close();
            } catch (Exception e) {
                LOG.log(Level.WARNING, "closing " + resource + ": " + e.getMessage());
            }
        }
    }
}
