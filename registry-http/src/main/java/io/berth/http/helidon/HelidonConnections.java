package io.berth.http.helidon;

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
    private static final VarHandle CONNECTION; // Http1ServerRequestWithEntity.connection
    private static final VarHandle ENTITY_SIZE; // Http1Connection.currentEntitySize
    private static final VarHandle ENTITY_READ; // Http1Connection.currentEntitySizeRead

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
        VarHandle connection = null;
        VarHandle entitySize = null;
        VarHandle entityRead = null;
        try {
            Class<?> request = Class.forName("io.helidon.webserver.http1.Http1ServerRequestWithEntity");
            Class<?> http1 = Class.forName("io.helidon.webserver.http1.Http1Connection");
            connection = MethodHandles.privateLookupIn(request, MethodHandles.lookup())
                    .findVarHandle(request, "connection", http1);
            MethodHandles.Lookup inConnection = MethodHandles.privateLookupIn(http1, MethodHandles.lookup());
            entitySize = inConnection.findVarHandle(http1, "currentEntitySize", long.class);
            entityRead = inConnection.findVarHandle(http1, "currentEntitySizeRead", long.class);
        } catch (ReflectiveOperationException | RuntimeException unavailable) {
            connection = null;
        }
        CONTEXT = context;
        WRITER_SOCKET = context == null ? null : writerSocket;
        PLAIN_DELEGATE = WRITER_SOCKET == null ? null : plainDelegate;
        DIRECT_WRITER = WRITER_SOCKET == null ? null : direct;
        PLAIN_SOCKET = WRITER_SOCKET == null ? null : plain;
        NIO_DELEGATE = WRITER_SOCKET == null ? null : nioDelegate;
        NIO_SOCKET = WRITER_SOCKET == null ? null : nio;
        CONNECTION = WRITER_SOCKET == null ? null : connection;
        ENTITY_SIZE = CONNECTION == null ? null : entitySize;
        ENTITY_READ = CONNECTION == null ? null : entityRead;
    }

    private HelidonConnections() {}

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

    /** Whether {@link #entityProgress} can answer (and with it {@link #plainChannel} and {@link #context}). */
    static boolean progressAvailable() {
        return ENTITY_READ != null;
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
            DataWriter writer =
                    ctx.dataWriter() instanceof HelidonFastPaths.WrappedWriter w ? w.helidonWriter() : ctx.dataWriter();
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

    /**
     * Where a request's body stands in its HTTP/1 connection: the connection counts the bytes of a
     * {@code Content-Length} body it has handed out, and ends the body when the count reaches the
     * length. Whoever reads body bytes from the socket itself reports them with {@link #advance}, so
     * that Helidon's own entity stream then ends where the body ends.
     */
    record EntityProgress(Object connection) {
        long size() {
            return (long) ENTITY_SIZE.get(connection);
        }

        long read() {
            return (long) ENTITY_READ.get(connection);
        }

        void advance(long bytes) {
            ENTITY_READ.set(connection, read() + bytes);
        }
    }

    /** The progress of {@code req}'s body; empty for requests without one or without access. */
    static Optional<EntityProgress> entityProgress(ServerRequest req) {
        if (CONNECTION != null && CONNECTION.coordinateTypes().get(0).isInstance(req)) {
            Object connection = CONNECTION.get(req);
            return connection == null ? Optional.empty() : Optional.of(new EntityProgress(connection));
        }
        return Optional.empty();
    }
}
