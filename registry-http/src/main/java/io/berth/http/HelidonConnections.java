package io.berth.http;

import io.helidon.common.buffers.DataWriter;
import io.helidon.webserver.ConnectionContext;
import io.helidon.webserver.http.ServerRequest;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.net.Socket;
import java.nio.channels.SocketChannel;
import java.util.Optional;

/**
 * The parts of a Helidon 4.5 HTTP/1 connection that its API does not expose: the connection of a
 * request, and the plain TCP channel underneath it. One place for Helidon's internals, reached with
 * private access that the class path grants; where it is not granted (another Helidon version, a
 * module path) each method answers "not available" and callers take Helidon's public path —
 * {@code ConsumedReadsTest} and {@code SendfileTest} fail on a Helidon upgrade that changes these.
 */
final class HelidonConnections {
    private static final VarHandle CONTEXT; // Http1ServerRequest.ctx
    private static final VarHandle WRITER_SOCKET; // SocketWriter.socket
    private static final VarHandle PLAIN_DELEGATE; // PlainSocket.delegate
    private static final VarHandle NIO_DELEGATE; // NioSocket.delegate
    private static final Class<?> DIRECT_WRITER; // SocketWriterDirect: writes on the handler's thread
    private static final Class<?> PLAIN_SOCKET;
    private static final Class<?> NIO_SOCKET;

    static {
        VarHandle context = null;
        VarHandle writerSocket = null;
        VarHandle plainDelegate = null;
        VarHandle nioDelegate = null;
        Class<?> direct = null;
        Class<?> plain = null;
        Class<?> nio = null;
        try {
            Class<?> request = Class.forName("io.helidon.webserver.http1.Http1ServerRequest");
            context = MethodHandles.privateLookupIn(request, MethodHandles.lookup())
                    .findVarHandle(request, "ctx", ConnectionContext.class);
        } catch (ReflectiveOperationException | RuntimeException unavailable) {
            context = null;
        }
        try {
            Class<?> writer = Class.forName("io.helidon.common.socket.SocketWriter");
            Class<?> helidonSocket = Class.forName("io.helidon.common.socket.HelidonSocket");
            plain = Class.forName("io.helidon.common.socket.PlainSocket");
            nio = Class.forName("io.helidon.common.socket.NioSocket");
            direct = Class.forName("io.helidon.common.socket.SocketWriterDirect");
            writerSocket = MethodHandles.privateLookupIn(writer, MethodHandles.lookup())
                    .findVarHandle(writer, "socket", helidonSocket);
            plainDelegate = MethodHandles.privateLookupIn(plain, MethodHandles.lookup())
                    .findVarHandle(plain, "delegate", Socket.class);
            nioDelegate = MethodHandles.privateLookupIn(nio, MethodHandles.lookup())
                    .findVarHandle(nio, "delegate", SocketChannel.class);
        } catch (ReflectiveOperationException | RuntimeException unavailable) {
            writerSocket = null;
        }
        CONTEXT = context;
        WRITER_SOCKET = context == null ? null : writerSocket;
        PLAIN_DELEGATE = WRITER_SOCKET == null ? null : plainDelegate;
        DIRECT_WRITER = WRITER_SOCKET == null ? null : direct;
        PLAIN_SOCKET = WRITER_SOCKET == null ? null : plain;
        NIO_DELEGATE = WRITER_SOCKET == null ? null : nioDelegate;
        NIO_SOCKET = WRITER_SOCKET == null ? null : nio;
    }

    private HelidonConnections() {
    }

    /** The HTTP/1 connection {@code req} arrived on; empty for other protocols or without access. */
    static Optional<ConnectionContext> context(ServerRequest req) {
        if (CONTEXT != null && CONTEXT.coordinateTypes().get(0).isInstance(req)) {
            return Optional.of((ConnectionContext) CONTEXT.get(req));
        }
        return Optional.empty();
    }

    /** Whether {@link #context} can answer. */
    static boolean contextAvailable() {
        return CONTEXT != null;
    }

    /** Whether {@link #plainChannel} can answer. */
    static boolean channelAvailable() {
        return WRITER_SOCKET != null;
    }

    /**
     * The TCP channel under {@code req}'s connection, when bytes written to it directly follow what the
     * response wrote before them: plain TCP (not TLS), and Helidon's writer writes on the calling thread
     * (no write queue). Empty otherwise.
     */
    static Optional<SocketChannel> plainChannel(ServerRequest req) {
        if (WRITER_SOCKET == null) {
            return Optional.empty();
        }
        return context(req).flatMap(ctx -> {
            DataWriter writer = ctx.dataWriter();
            if (writer == null || writer.getClass() != DIRECT_WRITER) {
                return Optional.empty();
            }
            Object socket = WRITER_SOCKET.get(writer);
            if (socket == null) {
                return Optional.empty();
            } else if (socket.getClass() == NIO_SOCKET) { // http.nio
                return Optional.ofNullable((SocketChannel) NIO_DELEGATE.get(socket));
            } else if (socket.getClass() == PLAIN_SOCKET) {
                return Optional.ofNullable(((Socket) PLAIN_DELEGATE.get(socket)).getChannel());
            }
            return Optional.empty(); // TLS
        });
    }
}
