package io.berth.http.helidon;

import io.helidon.common.buffers.DataReader;
import io.helidon.http.HeaderNames;
import io.helidon.webserver.ConnectionContext;
import io.helidon.webserver.http.ServerRequest;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Optional;

/**
 * A request body on a plain HTTP/1 connection whose bytes are read from the socket straight into the
 * caller's buffer: one copy, by the kernel, into the buffer that goes to the device. Helidon's entity
 * stream reads 8 KiB per system call into a fresh array, which the body then passes through twice
 * more in user space — for a large upload that was more CPU than hashing it.
 *
 * <p>Body bytes Helidon's connection reader already holds (it read past the headers, or past a chunk
 * header) are taken from it first, then the socket is read, never beyond the known end of the body
 * or of the current chunk: whatever follows stays where Helidon expects it. A {@code Content-Length}
 * body of at least {@link #MIN_LENGTH} is read this way whole. A chunked body (docker sends layers
 * chunked) has its framing — each chunk-size line, the CRLF after each chunk — read through Helidon's
 * reader, and only the chunks' data from the socket; its last chunk ({@code 0}) is left to Helidon.
 * Each read is reported to the connection ({@link HelidonConnections.EntityProgress}), so at the end
 * Helidon's own stream of the body — created first, which sent {@code 100 Continue} if the client
 * asked for it — ends exactly where the body ends, and the connection goes on with the next request.
 */
final class SocketEntity implements HelidonFastPaths.DirectBody {
    /** Smaller bodies of known length are not worth it: Helidon's path is as fast for them. */
    static final long MIN_LENGTH = 1L << 20;

    private final SocketChannel channel;
    private final DataReader reader;
    private final HelidonConnections.EntityProgress progress;
    private final InputStream helidon;
    private final boolean chunked;
    private final long maxPayloadSize; // the listener's, -1: none
    private long remaining; // of the body (Content-Length) or of the current chunk
    private boolean afterChunk; // a chunk's data was read: its CRLF comes next
    private boolean ended;

    private SocketEntity(
            SocketChannel channel,
            DataReader reader,
            HelidonConnections.EntityProgress progress,
            InputStream helidon,
            boolean chunked,
            long length,
            long maxPayloadSize) {
        this.channel = channel;
        this.reader = reader;
        this.progress = progress;
        this.helidon = helidon;
        this.chunked = chunked;
        this.remaining = length;
        this.maxPayloadSize = maxPayloadSize;
    }

    /**
     * The body of {@code req} read from its socket, when that is possible: a plain connection, no
     * content coding, a {@code Content-Length} of at least {@link #MIN_LENGTH} or chunked transfer
     * coding, and none of it read yet.
     *
     * @param helidon {@code req}'s entity stream, just created and not read from
     */
    static Optional<SocketEntity> of(ServerRequest req, InputStream helidon) {
        var headers = req.headers();
        if (headers.contains(HeaderNames.CONTENT_ENCODING)) {
            return Optional.empty();
        }
        boolean chunked = headers.contains(HeaderNames.TRANSFER_ENCODING);
        if (chunked) {
            List<String> codings = headers.get(HeaderNames.TRANSFER_ENCODING).allValues();
            if (codings.size() != 1 || !codings.get(0).trim().equalsIgnoreCase("chunked")) {
                return Optional.empty();
            }
        }
        long length = chunked ? -1 : headers.contentLength().orElse(-1);
        if (!chunked && length < MIN_LENGTH) {
            return Optional.empty();
        }
        Optional<HelidonConnections.EntityProgress> progress =
                HelidonConnections.entityProgress(req).filter(p -> p.size() == length && p.read() == 0);
        Optional<SocketChannel> channel = HelidonConnections.plainChannel(req).filter(SocketChannel::isBlocking);
        Optional<ConnectionContext> ctx = HelidonConnections.context(req);
        Optional<DataReader> reader = ctx.map(ConnectionContext::dataReader);
        if (progress.isEmpty() || channel.isEmpty() || reader.isEmpty() || reader.get() == null) {
            return Optional.empty();
        }
        long max = ctx.get().listenerContext().config().maxPayloadSize();
        if (max != -1 && length > max) {
            return Optional.empty(); // Helidon refuses it before routing: never here, but never past it either
        }
        return Optional.of(new SocketEntity(
                channel.get(), reader.get(), progress.get(), helidon, chunked, chunked ? 0 : length, max));
    }

    /**
     * As {@link io.berth.core.blob.DirectSource#read}; a client that closes early is an {@link EOFException},
     * broken chunked framing an {@link IOException}.
     */
    @Override
    public int read(ByteBuffer dst) throws IOException {
        if (ended) {
            return -1;
        }
        if (remaining == 0 && (!chunked || !nextChunk())) {
            ended = true;
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
                        + (chunked ? " a chunk" : " the body"));
            }
        }
        remaining -= n;
        if (!chunked) {
            progress.advance(n);
        }
        afterChunk = chunked;
        return n;
    }

    /**
     * Reads the framing up to the next chunk's data, through Helidon's reader, as Helidon's HTTP/1
     * connection (4.5) reads it: the two bytes after a chunk's data skipped unchecked, then a size line
     * ended by CRLF ({@link DataReader#findNewLine}, which refuses a bare LF or CR) whose whole text is
     * {@link Integer#parseUnsignedInt} in hex — no extensions, no spaces, an optional {@code +}, at
     * most {@code 7fffffff} — with the body's announced total within the listener's
     * {@code maxPayloadSize}. A line this takes, Helidon would have taken with the same size. Any
     * other line (the last chunk, a size Helidon refuses, a body past the limit) is left unread for
     * Helidon's stream, which then ends the body or fails as it would without this class: false.
     */
    private boolean nextChunk() {
        if (afterChunk) {
            reader.skip(2); // Helidon skips the CRLF after a chunk's data without looking at it
            afterChunk = false;
        }
        int end;
        long size;
        try {
            end = reader.findNewLine(Integer.MAX_VALUE);
            byte[] line = new byte[end];
            reader.getBuffer(end).read(line);
            size = Integer.parseUnsignedInt(new String(line, StandardCharsets.US_ASCII), 16);
        } catch (RuntimeException notTaken) {
            return false; // Helidon reads the line again and refuses it itself
        }
        if (size <= 0 || maxPayloadSize != -1 && progress.read() + size > maxPayloadSize) {
            return false; // the last chunk, or past the limit: Helidon's stream ends the body or answers 413
        }
        reader.skip(end + 2);
        remaining = size;
        progress.advance(size); // the connection counts a chunked body by the chunks it announced
        return true;
    }

    /**
     * Lets Helidon's stream see the end, which marks the body consumed for the connection; for a
     * chunked body it reads the line {@link #nextChunk} left, and fails where Helidon fails.
     */
    private void end() throws IOException {
        if (helidon.read() >= 0) {
            throw new IOException("Helidon's entity stream went on past the body's end");
        }
    }
}
