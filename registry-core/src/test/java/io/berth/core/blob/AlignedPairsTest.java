package io.berth.core.blob;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class AlignedPairsTest {
    private static int size(ByteBuffer[] pair) {
        assertEquals(2, pair.length);
        assertEquals(pair[0].capacity(), pair[1].capacity());
        assertEquals(0, pair[0].alignmentOffset(0, DirectWriter.BLOCK), "aligned");
        return pair[0].capacity();
    }

    @Test
    void largePairsFirstThenSmallOnesThenNoneWithinTheBudget() {
        AlignedPairs pairs = new AlignedPairs(128, Duration.ofSeconds(1));
        List<ByteBuffer[]> held = new ArrayList<>();
        for (int i = 0; i < AlignedPairs.LARGE_PAIRS; i++) {
            held.add(pairs.tryAcquire());
            assertEquals(AlignedPairs.LARGE, size(held.getLast()));
        }
        for (int i = 0; i < AlignedPairs.SMALL_PAIRS; i++) {
            held.add(pairs.tryAcquire());
            assertEquals(AlignedPairs.SMALL, size(held.getLast()));
        }
        assertNull(pairs.tryAcquire(), "beyond the budget: the page cache");
        assertEquals(2 * held.size(), pairs.inUse());
        assertEquals(
                32L << 20,
                (long) AlignedPairs.LARGE_PAIRS * 2 * AlignedPairs.LARGE
                        + (long) AlignedPairs.SMALL_PAIRS * 2 * AlignedPairs.SMALL,
                "32 MiB in all");

        pairs.release(held.removeFirst()); // a large pair back: the next upload gets it
        assertEquals(AlignedPairs.LARGE, size(pairs.tryAcquire()));
        pairs.release(held.removeLast()); // a small one back: no large free, so small
        assertEquals(AlignedPairs.SMALL, size(pairs.tryAcquire()));
    }

    @Test
    void fewerWritersFewerPairs() {
        AlignedPairs pairs = new AlignedPairs(1, Duration.ofSeconds(1));
        assertEquals(AlignedPairs.LARGE, size(pairs.tryAcquire()));
        assertEquals(AlignedPairs.SMALL, size(pairs.tryAcquire()));
        assertNull(pairs.tryAcquire());
    }
}
