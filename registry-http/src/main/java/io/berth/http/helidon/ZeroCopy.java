package io.berth.http.helidon;

import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.SocketChannel;
import java.util.function.LongConsumer;

/**
 * Sends part of a file to a TCP channel with sendfile(2) ({@link FileChannel#transferTo}), from a
 * virtual thread.
 *
 * <p>A virtual thread's socket is non-blocking underneath; when its send buffer is full, sendfile
 * fails with EAGAIN and {@code transferTo} returns 0 without waiting (the JDK parks virtual threads
 * only in the channel's own {@code write}). So after a 0 this sends the next byte with an ordinary
 * {@code write}, which parks the thread until the client has taken enough for the socket to be
 * writable again, and goes on with sendfile: one byte copied per full send buffer, the rest zero
 * copy, no spinning, no carrier thread held.
 *
 * <p>Each sendfile call sends at most {@link #CHUNK} bytes. One call for the whole file lets the
 * kernel push as much as the client's receive window takes in one go; on loopback that filled the
 * receiver's buffer (zero windows, retransmissions) and cost the client more CPU; calls of a few
 * hundred KiB were fastest (figures: docs/benchmarks.md, "Behind the code").
 */
final class ZeroCopy {
    /** Most bytes one sendfile call sends. */
    static final long CHUNK = 256 * 1024;

    private ZeroCopy() {}

    /**
     * Sends {@code [position, position + length)} of {@code file} to {@code socket}, telling
     * {@code progress} each number of bytes the socket took.
     *
     * @throws HelidonFastPaths.ReadFailure when the file cannot be read or ends early
     * @throws IOException when the channel fails (the client went away)
     */
    static void send(FileChannel file, long position, long length, SocketChannel socket, LongConsumer progress)
            throws IOException {
        ByteBuffer one = ByteBuffer.allocate(1);
        long sent = 0;
        while (sent < length) {
            long n;
            try {
                n = file.transferTo(position + sent, Math.min(length - sent, CHUNK), socket);
            } catch (IOException e) {
                readByte(file, position + sent, one, e); // a storage failure? otherwise the client's
                throw e;
            }
            if (n > 0) {
                sent += n;
                progress.accept(n);
                continue;
            }
            // the socket's buffer is full, or the file ended: one byte the blocking way
            readByte(file, position + sent, one, null);
            one.flip();
            while (one.hasRemaining()) {
                socket.write(one);
            }
            sent++;
            progress.accept(1);
        }
    }

    /** Reads the byte at {@code at} into {@code one}; a failure or the end of the file is a ReadFailure. */
    private static void readByte(FileChannel file, long at, ByteBuffer one, IOException during)
            throws HelidonFastPaths.ReadFailure {
        one.clear();
        int r;
        try {
            r = file.read(one, at);
        } catch (IOException e) {
            if (during != null) {
                e.addSuppressed(during);
            }
            throw new HelidonFastPaths.ReadFailure("reading at " + at + " failed: " + e.getMessage(), e);
        }
        if (r <= 0) {
            throw new HelidonFastPaths.ReadFailure("ended at " + at, new EOFException());
        }
    }
}
