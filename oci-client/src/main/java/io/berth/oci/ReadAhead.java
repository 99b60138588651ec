package io.berth.oci;

import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Flow;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A response body as an {@link InputStream} that keeps up to {@link #WINDOW} of the connection's reads
 * (2 MiB) queued ahead of the reader. The JDK's own ({@code BodySubscribers.ofInputStream()}) asks the
 * connection for one read at a time, so every 16 KiB the reader takes re-arms the client's selector:
 * relaying a blob from one registry to another spent most of its CPU there and moved about 100 MB/s
 * (docs/benchmarks.md, "Replication throughput").
 *
 * <p>Every body has one read of its own; the reads beyond it come from a {@link Budget} shared by the
 * whole process ({@link #SHARED}), so many bodies open at once (a target's {@code concurrency}, up to
 * 64, times its targets) hold at most that budget between them, not 2 MiB each: a slow target would
 * otherwise fill the heap with what a fast source sent ahead.
 */
final class ReadAhead extends InputStream implements HttpResponse.BodySubscriber<InputStream> {
    /**
     * Bytes asked for ahead of the reader, at most: a target slower than the source leaves this much
     * per open blob in the heap, as long as the {@link #SHARED} budget has room.
     */
    static final int WINDOW_BYTES = 2 << 20;
    /** The client's read buffer ({@code jdk.httpclient.bufsize}; 16 KiB by default, 256 KiB in {@code berth replicate}). */
    static final int READ_BYTES = Math.max(1, Integer.getInteger("jdk.httpclient.bufsize", 16 << 10));
    /**
     * Reads asked for ahead: each one up to the client's read buffer ({@link #READ_BYTES}), so 128 or 8.
     */
    static final int WINDOW = Math.max(2, Math.min(128, WINDOW_BYTES / READ_BYTES));
    /**
     * Bytes read ahead by all bodies together beyond their first read each: an eighth of the heap,
     * between one window and 64 MiB (about 19 MiB at {@code bin/berth}'s {@code -Xmx160m}).
     */
    static final long SHARED_BYTES =
            Math.min(64L << 20, Math.max(WINDOW_BYTES, Runtime.getRuntime().maxMemory() / 8));

    static final Budget SHARED = new Budget((int) Math.max(WINDOW, SHARED_BYTES / READ_BYTES));

    /** Reads that may be asked for ahead, shared; taken while a body is open, given back when it ends. */
    static final class Budget {
        private final AtomicInteger free;

        Budget(int reads) {
            free = new AtomicInteger(reads);
        }

        /** Up to {@code want} reads, as many as are free (maybe none). */
        int take(int want) {
            while (true) {
                int f = free.get();
                int n = Math.min(f, want);
                if (n <= 0) {
                    return 0;
                }
                if (free.compareAndSet(f, f - n)) {
                    return n;
                }
            }
        }

        void give(int n) {
            if (n > 0) {
                free.addAndGet(n);
            }
        }

        int free() {
            return free.get();
        }
    }

    private final ReentrantLock lock = new ReentrantLock();
    private final Condition arrived = lock.newCondition();
    private final ArrayDeque<ByteBuffer> queue = new ArrayDeque<>();
    private final CompletableFuture<InputStream> body = CompletableFuture.completedFuture(this);
    private final Budget budget;
    private Flow.Subscription subscription;
    /** The reader's buffer: only the reading thread touches it. */
    private ByteBuffer current;
    /** Reads asked for whose data the reader has not reached yet; at most 1 + {@link #borrowed}. */
    private int inFlight;
    /** Reads taken from the budget, given back when the body ends. */
    private int borrowed;

    private boolean complete;
    private volatile boolean closed;
    private Throwable failure;

    private ReadAhead(Budget budget) {
        this.budget = budget;
    }

    static HttpResponse.BodyHandler<InputStream> handler() {
        return handler(SHARED);
    }

    static HttpResponse.BodyHandler<InputStream> handler(Budget budget) {
        return info -> new ReadAhead(budget);
    }

    /** Bytes received and not read yet (tests). */
    long queued() {
        lock.lock();
        try {
            long n = 0;
            for (ByteBuffer b : queue) {
                n += b.remaining();
            }
            return n;
        } finally {
            lock.unlock();
        }
    }

    /**
     * Reads to ask for now so that up to {@link #WINDOW} are in flight, as the budget allows (at least
     * one when none is); called with the lock held.
     */
    private int topUp() {
        int spare = 1 + borrowed - inFlight;
        int want = WINDOW - inFlight;
        if (spare < want) {
            borrowed += budget.take(want - spare);
        }
        int more = 1 + borrowed - inFlight;
        inFlight += more;
        return more;
    }

    /** Gives the borrowed reads back: the body ended, failed or was closed; called with the lock held. */
    private void release() {
        budget.give(borrowed);
        borrowed = 0;
    }

    @Override
    public CompletionStage<InputStream> getBody() {
        return body;
    }

    @Override
    public void onSubscribe(Flow.Subscription s) {
        boolean cancel;
        int first = 0;
        lock.lock();
        try {
            cancel = closed || subscription != null;
            if (!cancel) {
                subscription = s;
                first = topUp();
            }
        } finally {
            lock.unlock();
        }
        if (cancel) {
            s.cancel();
        } else {
            s.request(first);
        }
    }

    @Override
    public void onNext(List<ByteBuffer> item) {
        lock.lock();
        try {
            if (closed) {
                return;
            }
            // an empty list still counts as one read of the window
            queue.add(ByteBuffer.allocate(0));
            for (ByteBuffer b : item) {
                if (b.hasRemaining()) {
                    queue.add(b);
                }
            }
            arrived.signalAll();
        } finally {
            lock.unlock();
        }
    }

    @Override
    public void onError(Throwable t) {
        lock.lock();
        try {
            failure = t;
            arrived.signalAll();
        } finally {
            lock.unlock();
        }
    }

    @Override
    public void onComplete() {
        lock.lock();
        try {
            complete = true;
            arrived.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /** The next buffer with bytes left, or null at the end of the body. */
    private ByteBuffer next() throws IOException {
        if (closed) {
            throw new IOException("closed");
        }
        if (current != null && current.hasRemaining()) {
            return current;
        }
        current = null;
        int more = 0;
        Flow.Subscription s;
        lock.lock();
        try {
            while (true) {
                if (closed) {
                    throw new IOException("closed");
                }
                ByteBuffer b = queue.poll();
                if (b != null) {
                    if (!b.hasRemaining()) {
                        // the marker of one read reached: ask for more once half the window is used
                        if (--inFlight <= WINDOW / 2) {
                            more += topUp();
                        }
                        continue;
                    }
                    current = b;
                    break;
                }
                if (failure != null) {
                    release();
                    throw failure instanceof IOException io
                            ? new IOException(io.getMessage(), io)
                            : new IOException(failure);
                }
                if (complete) {
                    release();
                    break;
                }
                if (more > 0) {
                    break; // ask for the rest before waiting for it
                }
                try {
                    arrived.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new InterruptedIOException("interrupted");
                }
            }
            s = subscription;
        } finally {
            lock.unlock();
        }
        if (more > 0 && s != null) {
            s.request(more);
        }
        if (current == null && more > 0) {
            return next();
        }
        return current;
    }

    @Override
    public int read() throws IOException {
        ByteBuffer b = next();
        return b == null ? -1 : b.get() & 0xff;
    }

    @Override
    public int read(byte[] into, int off, int len) throws IOException {
        if (len == 0) {
            return 0;
        }
        ByteBuffer b = next();
        if (b == null) {
            return -1;
        }
        int n = Math.min(len, b.remaining());
        b.get(into, off, n);
        return n;
    }

    @Override
    public int available() {
        ByteBuffer b = current;
        return b == null || closed ? 0 : b.remaining();
    }

    @Override
    public void close() {
        Flow.Subscription s;
        boolean cancel;
        lock.lock();
        try {
            if (closed) {
                return;
            }
            closed = true;
            cancel = !complete && failure == null;
            s = subscription;
            queue.clear(); // the reader's current buffer is its own: a read after this one fails
            release();
            arrived.signalAll();
        } finally {
            lock.unlock();
        }
        if (cancel && s != null) {
            s.cancel();
        }
    }
}
