package io.berth.core.blob;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

/**
 * A bounded pool of equal buffers shared by every request: buffers are allocated lazily, at most
 * {@code max} are in use at once, and a request that finds none free waits (up to a limit) for one
 * to be returned. Memory for request bodies and blob reads is thereby bounded whatever clients do, where
 * allocating per request let a few hundred slow clients exhaust the heap.
 */
public final class BufferPool {
    private final String name;
    private final int bufferSize;
    private final int max;
    private final int alignment;
    private final boolean direct;
    private final Duration maxWait;
    private final Semaphore permits;
    /** Returned direct buffers, kept: allocating direct memory is slow. Heap buffers are not kept. */
    private final ConcurrentLinkedQueue<ByteBuffer> idle = new ConcurrentLinkedQueue<>();

    private BufferPool(String name, int bufferSize, int max, boolean direct, int alignment, Duration maxWait) {
        if (bufferSize <= 0 || max <= 0) {
            throw new IllegalArgumentException("a pool needs a positive buffer size and count");
        }
        this.name = name;
        this.bufferSize = bufferSize;
        this.max = max;
        this.direct = direct;
        this.alignment = alignment;
        this.maxWait = maxWait;
        this.permits = new Semaphore(max);
    }

    /** Heap buffers (their {@link ByteBuffer#array()} is usable). */
    public static BufferPool heap(String name, int bufferSize, int max, Duration maxWait) {
        return new BufferPool(name, bufferSize, max, false, 0, maxWait);
    }

    /** Direct buffers aligned to {@code alignment} bytes (for O_DIRECT writes), or unaligned with 0. */
    public static BufferPool direct(String name, int bufferSize, int alignment, int max, Duration maxWait) {
        return new BufferPool(name, bufferSize, max, true, alignment, maxWait);
    }

    public int bufferSize() {
        return bufferSize;
    }

    public int max() {
        return max;
    }

    /** Buffers handed out and not yet returned. */
    public int inUse() {
        return max - permits.availablePermits();
    }

    /** One buffer, cleared; waits while the pool is exhausted. */
    public ByteBuffer acquire() throws IOException {
        return acquire(1)[0];
    }

    /**
     * {@code n} buffers at once (all or none, so that holders of some never wait for more and
     * deadlock); waits while the pool is exhausted, and fails after the pool's wait limit.
     */
    public ByteBuffer[] acquire(int n) throws IOException {
        try {
            if (!permits.tryAcquire(n, maxWait.toMillis(), TimeUnit.MILLISECONDS)) {
                throw new PoolExhaustedException(
                        name + " buffers: all " + max + " in use for " + maxWait.toSeconds() + "s");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted waiting for a buffer");
        }
        ByteBuffer[] out = new ByteBuffer[n];
        for (int i = 0; i < n; i++) {
            ByteBuffer b = idle.poll();
            out[i] = (b == null ? allocate() : b).clear();
        }
        return out;
    }

    /** {@code n} buffers if they are free right now, else null (the caller takes a cheaper path). */
    public ByteBuffer[] tryAcquire(int n) {
        if (!permits.tryAcquire(n)) {
            return null;
        }
        ByteBuffer[] out = new ByteBuffer[n];
        for (int i = 0; i < n; i++) {
            ByteBuffer b = idle.poll();
            out[i] = (b == null ? allocate() : b).clear();
        }
        return out;
    }

    private ByteBuffer allocate() {
        if (!direct) {
            return ByteBuffer.allocate(bufferSize);
        }
        if (alignment <= 0) {
            return ByteBuffer.allocateDirect(bufferSize);
        }
        return ByteBuffer.allocateDirect(bufferSize + alignment)
                .alignedSlice(alignment)
                .limit(bufferSize)
                .slice();
    }

    /**
     * Returns a buffer taken from this pool (null is ignored). A heap buffer is left to the garbage
     * collector rather than kept: heap arrays handed back and forth between the request thread and
     * the hashing thread made hashing far slower than fresh young-generation arrays do
     * (figures: docs/benchmarks.md, "Behind the code"). The pool still bounds how many exist.
     */
    public void release(ByteBuffer buffer) {
        if (buffer == null) {
            return;
        }
        if (direct) {
            idle.offer(buffer);
        }
        permits.release();
    }

    /** No buffer became free in time: the server is overloaded, not broken. */
    public static final class PoolExhaustedException extends IOException {
        private static final long serialVersionUID = 1L;

        PoolExhaustedException(String message) {
            super(message);
        }
    }
}
