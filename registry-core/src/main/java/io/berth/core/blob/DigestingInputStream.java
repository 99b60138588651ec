package io.berth.core.blob;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.security.MessageDigest;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;

/**
 * Passes bytes through unchanged and feeds them to a {@link MessageDigest} on a separate (virtual)
 * thread, so that hashing overlaps reading the request and writing storage. Bytes are copied into a
 * small pool of 1 MiB buffers; when the hasher falls behind, the pool runs dry and reading waits,
 * so memory stays bounded whatever the blob size.
 */
public final class DigestingInputStream extends FilterInputStream {
    private static final int BUFFER_SIZE = 1 << 16;
    private static final int BUFFERS = 32;

    private record Chunk(byte[] bytes, int length) {
    }

    private static final Chunk END = new Chunk(new byte[0], -1);

    private final MessageDigest digest;
    private final BlockingQueue<byte[]> free = new ArrayBlockingQueue<>(BUFFERS);
    private final BlockingQueue<Chunk> full = new ArrayBlockingQueue<>(BUFFERS + 1);
    private final Thread hasher;
    private byte[] current;
    private int filled;
    private long count;
    private boolean finished;

    public DigestingInputStream(InputStream in, MessageDigest digest) {
        super(in);
        this.digest = digest;
        for (int i = 0; i < BUFFERS; i++) {
            free.add(new byte[BUFFER_SIZE]);
        }
        this.hasher = Thread.ofVirtual().name("digest").start(this::hashLoop);
    }

    private void hashLoop() {
        try {
            while (true) {
                Chunk c = full.take();
                if (c == END) {
                    return;
                }
                digest.update(c.bytes, 0, c.length);
                free.put(c.bytes);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
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
        try {
            while (len > 0) {
                if (current == null) {
                    current = free.take();
                    filled = 0;
                }
                int k = Math.min(len, current.length - filled);
                System.arraycopy(b, off, current, filled, k);
                filled += k;
                off += k;
                len -= k;
                if (filled == current.length) {
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
     * Waits until every byte read has been hashed. The {@link MessageDigest} given to the constructor
     * then holds the state of all bytes read; it may be finished or cloned by the caller.
     */
    public MessageDigest finish() throws IOException {
        if (!finished) {
            finished = true;
            try {
                if (current != null && filled > 0) {
                    full.put(new Chunk(current, filled));
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
