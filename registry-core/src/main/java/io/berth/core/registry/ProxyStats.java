package io.berth.core.registry;

import java.util.concurrent.atomic.LongAdder;

/** What pull-through caches did since start: counters for metrics and the admin API. */
public final class ProxyStats {
    private final LongAdder hits = new LongAdder();
    private final LongAdder misses = new LongAdder();
    private final LongAdder revalidated = new LongAdder();
    private final LongAdder refreshed = new LongAdder();
    private final LongAdder stale = new LongAdder();
    private final LongAdder upstreamFailures = new LongAdder();
    private final LongAdder rejectedBlobs = new LongAdder();
    private final LongAdder upstreamBytes = new LongAdder();
    private final LongAdder savedBytes = new LongAdder();

    void count(CacheOutcome outcome) {
        switch (outcome) {
            case HIT -> hits.increment();
            case MISS -> misses.increment();
            case REVALIDATED -> revalidated.increment();
            case REFRESHED -> refreshed.increment();
            case STALE -> stale.increment();
        }
    }

    void upstreamFailed() {
        upstreamFailures.increment();
    }

    void blobRejected() {
        rejectedBlobs.increment();
    }

    /** A blob of {@code bytes} was fetched from an upstream and stored. */
    void fetched(long bytes) {
        upstreamBytes.add(bytes);
    }

    /** A blob of {@code bytes} was served from the cache: bytes no upstream had to send. */
    void saved(long bytes) {
        savedBytes.add(bytes);
    }

    /** Reads answered (manifests and blobs) with the outcome. */
    public long served(CacheOutcome outcome) {
        return switch (outcome) {
            case HIT -> hits.sum();
            case MISS -> misses.sum();
            case REVALIDATED -> revalidated.sum();
            case REFRESHED -> refreshed.sum();
            case STALE -> stale.sum();
        };
    }

    /** Upstream requests that failed (any kind). */
    public long upstreamFailures() {
        return upstreamFailures.sum();
    }

    /** Blobs whose bytes from an upstream did not match their digest or length (never served, never kept). */
    public long rejectedBlobs() {
        return rejectedBlobs.sum();
    }

    /** Bytes of blobs fetched from upstreams and stored. */
    public long upstreamBytes() {
        return upstreamBytes.sum();
    }

    /** Bytes of blobs served from the cache (GETs that were hits): what no upstream had to send. */
    public long savedBytes() {
        return savedBytes.sum();
    }
}
