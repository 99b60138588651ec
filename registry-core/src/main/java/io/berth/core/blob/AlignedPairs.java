package io.berth.core.blob;

import java.nio.ByteBuffer;
import java.time.Duration;

/**
 * The aligned buffer pairs O_DIRECT uploads write through, in two sizes from one memory budget:
 * the first few uploads at once get a large pair, later ones a small pair, and when neither is
 * free the upload writes through the page cache (slower to flush, but never waiting).
 *
 * <p>Why two sizes: at every buffer boundary the reading thread waits for the other buffer's write
 * and hash to finish, and on two cores these hand-offs, not the disk, set the pace of one large
 * push, so larger buffers push faster (figures: docs/benchmarks.md, "Behind the code"). Many uploads at once would gain from large pairs
 * too, but 4 MiB per upload would not stay within the direct memory the JVM is given; so the first
 * few get them, and the budget stays the 32 MiB it was with small pairs only.
 */
final class AlignedPairs {
    static final int LARGE = 2 * 1024 * 1024;
    static final int SMALL = 512 * 1024;
    /** Uploads that may hold a large pair at once (16 MiB). */
    static final int LARGE_PAIRS = 4;
    /** Uploads that may hold a small pair at once (16 MiB). */
    static final int SMALL_PAIRS = 16;

    private final BufferPool large;
    private final BufferPool small;

    /** @param concurrentWriters at most this many uploads write at once ({@code uploads.max-concurrent}) */
    AlignedPairs(int concurrentWriters, Duration maxWait) {
        this.large = BufferPool.direct(
                "O_DIRECT write (large)",
                LARGE,
                DirectWriter.BLOCK,
                2 * Math.min(concurrentWriters, LARGE_PAIRS),
                maxWait);
        this.small = BufferPool.direct(
                "O_DIRECT write", SMALL, DirectWriter.BLOCK, 2 * Math.min(concurrentWriters, SMALL_PAIRS), maxWait);
    }

    /** Two buffers of one size, the large size while any are free; null when no pair is free. */
    ByteBuffer[] tryAcquire() {
        ByteBuffer[] pair = large.tryAcquire(2);
        return pair != null ? pair : small.tryAcquire(2);
    }

    /** Gives back a pair from {@link #tryAcquire()}. */
    void release(ByteBuffer[] pair) {
        BufferPool pool = pair[0].capacity() == LARGE ? large : small;
        pool.release(pair[0]);
        pool.release(pair[1]);
    }

    /** Buffers of either size in use. */
    int inUse() {
        return large.inUse() + small.inUse();
    }
}
