package io.berth.replicator;

import java.util.Collection;
import java.util.HashMap;
import java.util.Map;
import java.util.TreeMap;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;

/**
 * Which records of the event stream every target has finished (applied, or parked durably): the
 * offset committed for a partition is just past the longest run of finished records from the start,
 * so a crash replays only unfinished ones (replays are harmless) and never skips any.
 */
final class OffsetTracker {
    /** Per partition: offset → targets still to finish it. */
    private final Map<TopicPartition, TreeMap<Long, Integer>> open = new HashMap<>();

    private final Map<TopicPartition, Long> next = new HashMap<>();
    private int inFlight;

    synchronized void started(TopicPartition p, long offset, int targets) {
        open.computeIfAbsent(p, k -> new TreeMap<>()).put(offset, targets);
        next.putIfAbsent(p, offset);
        inFlight++;
    }

    synchronized void finished(TopicPartition p, long offset) {
        TreeMap<Long, Integer> m = open.get(p);
        if (m == null) {
            return; // the partition was revoked meanwhile
        }
        Integer left = m.get(offset);
        if (left == null) {
            return;
        }
        if (left > 1) {
            m.put(offset, left - 1);
        } else {
            m.put(offset, 0);
            inFlight--;
        }
    }

    /** Offsets that can be committed now (and forgets the records below them). */
    synchronized Map<TopicPartition, OffsetAndMetadata> committable() {
        Map<TopicPartition, OffsetAndMetadata> out = new HashMap<>();
        for (Map.Entry<TopicPartition, TreeMap<Long, Integer>> e : open.entrySet()) {
            TreeMap<Long, Integer> m = e.getValue();
            Long upTo = null;
            while (!m.isEmpty() && m.firstEntry().getValue() == 0) {
                upTo = m.pollFirstEntry().getKey();
            }
            if (upTo != null) {
                out.put(e.getKey(), new OffsetAndMetadata(upTo + 1));
                next.put(e.getKey(), upTo + 1);
            }
        }
        return out;
    }

    synchronized int inFlight() {
        return inFlight;
    }

    synchronized void forget(Collection<TopicPartition> partitions) {
        for (TopicPartition p : partitions) {
            TreeMap<Long, Integer> m = open.remove(p);
            if (m != null) {
                inFlight -= (int) m.values().stream().filter(v -> v > 0).count();
            }
            next.remove(p);
        }
    }
}
