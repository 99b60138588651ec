package io.berth.http;

import io.helidon.common.buffers.DataReader;
import io.helidon.http.HeaderNames;
import io.helidon.webserver.http.ServerRequest;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.util.Optional;

/**
 * A {@code Content-Length} request body on a plain HTTP/1 connection, read from the socket straight
 * into the caller's buffer: one copy, by the kernel, into the buffer that goes to the device. Helidon's
 * entity stream reads 8 KiB per system call into a fresh array, which the body then passes through
 * twice more in user space — for a large upload that was more CPU than hashing it.
 *
 * <p>First come the body bytes Helidon's connection reader already holds (it read past the headers),
 * then the socket, never beyond the body's last byte: a pipelined request after it stays in the socket
 * for Helidon. Each read is reported to the connection ({@link HelidonConnections.EntityProgress}), so
 * at the end Helidon's own stream of the body — created first, which sent {@code 100 Continue} if the
 * client asked for it — ends exactly there, and the connection goes on with the next request.
 */
final class SocketEntity {
    /** Smaller bodies are not worth it: Helidon's path is as fast for them. */
    static final long MIN_LENGTH = 1L << 20;

    private final SocketChannel channel;
    private final DataReader reader;
    private final HelidonConnections.EntityProgress progress;
    private final InputStream helidon;
    private long remaining;

    private SocketEntity(SocketChannel channel, DataReader reader, HelidonConnections.EntityProgress progress,
                         InputStream helidon, long length) {
        this.channel = channel;
        this.reader = reader;
        this.progress = progress;
        this.helidon = helidon;
        this.remaining = length;
    }

    /**
     * The body of {@code req} read from its socket, when that is possible: a plain connection, a
     * {@code Content-Length} of at least {@link #MIN_LENGTH} without content coding, and none of it
     * read yet.
     *
     * @param helidon {@code req}'s entity stream, just created and not read from
     */
    static Optional<SocketEntity> of(ServerRequest req, InputStream helidon) {
        var headers = req.headers();
        if (headers.contains(HeaderNames.TRANSFER_ENCODING) || headers.contains(HeaderNames.CONTENT_ENCODING)) {
            return Optional.empty();
        }
        long length = headers.contentLength().orElse(-1);
        if (length < MIN_LENGTH) {
            return Optional.empty();
        }
        Optional<HelidonConnections.EntityProgress> progress = HelidonConnections.entityProgress(req)
                .filter(p -> p.size() == length && p.read() == 0);
        Optional<SocketChannel> channel = HelidonConnections.plainChannel(req).filter(SocketChannel::isBlocking);
        Optional<DataReader> reader = HelidonConnections.context(req).map(ctx -> ctx.dataReader());
        if (progress.isEmpty() || channel.isEmpty() || reader.isEmpty() || reader.get() == null) {
            return Optional.empty();
        }
        return Optional.of(new SocketEntity(channel.get(), reader.get(), progress.get(), helidon, length));
    }

    /** As {@link io.berth.core.blob.DirectSource#read}; a client that closes early is an {@link EOFException}. */
    int read(ByteBuffer dst) throws IOException {
        if (remaining == 0) {
            end();
            return -1;
        }
        int max = (int) Math.min(dst.remaining(), remaining);
        if (max == 0) {
            return 0;
        }
        int n;
        int buffered = reader.available();
        if (buffered > 0) {
            byte[] bytes = reader.readBytes(Math.min(buffered, max));
            dst.put(bytes);
            n = bytes.length;
        } else {
            int limit = dst.limit();
            dst.limit(dst.position() + max);
            try {
                n = channel.read(dst);
            } finally {
                dst.limit(limit);
            }
            if (n < 0) {
                throw new EOFException("the client closed the connection " + remaining + " bytes before the end of"
                        + " the body");
            }
        }
        remaining -= n;
        progress.advance(n);
        return n;
    }

    /** Lets Helidon's stream see the end, which marks the body consumed for the connection. */
    private void end() throws IOException {
        if (helidon.read() >= 0) {
            throw new IOException("Helidon's entity stream went on past the body's length");
        }
    }
}
