package io.berth.core.blob;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.Semaphore;

/**
 * Passes bytes through unchanged and feeds them to a {@link MessageDigest} on a separate (virtual)
 * thread, so that hashing overlaps reading the request and writing storage. Bytes are copied into
 * buffers taken from a pool shared by all uploads, lazily as they arrive, at most
 * {@value #IN_FLIGHT} per stream; when the hasher falls behind, reading waits, so memory stays
 * bounded whatever the blob size and however many uploads run.
 */
public final class DigestingInputStream extends FilterInputStream {
    static final int IN_FLIGHT = 8;

    private record Chunk(ByteBuffer buffer, int length) {
    }

    private static final Chunk END = new Chunk(null, -1);

    private final MessageDigest digest;
    private final BufferPool pool;
    private final Semaphore inFlight = new Semaphore(IN_FLIGHT);
    private final LinkedBlockingQueue<Chunk> full = new LinkedBlockingQueue<>();
    private final Thread hasher;
    private ByteBuffer current;
    private int filled;
    private long count;
    private boolean finished;

    public DigestingInputStream(InputStream in, MessageDigest digest, BufferPool pool) {
        super(in);
        this.digest = digest;
        this.pool = pool;
        this.hasher = Thread.ofVirtual().name("digest").start(this::hashLoop);
    }

    private DigestingInputStream(InputStream in, MessageDigest digest) {
        super(in);
        this.digest = digest;
        this.pool = null;
        this.hasher = null;
    }

    /**
     * Hashes on the reading thread instead: for a short body (a small layer, a config) the hand-off
     * to another thread costs more than the overlap gains.
     */
    public static DigestingInputStream inline(InputStream in, MessageDigest digest) {
        return new DigestingInputStream(in, digest);
    }

    private void hashLoop() {
        try {
            while (true) {
                Chunk c = full.take();
                if (c == END) {
                    return;
                }
                hash(c);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** One chunk; a method of its own so the JIT compiles it whole rather than inside the loop's OSR. */
    private void hash(Chunk c) {
        try {
            digest.update(c.buffer.array(), 0, c.length);
        } finally {
            release(c.buffer);
        }
    }

    private void release(ByteBuffer b) {
        pool.release(b);
        inFlight.release();
    }

    @Override
    public int read() throws IOException {
        byte[] one = new byte[1];
        int n = read(one, 0, 1);
        return n < 0 ? -1 : one[0] & 0xff;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
        int n = in.read(b, off, len);
        if (n > 0) {
            feed(b, off, n);
        }
        return n;
    }

    @Override
    public long skip(long n) {
        return 0; // every byte must be hashed: skipping is not allowed
    }

    private void feed(byte[] b, int off, int len) throws IOException {
        count += len;
        if (hasher == null) {
            digest.update(b, off, len);
            return;
        }
        try {
            while (len > 0) {
                if (current == null) {
                    inFlight.acquire();
                    try {
                        current = pool.acquire();
                    } catch (IOException e) {
                        inFlight.release();
                        throw e;
                    }
                    filled = 0;
                }
                int k = Math.min(len, current.capacity() - filled);
                System.arraycopy(b, off, current.array(), filled, k);
                filled += k;
                off += k;
                len -= k;
                if (filled == current.capacity()) {
                    full.put(new Chunk(current, filled));
                    current = null;
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while hashing");
        }
    }

    /** Bytes read (and hashed) so far. */
    public long count() {
        return count;
    }

    /**
     * Waits until every byte read has been hashed and returns every buffer to the pool. The
     * {@link MessageDigest} given to the constructor then holds the state of all bytes read; it may
     * be finished or cloned by the caller.
     */
    public MessageDigest finish() throws IOException {
        if (!finished && hasher == null) {
            finished = true;
        }
        if (!finished) {
            finished = true;
            try {
                if (current != null) {
                    if (filled > 0) {
                        full.put(new Chunk(current, filled));
                    } else {
                        release(current);
                    }
                    current = null;
                }
                full.put(END);
                hasher.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new InterruptedIOException("interrupted while hashing");
            }
        }
        return digest;
    }

    @Override
    public void close() throws IOException {
        try {
            finish();
        } finally {
            super.close();
        }
    }
}
