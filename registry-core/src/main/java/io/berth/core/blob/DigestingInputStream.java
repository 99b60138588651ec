package io.berth.core.blob;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.util.IdentityHashMap;
import java.util.Map;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.Semaphore;

/**
 * Passes bytes through unchanged and feeds them to a {@link MessageDigest}, in one of three ways:
 * <ul>
 * <li>on a separate (virtual) thread, so that hashing overlaps reading the request and writing
 * storage: bytes are copied into buffers taken from a pool shared by all uploads, lazily as they
 * arrive, at most {@value #IN_FLIGHT} per stream; when the hasher falls behind, reading waits, so
 * memory stays bounded whatever the blob size and however many uploads run;</li>
 * <li>{@link #inline}, on the reading thread, for short bodies;</li>
 * <li>{@link #overDirect}, for a {@link DirectSource} body that a store reads into its own buffers:
 * the hashing thread reads the bytes where the kernel put them, with no copy, and the store
 * {@link #release}s a buffer before it fills it again.</li>
 * </ul>
 */
public final class DigestingInputStream extends FilterInputStream implements DirectSource {
    static final int IN_FLIGHT = 8;

    /** Bytes to hash; {@code pooled}: a buffer of the pool, given back once hashed. */
    private record Chunk(ByteBuffer buffer, int length, boolean pooled) {}

    private static final Chunk END = new Chunk(null, -1, false);

    /** Small enough to stay in the CPU's first-level cache between the copy and the hash. */
    private static final int SCRATCH = 16 * 1024;

    private final MessageDigest digest;
    private final BufferPool pool;
    private final Semaphore inFlight = new Semaphore(IN_FLIGHT);
    private final LinkedBlockingQueue<Chunk> full = new LinkedBlockingQueue<>();
    private final Thread hasher;
    private final DirectSource direct; // the body, when it is read directly
    private final Map<ByteBuffer, Long> lastChunkOf = new IdentityHashMap<>(); // caller's buffer → its last chunk
    private final Object hashedLock = new Object();
    private long queued; // chunks of callers' buffers handed to the hasher
    private long hashed; // of those, hashed (guarded by hashedLock)
    private byte[] scratch; // direct bytes pass through it on their way into the digest
    private ByteBuffer current;
    private int filled;
    private long count;
    private boolean finished;

    public DigestingInputStream(InputStream in, MessageDigest digest, BufferPool pool) {
        this(in, digest, pool, true, null);
    }

    private DigestingInputStream(
            InputStream in, MessageDigest digest, BufferPool pool, boolean threaded, DirectSource direct) {
        super(in);
        this.digest = digest;
        this.pool = pool;
        this.direct = direct;
        this.hasher = threaded ? Thread.ofVirtual().name("digest").start(this::hashLoop) : null;
    }

    /**
     * Hashes on the reading thread instead: for a short body (a small layer, a config) the hand-off
     * to another thread costs more than the overlap gains. A {@link DirectSource} body is read
     * directly too.
     */
    public static DigestingInputStream inline(InputStream in, MessageDigest digest) {
        return new DigestingInputStream(in, digest, null, false, DirectSource.of(in));
    }

    /**
     * For a body that is a {@link DirectSource}: read directly into the caller's buffers and hashed
     * there on a thread of its own, while the caller goes on reading into its next buffer.
     */
    public static DigestingInputStream overDirect(InputStream in, MessageDigest digest) {
        DirectSource direct = DirectSource.of(in);
        if (direct == null) {
            throw new IllegalArgumentException("not a direct source");
        }
        return new DigestingInputStream(in, digest, null, true, direct);
    }

    private void hashLoop() {
        try {
            while (hashNext()) {
                // one chunk per call
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * Takes one chunk and hashes it; false at the end. The loop calling it runs once per stream, so
     * it stays in the interpreter (a profile showed it at ~4 % of a large push's CPU when it held the
     * take); this method is called per chunk of every stream, so the JIT compiles it early.
     */
    private boolean hashNext() throws InterruptedException {
        Chunk c = full.take();
        if (c == END) {
            return false;
        }
        hash(c);
        return true;
    }

    /** One chunk; a method of its own so the JIT compiles it whole rather than inside the loop's OSR. */
    private void hash(Chunk c) {
        if (!c.pooled) {
            try {
                hashDirect(c.buffer);
            } finally {
                synchronized (hashedLock) {
                    hashed++;
                    hashedLock.notifyAll();
                }
            }
            return;
        }
        try {
            digest.update(c.buffer.array(), 0, c.length);
        } finally {
            giveBack(c.buffer);
        }
    }

    /** Hashes a (direct) buffer's remaining bytes through a small array, as MessageDigest hashes arrays fastest. */
    private void hashDirect(ByteBuffer bytes) {
        if (scratch == null) {
            scratch = new byte[SCRATCH];
        }
        while (bytes.hasRemaining()) {
            int k = Math.min(bytes.remaining(), scratch.length);
            bytes.get(scratch, 0, k);
            digest.update(scratch, 0, k);
        }
    }

    private void giveBack(ByteBuffer b) {
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
    public boolean readsDirect() {
        return direct != null;
    }

    /** Reads from the direct source into {@code dst} and hashes what arrived (here or on the hasher). */
    @Override
    public int read(ByteBuffer dst) throws IOException {
        if (direct == null) {
            throw new IllegalStateException("not a direct source");
        }
        int start = dst.position();
        int n = direct.read(dst);
        if (n > 0) {
            count += n;
            ByteBuffer view = dst.duplicate().position(start).limit(start + n);
            if (hasher == null) {
                hashDirect(view);
            } else {
                lastChunkOf.put(dst, ++queued);
                full.add(new Chunk(view, n, false));
            }
        }
        return n;
    }

    /** Waits until the hasher is done with every byte read into {@code buffer}; then releases it to the body. */
    @Override
    public void release(ByteBuffer buffer) throws IOException {
        Long last = lastChunkOf.remove(buffer);
        if (last != null) {
            awaitHashed(last);
        }
        if (direct != null) {
            direct.release(buffer);
        }
    }

    private void awaitHashed(long chunks) throws InterruptedIOException {
        synchronized (hashedLock) {
            while (hashed < chunks) {
                try {
                    hashedLock.wait();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new InterruptedIOException("interrupted while hashing");
                }
            }
        }
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
        if (direct != null) {
            // bytes read the ordinary way between direct ones: in order, after what the hasher holds
            awaitHashed(queued);
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
                    full.put(new Chunk(current, filled, true));
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
                        full.put(new Chunk(current, filled, true));
                    } else {
                        giveBack(current);
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
