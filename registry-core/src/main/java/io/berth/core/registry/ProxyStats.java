package io.berth.core.registry;

import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.ToLongFunction;

/**
 * What pull-through caches did since start, per upstream: counters for metrics and the admin API. Reads
 * of a repository cached from an upstream that is no longer configured count under {@link #REMOVED}.
 */
public final class ProxyStats {
    /** The upstream name under which repositories cached from an upstream no longer configured count. */
    public static final String REMOVED = "(removed)";

    private final Map<String, Counters> byUpstream = new ConcurrentHashMap<>();

    /** One upstream's counters. */
    public static final class Counters {
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

        /** A blob of {@code bytes} was fetched from the upstream and stored. */
        void fetched(long bytes) {
            upstreamBytes.add(bytes);
        }

        /** A blob of {@code bytes} was served from the cache: bytes the upstream did not have to send. */
        void saved(long bytes) {
            savedBytes.add(bytes);
        }

        /** Reads answered (manifests, blobs, tag lists, referrers) with the outcome. */
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

        /** Blobs whose bytes did not match their digest or length (never served, never kept). */
        public long rejectedBlobs() {
            return rejectedBlobs.sum();
        }

        /** Bytes of blobs fetched from the upstream and stored. */
        public long upstreamBytes() {
            return upstreamBytes.sum();
        }

        /** Bytes of blobs served from the cache (GETs that were hits): what the upstream did not have to send. */
        public long savedBytes() {
            return savedBytes.sum();
        }
    }

    /** The counters of the upstream named {@code upstream}, created at its first use. */
    public Counters of(String upstream) {
        return byUpstream.computeIfAbsent(upstream, u -> new Counters());
    }

    /** The upstreams counted so far. */
    public Set<String> upstreams() {
        return new TreeSet<>(byUpstream.keySet());
    }

    private long total(ToLongFunction<Counters> counter) {
        return byUpstream.values().stream().mapToLong(counter).sum();
    }

    /** Reads answered with the outcome, all upstreams together. */
    public long served(CacheOutcome outcome) {
        return total(c -> c.served(outcome));
    }

    /** Upstream requests that failed, all upstreams together. */
    public long upstreamFailures() {
        return total(Counters::upstreamFailures);
    }

    /** Blobs rejected, all upstreams together. */
    public long rejectedBlobs() {
        return total(Counters::rejectedBlobs);
    }

    /** Bytes fetched from upstreams, all together. */
    public long upstreamBytes() {
        return total(Counters::upstreamBytes);
    }

    /** Bytes served from the cache, all upstreams together. */
    public long savedBytes() {
        return total(Counters::savedBytes);
    }
}
