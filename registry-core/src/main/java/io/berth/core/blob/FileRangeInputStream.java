package io.berth.core.blob;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;

/**
 * A byte range of a file, read with positional reads into a direct buffer. Reading a file into a
 * heap array makes the JDK borrow (and on virtual threads often allocate) a temporary direct buffer
 * per call; reading into one of our own costs less CPU per byte (figures: docs/benchmarks.md, "Behind the code"). The buffer comes from a pool shared by all reads, taken at the first read and given back
 * on close, so concurrent pulls cannot exhaust direct memory.
 */
final class FileRangeInputStream extends InputStream {
    private final FileChannel channel;
    private final BufferPool pool;
    private ByteBuffer buffer;
    private long position;
    private final long end;
    private boolean closed;

    FileRangeInputStream(FileChannel channel, long offset, long length, BufferPool pool) {
        this.channel = channel;
        this.position = offset;
        this.end = offset + length;
        this.pool = pool;
    }

    @Override
    public int read() throws IOException {
        byte[] one = new byte[1];
        return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
        if (len == 0) {
            return 0;
        }
        if (buffer == null) {
            if (closed) {
                throw new IOException("stream closed");
            }
            if (position >= end) {
                return -1;
            }
            buffer = pool.acquire();
            buffer.limit(0);
        }
        if (!buffer.hasRemaining()) {
            if (position >= end) {
                return -1;
            }
            buffer.clear().limit((int) Math.min(buffer.capacity(), end - position));
            int n = channel.read(buffer, position);
            buffer.flip();
            if (n <= 0) {
                // never end quietly: a short body would look complete to the client
                throw new EOFException("blob file ends at byte " + position + ", " + (end - position)
                        + " bytes before the end recorded for it");
            }
            position += n;
        }
        int n = Math.min(len, buffer.remaining());
        buffer.get(b, off, n);
        return n;
    }

    @Override
    public int available() {
        return (int) Math.min(Integer.MAX_VALUE, (buffer == null ? 0 : buffer.remaining()) + (end - position));
    }

    @Override
    public void close() throws IOException {
        if (!closed) {
            closed = true;
            pool.release(buffer);
            buffer = null;
            channel.close();
        }
    }
}
