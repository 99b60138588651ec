package io.berth.core.blob;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;

/**
 * A byte range of a file, read with positional reads into one direct buffer of our own. Reading a
 * file into a heap array makes the JDK borrow (and on virtual threads often allocate) a temporary
 * direct buffer per call; keeping one per stream makes pulls steadier (measured: bin/bench, ~5% less
 * CPU per byte).
 */
final class FileRangeInputStream extends InputStream {
    private static final int BUFFER = 256 * 1024;

    private final FileChannel channel;
    private final ByteBuffer buffer;
    private long position;
    private final long end;

    FileRangeInputStream(FileChannel channel, long offset, long length) {
        this.channel = channel;
        this.position = offset;
        this.end = offset + length;
        this.buffer = ByteBuffer.allocateDirect((int) Math.max(1, Math.min(BUFFER, length)));
        buffer.limit(0);
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
        if (!buffer.hasRemaining()) {
            if (position >= end) {
                return -1;
            }
            buffer.clear().limit((int) Math.min(buffer.capacity(), end - position));
            int n = channel.read(buffer, position);
            buffer.flip();
            if (n <= 0) {
                // never end quietly: a short body would look complete to the client
                throw new java.io.EOFException("blob file ends at byte " + position + ", " + (end - position)
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
        return (int) Math.min(Integer.MAX_VALUE, buffer.remaining() + (end - position));
    }

    @Override
    public void close() throws IOException {
        channel.close();
    }
}
