package io.berth.http.helidon;

import io.helidon.common.buffers.DataReader;
import io.helidon.http.HeaderNames;
import io.helidon.webserver.http.ServerRequest;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
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

    private static final byte[] LAST_CHUNK = "0\r\n".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] CRLF = "\r\n".getBytes(StandardCharsets.US_ASCII);

    private final SocketChannel channel;
    private final DataReader reader;
    private final HelidonConnections.EntityProgress progress;
    private final InputStream helidon;
    private final boolean chunked;
    private long remaining; // of the body (Content-Length) or of the current chunk
    private boolean afterChunk; // a chunk's data was read: its CRLF comes next
    private boolean ended;

    private SocketEntity(SocketChannel channel, DataReader reader, HelidonConnections.EntityProgress progress,
                         InputStream helidon, boolean chunked, long length) {
        this.channel = channel;
        this.reader = reader;
        this.progress = progress;
        this.helidon = helidon;
        this.chunked = chunked;
        this.remaining = length;
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
        Optional<HelidonConnections.EntityProgress> progress = HelidonConnections.entityProgress(req)
                .filter(p -> p.size() == length && p.read() == 0);
        Optional<SocketChannel> channel = HelidonConnections.plainChannel(req).filter(SocketChannel::isBlocking);
        Optional<DataReader> reader = HelidonConnections.context(req).map(ctx -> ctx.dataReader());
        if (progress.isEmpty() || channel.isEmpty() || reader.isEmpty() || reader.get() == null) {
            return Optional.empty();
        }
        return Optional.of(new SocketEntity(channel.get(), reader.get(), progress.get(), helidon, chunked,
                chunked ? 0 : length));
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
     * Reads the framing up to the next chunk's data, through Helidon's reader: false at the last chunk,
     * which is left for Helidon's stream to read (with the empty line after it).
     */
    private boolean nextChunk() throws IOException {
        if (afterChunk) {
            if (!Arrays.equals(CRLF, reader.readBytes(2))) {
                throw new IOException("chunk data not followed by CRLF");
            }
            afterChunk = false;
        }
        if (reader.startsWith(LAST_CHUNK)) {
            return false;
        }
        String line = reader.readLine();
        long size;
        try {
            size = line.isEmpty() || line.length() > 15 ? -1 : Long.parseLong(line, 16);
        } catch (NumberFormatException e) {
            size = -1;
        }
        if (size <= 0) {
            throw new IOException("invalid chunk size line '" + line.substring(0, Math.min(line.length(), 40)) + "'");
        }
        remaining = size;
        progress.advance(size); // the connection counts a chunked body by the chunks it announced
        return true;
    }

    /** Lets Helidon's stream see the end, which marks the body consumed for the connection. */
    private void end() throws IOException {
        if (helidon.read() >= 0) {
            throw new IOException("Helidon's entity stream went on past the body's end");
        }
    }
}
