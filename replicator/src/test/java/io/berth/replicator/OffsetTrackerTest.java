package io.berth.replicator;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;

class OffsetTrackerTest {
    static final TopicPartition P0 = new TopicPartition("t", 0);
    static final TopicPartition P1 = new TopicPartition("t", 1);

    @Test
    void commitsOnlyPastTheLongestRunEveryTargetFinished() {
        OffsetTracker t = new OffsetTracker();
        for (long o = 10; o < 14; o++) {
            t.started(P0, o, 2);
        }
        t.started(P1, 5, 1);
        assertEquals(5, t.inFlight());
        assertEquals(Map.of(), t.committable(), "nothing finished");
        t.finished(P0, 11);
        t.finished(P0, 11);
        t.finished(P0, 10); // one target of two
        assertEquals(Map.of(), t.committable(), "10 waits for its second target; 11 waits for 10");
        t.finished(P0, 10);
        t.finished(P1, 5);
        assertEquals(Map.of(P0, new OffsetAndMetadata(12), P1, new OffsetAndMetadata(6)), t.committable());
        assertEquals(Map.of(), t.committable(), "nothing new");
        t.finished(P0, 13);
        t.finished(P0, 13);
        assertEquals(Map.of(), t.committable(), "12 is a gap");
        t.finished(P0, 12);
        t.finished(P0, 12);
        assertEquals(Map.of(P0, new OffsetAndMetadata(14)), t.committable());
        assertEquals(0, t.inFlight());
    }

    @Test
    void revokedPartitionsAreForgotten() {
        OffsetTracker t = new OffsetTracker();
        t.started(P0, 1, 1);
        t.started(P1, 1, 1);
        t.forget(List.of(P0));
        assertEquals(1, t.inFlight());
        t.finished(P0, 1); // late: ignored
        t.finished(P1, 1);
        assertEquals(Map.of(P1, new OffsetAndMetadata(2)), t.committable());
    }
}
