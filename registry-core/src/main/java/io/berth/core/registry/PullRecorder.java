package io.berth.core.registry;

import io.berth.core.metadata.MetadataStore;
import io.berth.core.model.Digest;
import io.berth.core.model.RepositoryName;
import java.time.Clock;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/**
 * Remembers when manifests and blobs were last pulled and writes the times in batches, so a pull
 * never waits for (or contends on) a metadata write. Retention rules read these times later. A
 * replicator's manifest pulls are counted apart and leave the times alone: a copy to another site is
 * not a use, and counting it would keep every replicated image under a last-pull rule.
 */
public final class PullRecorder {
    private record Key(RepositoryName repository, Digest digest) {}

    private final MetadataStore metadata;
    /** When, and the host the pull addressed (the pull event's URL names it). */
    private record Pull(long at, String host) {}

    private final ConcurrentHashMap<Key, Pull> manifests = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<Key, Long> blobs = new ConcurrentHashMap<>();

    private final Clock clock;

    private final EventRecorder events;
    private final boolean pullEvents;

    PullRecorder(MetadataStore metadata, Clock clock, EventRecorder events, boolean pullEvents) {
        this.metadata = metadata;
        this.clock = clock;
        this.events = events;
        this.pullEvents = pullEvents;
    }

    private final LongAdder clientPulls = new LongAdder();
    private final LongAdder replicationPulls = new LongAdder();

    void manifestPulled(RepositoryName repository, Digest digest, String host) {
        clientPulls.increment();
        manifests.put(new Key(repository, digest), new Pull(clock.millis(), host));
    }

    /** A replicator copied a manifest: counted, not a last pull, no pull event. */
    void replicationPull() {
        replicationPulls.increment();
    }

    /** Manifest pulls so far: by replicators, or by every other client. */
    public long manifestPulls(boolean replication) {
        return (replication ? replicationPulls : clientPulls).sum();
    }

    void blobPulled(RepositoryName repository, Digest digest) {
        blobs.put(new Key(repository, digest), clock.millis());
    }

    /** Writes what was recorded since the last flush. */
    public void flush() {
        if (manifests.isEmpty() && blobs.isEmpty()) {
            return;
        }
        Map<Key, Pull> m = drain(manifests);
        Map<Key, Long> b = drain(blobs);
        try {
            metadata.inTransaction(tx -> {
                m.forEach((k, pull) -> tx.manifests().recordPull(k.repository(), k.digest(), pull.at()));
                if (pullEvents) {
                    // aggregated: one event per repository and manifest per flush, however many pulls
                    m.forEach((k, pull) -> events.manifestPulled(tx, k.repository(), k.digest(), pull.host()));
                }
                b.forEach((k, at) -> tx.blobs().recordPull(k.repository(), k.digest(), at));
                return null;
            });
        } catch (RuntimeException | Error e) {
            // nothing was written: put the batch back for the next flush, keeping the latest times
            m.forEach((k, pull) -> manifests.merge(k, pull, (a, c) -> a.at() >= c.at() ? a : c));
            b.forEach((k, at) -> blobs.merge(k, at, Math::max));
            throw e;
        }
    }

    private static <V> Map<Key, V> drain(ConcurrentHashMap<Key, V> source) {
        Map<Key, V> out = new HashMap<>();
        for (Key k : source.keySet()) {
            V v = source.remove(k);
            if (v != null) {
                out.put(k, v);
            }
        }
        return out;
    }
}
