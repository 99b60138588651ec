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
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A response body as an {@link InputStream} that keeps up to {@link #WINDOW} of the connection's reads
 * (2 MiB) queued ahead of the reader. The JDK's own ({@code BodySubscribers.ofInputStream()}) asks the
 * connection for one read at a time, so every 16 KiB the reader takes re-arms the client's selector:
 * relaying a blob from one registry to another spent most of its CPU there and moved about 100 MB/s
 * (docs/benchmarks.md, "Replication throughput").
 */
final class ReadAhead extends InputStream implements HttpResponse.BodySubscriber<InputStream> {
    /**
     * Bytes asked for ahead of the reader, at most: a target slower than the source leaves this much
     * per open blob in the heap (64 copies at once: 128 MiB).
     */
    static final int WINDOW_BYTES = 2 << 20;
    /**
     * Reads asked for ahead: each one up to the client's read buffer ({@code jdk.httpclient.bufsize},
     * 16 KiB by default, 256 KiB in {@code berth replicate}), so 128 or 8.
     */
    static final int WINDOW = Math.max(
            2, Math.min(128, WINDOW_BYTES / Math.max(1, Integer.getInteger("jdk.httpclient.bufsize", 16 << 10))));

    private final ReentrantLock lock = new ReentrantLock();
    private final Condition arrived = lock.newCondition();
    private final ArrayDeque<ByteBuffer> queue = new ArrayDeque<>();
    private final CompletableFuture<InputStream> body = CompletableFuture.completedFuture(this);
    private Flow.Subscription subscription;
    private ByteBuffer current;
    /** Reads (onNext calls) taken off the queue since the last request for more. */
    private int taken;

    private boolean complete;
    private boolean closed;
    private Throwable failure;

    static HttpResponse.BodyHandler<InputStream> handler() {
        return info -> new ReadAhead();
    }

    @Override
    public CompletionStage<InputStream> getBody() {
        return body;
    }

    @Override
    public void onSubscribe(Flow.Subscription s) {
        boolean cancel;
        lock.lock();
        try {
            cancel = closed || subscription != null;
            if (!cancel) {
                subscription = s;
            }
        } finally {
            lock.unlock();
        }
        if (cancel) {
            s.cancel();
        } else {
            s.request(WINDOW);
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
                        // the marker of one read taken: ask for more once half the window is used
                        if (++taken >= WINDOW / 2) {
                            more = taken;
                            taken = 0;
                        }
                        continue;
                    }
                    current = b;
                    break;
                }
                if (failure != null) {
                    throw failure instanceof IOException io
                            ? new IOException(io.getMessage(), io)
                            : new IOException(failure);
                }
                if (complete) {
                    current = null;
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
        return b == null ? 0 : b.remaining();
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
            queue.clear();
            current = null;
            arrived.signalAll();
        } finally {
            lock.unlock();
        }
        if (cancel && s != null) {
            s.cancel();
        }
    }
}
