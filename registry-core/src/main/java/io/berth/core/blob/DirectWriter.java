package io.berth.core.blob;

import com.sun.nio.file.ExtendedOpenOption;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * Appends a stream to a file with O_DIRECT for the block-aligned middle and ordinary writes for the
 * unaligned head and tail. Bytes bypass the page cache, so a large upload neither evicts hot blobs
 * nor leaves gigabytes of dirty pages for the final flush to wait on.
 */
final class DirectWriter {
    private static final int BLOCK = 4096;
    private static final int BUFFER = 1 << 20;
    private static final int READ_PIECE = 1 << 16;

    private DirectWriter() {
    }

    /** Whether files in {@code dir} can be opened with O_DIRECT (tmpfs, for one, cannot). */
    static boolean supported(Path dir) {
        try {
            if (Files.getFileStore(dir).getBlockSize() > BLOCK || BLOCK % Files.getFileStore(dir).getBlockSize() != 0) {
                return false;
            }
            Path probe = Files.createTempFile(dir, ".direct-probe", "");
            try (FileChannel ch = FileChannel.open(probe, StandardOpenOption.WRITE, ExtendedOpenOption.DIRECT)) {
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
     * @return the position after the last byte
     */
    static long write(Path file, FileChannel buffered, long offset, InputStream data) throws IOException {
        long pos = offset;
        int headLength = (int) ((BLOCK - pos % BLOCK) % BLOCK);
        if (headLength > 0) {
            byte[] head = data.readNBytes(headLength);
            pos += writeFully(buffered, ByteBuffer.wrap(head), pos);
            if (head.length < headLength) {
                return pos;
            }
        }
        // Two aligned buffers: one fills from the request while the other is written to the device.
        ByteBuffer[] buffers = {
            ByteBuffer.allocateDirect(BUFFER + BLOCK).alignedSlice(BLOCK),
            ByteBuffer.allocateDirect(BUFFER + BLOCK).alignedSlice(BLOCK)
        };
        byte[] piece = new byte[READ_PIECE];
        ByteBuffer aligned = buffers[0];
        int current = 0;
        try (FileChannel direct = FileChannel.open(file, StandardOpenOption.WRITE, ExtendedOpenOption.DIRECT);
             var writer = java.util.concurrent.Executors.newSingleThreadExecutor(Thread.ofVirtual().factory())) {
            java.util.concurrent.Future<Integer> pending = null;
            int n;
            while ((n = data.read(piece, 0, Math.min(piece.length, aligned.remaining()))) >= 0) {
                aligned.put(piece, 0, n);
                if (!aligned.hasRemaining()) {
                    pos += await(pending);
                    ByteBuffer full = aligned.flip();
                    long at = pos;
                    pending = writer.submit(() -> writeFully(direct, full, at));
                    current ^= 1;
                    aligned = buffers[current].clear();
                }
            }
            pos += await(pending);
            aligned.flip();
            int whole = aligned.remaining() - aligned.remaining() % BLOCK;
            if (whole > 0) {
                int limit = aligned.limit();
                aligned.limit(whole);
                pos += writeFully(direct, aligned, pos);
                aligned.limit(limit);
            }
        }
        if (aligned.hasRemaining()) {
            pos += writeFully(buffered, aligned, pos);
        }
        return pos;
    }

    private static int await(java.util.concurrent.Future<Integer> pending) throws IOException {
        if (pending == null) {
            return 0;
        }
        try {
            return pending.get();
        } catch (java.util.concurrent.ExecutionException e) {
            if (e.getCause() instanceof IOException io) {
                throw io;
            }
            throw new IOException(e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new java.io.InterruptedIOException("interrupted while writing");
        }
    }

    private static int writeFully(FileChannel ch, ByteBuffer b, long pos) throws IOException {
        int total = 0;
        while (b.hasRemaining()) {
            total += ch.write(b, pos + total);
        }
        return total;
    }
}
