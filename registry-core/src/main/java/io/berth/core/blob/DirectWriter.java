package io.berth.core.blob;

import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Appends a stream to a file through two aligned buffers: one fills from the request (and is hashed
 * there) while the other is written. Written either with O_DIRECT for the block-aligned middle and
 * ordinary writes for the unaligned head and tail — bytes bypass the page cache, so a large upload
 * evicts no hot blobs — or through the page cache, flushed behind the writes ({@link #FLUSH_BEHIND})
 * so that the acknowledging flush finds little dirty, and the blob stays in memory for the pull that
 * usually follows its push (storage.filesystem.direct-io, docs/benchmarks.md).
 */
final class DirectWriter {
    static final int BLOCK = 4096;

    /**
     * {@code com.sun.nio.file.ExtendedOpenOption.DIRECT}, looked up by name: naming it in source draws a
     * javac warning no annotation can suppress (the build fails on warnings). Null when the JDK lacks it;
     * then nothing is opened with O_DIRECT ({@link #supported} says no).
     */
    private static final OpenOption DIRECT = directOption();

    private static OpenOption directOption() {
        try {
            Class<?> type = Class.forName("com.sun.nio.file.ExtendedOpenOption");
            return (OpenOption) type.getMethod("valueOf", String.class).invoke(null, "DIRECT");
        } catch (ReflectiveOperationException | LinkageError e) {
            return null;
        }
    }

    /**
     * Through the page cache, the bytes written since the last flush that start the next one (on a
     * thread of its own, while writing goes on), so that the flush acknowledging a large body finds
     * little left to write.
     */
    static final long FLUSH_BEHIND = 32L << 20;

    private DirectWriter() {}

    /** Whether files in {@code dir} can be opened with O_DIRECT (tmpfs, for one, cannot). */
    static boolean supported(Path dir) {
        if (DIRECT == null) {
            return false;
        }
        try {
            if (Files.getFileStore(dir).getBlockSize() > BLOCK
                    || BLOCK % Files.getFileStore(dir).getBlockSize() != 0) {
                return false;
            }
            Path probe = Files.createTempFile(dir, ".direct-probe", "");
            try (FileChannel ch = FileChannel.open(probe, StandardOpenOption.WRITE, DIRECT)) {
                ByteBuffer b = ByteBuffer.allocateDirect(2 * BLOCK).alignedSlice(BLOCK);
                b.limit(BLOCK);
                ch.write(b, 0);
                return true;
            } finally {
                Files.deleteIfExists(probe);
            }
        } catch (IOException | UnsupportedOperationException e) {
            return false;
        }
    }

    /**
     * Writes {@code data} to {@code file} from {@code offset}.
     *
     * @param buffered an ordinary channel on the same file, for the unaligned head and tail
     * @param piece    a heap buffer to read the request into
     * @param aligned  the aligned buffer pairs; when none is free, the write goes through the page
     *                 cache instead (slower to flush, but never waiting and never unbounded)
     * @return the position after the last byte
     */
    static long write(
            Path file,
            FileChannel buffered,
            long offset,
            InputStream data,
            byte[] piece,
            AlignedPairs aligned,
            boolean direct,
            long flushBehind)
            throws IOException {
        long pos = offset;
        int headLength = (int) ((BLOCK - pos % BLOCK) % BLOCK);
        if (headLength > 0) {
            byte[] head = data.readNBytes(headLength);
            pos += writeFully(buffered, ByteBuffer.wrap(head), pos);
            if (head.length < headLength) {
                return pos;
            }
        }
        // the aligned pair is taken only once the body has bytes for it, and given back at the end
        int first = data.read(piece, 0, piece.length);
        if (first < 0) {
            return pos;
        }
        ByteBuffer[] buffers = aligned.tryAcquire();
        if (buffers == null) {
            pos += writeFully(buffered, ByteBuffer.wrap(piece, 0, first), pos);
            return FilesystemBlobStore.writeBuffered(buffered, pos, data, piece);
        }
        try {
            return writeAligned(file, buffered, pos, data, piece, first, buffers, direct, flushBehind);
        } finally {
            aligned.release(buffers);
        }
    }

    /**
     * Two aligned buffers: one fills from the request while the other is written to the device. A
     * {@link DirectSource} body is read straight into them; any other through {@code piece}.
     */
    private static long writeAligned(
            Path file,
            FileChannel buffered,
            long start,
            InputStream data,
            byte[] piece,
            int first,
            ByteBuffer[] buffers,
            boolean direct,
            long flushBehind)
            throws IOException {
        DirectSource source = DirectSource.of(data);
        ByteBuffer tail;
        long pos;
        FileChannel out = direct ? FileChannel.open(file, StandardOpenOption.WRITE, DIRECT) : buffered;
        try (Pair pair = new Pair(out, buffers, start, source, direct ? 0 : flushBehind)) {
            pair.copyIn(piece, first);
            if (source != null) {
                while (pair.fillFrom(source)) {
                    // each call fills one buffer and sends it to the device
                }
            } else {
                int n;
                while ((n = data.read(piece, 0, piece.length)) >= 0) {
                    pair.copyIn(piece, n);
                }
            }
            pos = pair.drain();
            tail = pair.filling().flip();
            int whole = tail.remaining() - tail.remaining() % BLOCK;
            if (whole > 0) {
                int limit = tail.limit();
                tail.limit(whole);
                pos += writeFully(out, tail, pos);
                tail.limit(limit);
            }
        } finally {
            if (direct) {
                out.close();
            }
        }
        if (tail.hasRemaining()) {
            pos += writeFully(buffered, tail, pos);
        }
        return pos;
    }

    /**
     * The two buffers: which one fills, and the write of the other one in flight. Each step is a
     * method of its own, called once per buffer or read, so the JIT compiles it early rather than
     * inside the (rarely entered) loop that calls it.
     */
    private static final class Pair implements AutoCloseable {
        private final FileChannel out;
        private final ByteBuffer[] buffers;
        private final DirectSource source; // null when the body is read through the piece
        private final ExecutorService writer =
                Executors.newSingleThreadExecutor(Thread.ofVirtual().factory());
        private Future<Integer> pending;
        private long pos;
        private int current;
        private final long flushEvery;
        private long unflushed;
        private final ExecutorService flusher =
                Executors.newSingleThreadExecutor(Thread.ofVirtual().factory());
        private volatile Future<Integer> flushing;

        Pair(FileChannel out, ByteBuffer[] buffers, long pos, DirectSource source, long flushEvery) {
            this.flushEvery = flushEvery;
            this.out = out;
            this.buffers = buffers;
            this.pos = pos;
            this.source = source;
        }

        ByteBuffer filling() {
            return buffers[current];
        }

        /** Copies {@code n} bytes of the piece in, sending each buffer that fills to the device. */
        void copyIn(byte[] piece, int n) throws IOException {
            int offset = 0;
            while (n > 0) {
                ByteBuffer aligned = buffers[current];
                int k = Math.min(n, aligned.remaining());
                aligned.put(piece, offset, k);
                offset += k;
                n -= k;
                filled();
            }
        }

        /** Reads from the source until the filling buffer is full (and sent) or the body ends: false then. */
        boolean fillFrom(DirectSource from) throws IOException {
            ByteBuffer aligned = buffers[current];
            while (aligned.hasRemaining()) {
                if (from.read(aligned) < 0) {
                    return false;
                }
            }
            filled();
            return true;
        }

        /** When the filling buffer is full: waits for the other one's write, then writes this one. */
        private void filled() throws IOException {
            ByteBuffer full = buffers[current];
            if (full.hasRemaining()) {
                return;
            }
            pos += await(pending);
            full.flip();
            long at = pos;
            pending = writer.submit(() -> {
                int n = writeFully(out, full, at);
                if (flushEvery > 0 && (unflushed += n) >= flushEvery && (flushing == null || flushing.isDone())) {
                    await(flushing); // a flush that failed fails the write
                    flushing = flusher.submit(() -> {
                        out.force(false);
                        return 0;
                    });
                    unflushed = 0;
                }
                return n;
            });
            current ^= 1;
            if (source != null) {
                source.release(buffers[current]); // the hasher may still be reading what it held
            }
            buffers[current].clear();
        }

        /** Waits for the write in flight; the position after it. */
        long drain() throws IOException {
            pos += await(pending);
            pending = null;
            await(flushing);
            return pos;
        }

        /** Waits for a write still in flight (when the body failed) and for the source to let go of both buffers. */
        @Override
        public void close() throws IOException {
            writer.close();
            flusher.close();
            if (source != null) {
                source.release(buffers[0]);
                source.release(buffers[1]);
            }
        }
    }

    private static int await(Future<Integer> pending) throws IOException {
        if (pending == null) {
            return 0;
        }
        try {
            return pending.get();
        } catch (ExecutionException e) {
            if (e.getCause() instanceof IOException io) {
                throw io;
            }
            throw new IOException(e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while writing");
        }
    }

    static int writeFully(FileChannel ch, ByteBuffer b, long pos) throws IOException {
        int total = 0;
        while (b.hasRemaining()) {
            total += ch.write(b, pos + total);
        }
        return total;
    }
}
