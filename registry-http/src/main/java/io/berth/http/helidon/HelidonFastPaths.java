package io.berth.http.helidon;

import io.helidon.common.buffers.DataWriter;
import io.helidon.webserver.http.ServerRequest;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.SocketChannel;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.LongConsumer;

/**
 * The fence around Helidon's internals: the only public type of this package. The server builds one
 * at start-up from what the configuration wants; each fast path is on only where Helidon's internals
 * it needs could be reached, and callers ask it per request — an empty answer means "take Helidon's
 * public path". Nothing outside this package reaches Helidon's non-public classes (ArchitectureTest).
 *
 * <ul>
 *   <li>{@code sendfile}: blob bodies sent from the file straight to the connection's socket
 *       ({@link ZeroCopy} on {@link HelidonConnections#plainChannel});</li>
 *   <li>{@code socket-reads}: large and chunked upload bodies read from the socket into the caller's
 *       buffer ({@link SocketEntity});</li>
 *   <li>{@code reader-unlinking}: the buffers a connection has read unlinked for the collector
 *       ({@link ConsumedReads}).</li>
 * </ul>
 */
public final class HelidonFastPaths {
    /** Every fast path off: Helidon's public paths only. */
    public static final HelidonFastPaths OFF = new HelidonFastPaths(false, false, false);

    private final boolean sendfile;
    private final boolean socketReads;
    private final boolean unlinking;

    private HelidonFastPaths(boolean sendfile, boolean socketReads, boolean unlinking) {
        this.sendfile = sendfile;
        this.socketReads = socketReads;
        this.unlinking = unlinking;
    }

    /**
     * The fast paths that are wanted and can be had: {@code sendfileWanted} ({@code http.sendfile},
     * not with TLS), {@code socketReadsWanted} ({@code http.socket-reads}, not with TLS), and reader
     * unlinking whenever it can; none unless the running Helidon is the one they were tested with
     * ({@link VersionGate}: otherwise one WARN, once).
     */
    public static HelidonFastPaths detect(boolean sendfileWanted, boolean socketReadsWanted) {
        return detect(sendfileWanted, socketReadsWanted, VersionGate.running());
    }

    /** As above, with the version gate's verdict given: closed, every fast path is off. */
    static HelidonFastPaths detect(boolean sendfileWanted, boolean socketReadsWanted, VersionGate.Verdict gate) {
        if (!gate.open()) {
            return OFF;
        }
        return new HelidonFastPaths(
                sendfileWanted && HelidonConnections.channelAvailable(),
                socketReadsWanted && HelidonConnections.progressAvailable(),
                ConsumedReads.available());
    }

    /** For the start-up line: {@code fast paths sendfile, socket-reads, reader-unlinking}, or {@code fast paths off}. */
    public String describe() {
        List<String> on = new ArrayList<>();
        if (sendfile) {
            on.add("sendfile");
        }
        if (socketReads) {
            on.add("socket-reads");
        }
        if (unlinking) {
            on.add("reader-unlinking");
        }
        return "fast paths " + (on.isEmpty() ? "off" : String.join(", ", on));
    }

    public boolean sendfileOn() {
        return sendfile;
    }

    public boolean socketReadsOn() {
        return socketReads;
    }

    public boolean unlinkingOn() {
        return unlinking;
    }

    /**
     * Sends files to {@code req}'s connection with sendfile, when that is on and the connection is plain
     * TCP written on the handler's thread; empty otherwise (copy through the response instead).
     */
    public Optional<FileSender> fileSender(ServerRequest req) {
        return sendfile ? HelidonConnections.plainChannel(req).map(FileSender::new) : Optional.empty();
    }

    /**
     * {@code req}'s body read from its socket ({@link SocketEntity}), when that is on and possible for
     * this request; empty otherwise (read {@code helidonEntity}).
     *
     * @param helidonEntity {@code req}'s entity stream, just created and not read from
     */
    public Optional<DirectBody> socketBody(ServerRequest req, InputStream helidonEntity) {
        return socketReads ? SocketEntity.of(req, helidonEntity).map(e -> e) : Optional.empty();
    }

    /**
     * Unlinks what the reader of {@code req}'s connection has read since the last call, so that the
     * collector sees it is garbage ({@link ConsumedReads}); nothing when that is off. Call it on the
     * thread that handles the request.
     */
    public void releaseConsumed(ServerRequest req) {
        if (unlinking) {
            ConsumedReads.release(req);
        }
    }

    /** A request body read into the caller's buffer, as {@link io.berth.core.blob.DirectSource#read}. */
    public interface DirectBody {
        /**
         * Reads into {@code dst}: -1 at the body's end; a client that closes early is an
         * {@link java.io.EOFException}, broken framing an {@link IOException}.
         */
        int read(ByteBuffer dst) throws IOException;
    }

    /** Sends parts of files to one connection's socket, behind what its response wrote before. */
    public static final class FileSender {
        private final SocketChannel socket;

        private FileSender(SocketChannel socket) {
            this.socket = socket;
        }

        /**
         * Sends {@code [position, position + length)} of {@code file}, telling {@code progress} each
         * number of bytes the socket took.
         *
         * @throws ReadFailure when the file cannot be read or ends early
         * @throws IOException when the channel fails (the client went away)
         */
        public void send(FileChannel file, long position, long length, LongConsumer progress) throws IOException {
            ZeroCopy.send(file, position, length, socket, progress);
        }
    }

    /** The file could not be read, or ended early: a storage failure, not the client's. */
    public static final class ReadFailure extends IOException {
        ReadFailure(String message, Throwable cause) {
            super(message, cause);
        }
    }

    /**
     * A connection writer that wraps Helidon's own (the connection guard's timed one): the sendfile
     * path looks under it for the socket.
     */
    public interface WrappedWriter {
        DataWriter helidonWriter();
    }
}
