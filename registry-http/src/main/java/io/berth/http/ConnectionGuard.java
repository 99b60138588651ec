package io.berth.http;

import com.sun.management.UnixOperatingSystemMXBean;
import io.berth.core.error.ErrorCode;
import io.berth.core.model.ClientGroup;
import io.berth.http.helidon.HelidonFastPaths;
import io.helidon.common.buffers.BufferData;
import io.helidon.common.buffers.DataReader;
import io.helidon.common.buffers.DataWriter;
import io.helidon.common.concurrency.limits.Limit;
import io.helidon.common.socket.HelidonSocket;
import io.helidon.common.socket.PeerInfo;
import io.helidon.http.Headers;
import io.helidon.webserver.CloseConnectionException;
import io.helidon.webserver.ConnectionContext;
import io.helidon.webserver.ListenerConfig;
import io.helidon.webserver.ListenerContext;
import io.helidon.webserver.ProxyProtocolData;
import io.helidon.webserver.Router;
import io.helidon.webserver.ServerConnectionException;
import io.helidon.webserver.http1.Http1Config;
import io.helidon.webserver.http1.Http1ConnectionListener;
import io.helidon.webserver.http1.Http1ConnectionSelector;
import io.helidon.webserver.spi.ServerConnection;
import io.helidon.webserver.spi.ServerConnectionSelector;
import io.micrometer.core.instrument.Counter;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

/**
 * What a connection may hold before it makes a request. Helidon 4.5 bounds none of it: a connection
 * that sends half a header and then nothing stays open for good with about 22 KiB of heap, and
 * some 6,400 of them took the default heap and with it the listener. Here:
 * <ul>
 * <li>at most {@code http.max-connections} connections are open, at most
 * {@code http.max-connections-per-client} from one address (an IPv6 address by its /64, which one
 * host is given whole); one more is answered at once — 503 {@code UNAVAILABLE} or 429
 * {@code TOOMANYREQUESTS}, with the OCI error body — and closed, before anything is read from it;</li>
 * <li>a request's line and headers must be complete within {@code http.header-timeout} of its first
 * byte (a new connection's first request: of the connection's opening);</li>
 * <li>a kept-alive connection that starts no request within {@code http.idle-timeout} of its last
 * answer is closed.</li>
 * </ul>
 * It sits where Helidon picks the protocol of a new connection: the listener's only
 * {@link ServerConnectionSelector} is this one, wrapping Helidon's HTTP/1 selector, so it sees each
 * connection before a byte is read, and it gives the connection a reader that notes when bytes
 * arrive. Helidon's receive listener says when a request's headers are complete, and
 * {@link #requestDone} (the request log, and the answers Helidon gives before routing) when the
 * connection waits for the next request. A connection past its time is closed through Helidon
 * ({@link ServerConnection#close} with interrupt) only while it waits for a request: a request being
 * served is never interrupted (its body has {@code http.read-timeout} and {@code http.min-body-rate}).
 * The connection's writer is watched as well: a client that takes its answers slower than
 * {@code http.min-send-rate} has its connection closed ({@link BodyWatchdog}).
 */
final class ConnectionGuard implements ServerConnectionSelector, Http1ConnectionListener, AutoCloseable {
    private static final System.Logger LOG = System.getLogger(ConnectionGuard.class.getName());
    /** The connection the current thread serves (Helidon serves each connection on a thread of its own). */
    private static final ThreadLocal<Tracked> CURRENT = new ThreadLocal<>();

    private final ServerConnectionSelector http1;
    private final long headerNanos;
    private final long idleNanos;
    private final int max;
    private final int maxPerClient;
    private final AtomicInteger open = new AtomicInteger();
    private final Map<String, AtomicInteger> perClient = new ConcurrentHashMap<>();
    private final Set<Tracked> tracked = ConcurrentHashMap.newKeySet();
    private final ScheduledExecutorService ticker;
    private final Counter refusedPerClient;
    private final Counter refusedTotal;
    private final Counter headerTimeouts;
    private final Counter idleTimeouts;
    private final byte[] perClientAnswer;
    private final byte[] totalAnswer;

    /** What a connection is doing, and since when (System.nanoTime). */
    private enum Phase {
        HEADERS,
        IDLE,
        BUSY,
        CLOSING
    }

    private record State(Phase phase, long since) {}

    /**
     * Most bytes written to a connection in one call: a write is counted towards {@code http.min-send-rate}
     * when it returns, so one in progress is at most this much the client is not yet credited with.
     */
    static final int SEND_SLICE = 8 * 1024;

    private final BodyWatchdog sends;

    ConnectionGuard(
            Duration headerTimeout,
            Duration idleTimeout,
            int max,
            int maxPerClient,
            HttpMetrics metrics,
            BodyWatchdog sends) {
        this.sends = sends;
        // Helidon's HTTP/1 with its defaults, telling this guard when a request's headers are complete
        this.http1 = Http1ConnectionSelector.builder()
                .config(Http1Config.builder()
                        .name("http_1_1")
                        .addReceiveListener(this)
                        .build())
                .build();
        this.headerNanos = headerTimeout.toNanos();
        this.idleNanos = idleTimeout.toNanos();
        this.max = max;
        this.maxPerClient = maxPerClient;
        this.refusedPerClient = refused(metrics, "per-client");
        this.refusedTotal = refused(metrics, "total");
        this.headerTimeouts = timedOut(metrics, "header");
        this.idleTimeouts = timedOut(metrics, "idle");
        metrics.gauge("berth.http.connections.open", "HTTP connections open now.", open::get);
        this.perClientAnswer = answer(
                429,
                "Too Many Requests",
                ErrorCode.TOOMANYREQUESTS,
                "this client has " + maxPerClient + " connections open, its limit (http.max-connections-per-client)",
                "http.max-connections-per-client",
                maxPerClient);
        this.totalAnswer = answer(
                503,
                "Service Unavailable",
                ErrorCode.STORAGE_UNAVAILABLE,
                "the registry has " + max + " connections open, its limit (http.max-connections)",
                "http.max-connections",
                max);
        this.ticker = Executors.newSingleThreadScheduledExecutor(
                r -> Thread.ofPlatform().daemon().name("berth-connection-guard").unstarted(r));
        long period = Math.max(50, Math.min(1000, Math.min(headerTimeout.toMillis(), idleTimeout.toMillis()) / 4));
        ticker.scheduleAtFixedRate(this::expire, period, period, TimeUnit.MILLISECONDS);
    }

    private static Counter refused(HttpMetrics metrics, String limit) {
        return Counter.builder("berth.http.connections.refused")
                .tag("limit", limit)
                .description("Connections answered and closed at once because a connection limit was reached: "
                        + "per-client (http.max-connections-per-client) or total (http.max-connections).")
                .register(metrics.registry());
    }

    private static Counter timedOut(HttpMetrics metrics, String timeout) {
        return Counter.builder("berth.http.connections.timed.out")
                .tag("timeout", timeout)
                .description("Connections closed while waiting for a request: header (http.header-timeout) or "
                        + "idle (http.idle-timeout).")
                .register(metrics.registry());
    }

    /**
     * Sets up Helidon's listener for the guard: this guard as its only connection selector (Helidon's own
     * discovery would add a second, and with two it reads a connection's first bytes before choosing,
     * out of the guard's sight); a ceiling on accepted sockets, where Helidon waits instead of accepting,
     * a little above {@code http.max-connections} (refused connections are closed at once) and below the
     * process's open-file limit — Helidon 4.5's listener stops for good when accept fails for lack of
     * descriptors; and Helidon's own idle check (which closes only connections waiting for a request
     * line) after the guard's, as a backstop.
     */
    void configure(ListenerConfig.BuilderBase<?, ?> listener, Duration headerTimeout, Duration idleTimeout) {
        long files = openFileLimit();
        int ceiling = max + Math.max(64, max / 16);
        if (files > 0) {
            long room = files - RESERVED_FILES;
            if (room < max) {
                LOG.log(
                        System.Logger.Level.WARNING,
                        "http.max-connections is " + max + " but the process may open "
                                + files + " files (ulimit -n): at most " + Math.max(16, room)
                                + " connections are accepted at "
                                + "once, further ones wait; raise the limit or lower http.max-connections");
            }
            ceiling = (int) Math.max(16, Math.min(ceiling, room));
        }
        listener.protocolsDiscoverServices(false)
                .addConnectionSelector(this)
                .maxTcpConnections(ceiling)
                .idleConnectionTimeout(idleTimeout.plus(headerTimeout))
                .idleConnectionPeriod(Duration.ofSeconds(Math.max(1, Math.min(60, idleTimeout.toSeconds()))));
    }

    /** Descriptors left for everything but connections: files, the database, the admin API, pipes. */
    static final int RESERVED_FILES = 256;

    /** The process's limit on open files, or -1 where the JVM does not tell. */
    static long openFileLimit() {
        return ManagementFactory.getOperatingSystemMXBean() instanceof UnixOperatingSystemMXBean unix
                ? unix.getMaxFileDescriptorCount()
                : -1;
    }

    /** A complete answer that refuses a connection, sent before anything of it is read. */
    private static byte[] answer(int status, String reason, ErrorCode code, String message, String setting, int limit) {
        byte[] body = OciErrors.body(code, message, Map.of("setting", setting, "limit", limit));
        String head = "HTTP/1.1 " + status + " " + reason + "\r\nContent-Type: application/json\r\nRetry-After: "
                + OciErrors.RETRY_AFTER_SECONDS + "\r\nConnection: close\r\nContent-Length: " + body.length
                + "\r\n\r\n";
        byte[] out = new byte[head.length() + body.length];
        System.arraycopy(head.getBytes(StandardCharsets.US_ASCII), 0, out, 0, head.length());
        System.arraycopy(body, 0, out, head.length(), body.length);
        return out;
    }

    /**
     * The connection the calling thread serves, for an answer given before routing (no request object
     * to ask): the client's address, and whether the connection began with a TLS handshake.
     */
    record Peer(String address, boolean tlsHandshake) {}

    /** {@link Peer} of the connection the calling thread serves, if this guard serves it. */
    static Optional<Peer> currentPeer() {
        Tracked t = CURRENT.get();
        return t == null ? Optional.empty() : Optional.of(new Peer(t.address, t.tlsHandshake));
    }

    /**
     * Whether a connection's first bytes are a TLS record carrying a handshake (a ClientHello: content
     * type 22, version 3.x): docker and skopeo try TLS first on a registry they were told is insecure.
     */
    static boolean tlsHandshake(byte[] first) {
        return first.length >= 2 && first[0] == 0x16 && first[1] == 0x03;
    }

    /** The send watch of the connection the calling thread serves, for bytes sent past its writer; or null. */
    static BodyWatchdog.Watch sendWatch() {
        Tracked t = CURRENT.get();
        return t == null ? null : t.send;
    }

    /** The connection the calling thread serves has answered its request: it waits for the next one. */
    static void requestDone() {
        Tracked t = CURRENT.get();
        if (t != null) {
            State s = t.state.get();
            if (s.phase() != Phase.CLOSING) {
                t.state.compareAndSet(s, new State(Phase.IDLE, System.nanoTime()));
            }
        }
    }

    @Override
    public void headers(ConnectionContext ctx, Headers headers) {
        Tracked t = CURRENT.get();
        if (t == null) {
            return;
        }
        State s = t.state.get();
        // the request is served from here on; a connection the guard began to close goes no further
        if (s.phase() == Phase.CLOSING || !t.state.compareAndSet(s, new State(Phase.BUSY, 0))) {
            throw new CloseConnectionException(
                    "request headers came after " + (headerNanos / 1_000_000) + " ms (http.header-timeout)");
        }
    }

    @Override
    public ServerConnection connection(ConnectionContext ctx) {
        String client = client(ctx.remotePeer());
        if (open.incrementAndGet() > max) {
            open.decrementAndGet();
            return refuse(ctx, refusedTotal, totalAnswer);
        }
        AtomicInteger mine = perClient.compute(client, (k, v) -> {
            AtomicInteger n = v == null ? new AtomicInteger() : v;
            n.incrementAndGet();
            return n;
        });
        if (mine.get() > maxPerClient) {
            leave(client);
            return refuse(ctx, refusedPerClient, perClientAnswer);
        }
        Tracked t = new Tracked(client, address(ctx.remotePeer()));
        try {
            t.connection = http1.connection(new Guarded(ctx, t));
        } catch (RuntimeException | Error e) {
            leave(client);
            throw e;
        }
        tracked.add(t);
        return t;
    }

    /** Answers a connection over a limit and lets Helidon close it, before reading anything from it. */
    private static ServerConnection refuse(ConnectionContext ctx, Counter counter, byte[] answer) {
        counter.increment();
        if (!ctx.isSecure()) { // with TLS an answer would wait for the client's handshake: just close
            try {
                ctx.dataWriter().writeNow(BufferData.create(answer));
            } catch (RuntimeException gone) {
                // the client is not there to read it
            }
        }
        return new ServerConnection() {
            @Override
            public void handle(Limit limit) {
                // nothing: the connection closes when this returns
            }

            @Override
            public Duration idleTime() {
                return Duration.ZERO;
            }

            @Override
            public void close(boolean interrupt) {}
        };
    }

    private void leave(String client) {
        perClient.computeIfPresent(client, (k, v) -> v.decrementAndGet() <= 0 ? null : v);
        open.decrementAndGet();
    }

    /** The client's address as logs name it. */
    static String address(PeerInfo peer) {
        return peer.address() instanceof InetSocketAddress inet && inet.getAddress() != null
                ? inet.getAddress().getHostAddress()
                : String.valueOf(peer.address());
    }

    /** The address a per-client limit counts: IPv4 as it is, IPv6 by its /64 ({@link ClientGroup}). */
    static String client(PeerInfo peer) {
        if (peer.address() instanceof InetSocketAddress inet && inet.getAddress() != null) {
            return ClientGroup.of(inet.getAddress());
        }
        return String.valueOf(peer.address());
    }

    /** Closes connections past their time (on the guard's own thread, which must never end on a failure). */
    private void expire() {
        try {
            expireNow();
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, "connection timeouts: " + e);
        }
    }

    private void expireNow() {
        long now = System.nanoTime();
        for (Tracked t : tracked) {
            State s = t.state.get();
            long limit = switch (s.phase()) {
                case HEADERS -> headerNanos;
                case IDLE -> idleNanos;
                default -> -1;
            };
            if (limit >= 0 && now - s.since() > limit && t.state.compareAndSet(s, new State(Phase.CLOSING, now))) {
                (s.phase() == Phase.HEADERS ? headerTimeouts : idleTimeouts).increment();
                try {
                    t.connection.close(true); // Helidon interrupts its read: the socket closes
                } catch (RuntimeException e) {
                    LOG.log(System.Logger.Level.DEBUG, "closing a timed-out connection: " + e);
                }
            }
        }
    }

    @Override
    public void close() {
        ticker.shutdownNow();
    }

    // the rest of ServerConnectionSelector is Helidon's HTTP/1 selector's

    @Override
    public int bytesToIdentifyConnection() {
        return http1.bytesToIdentifyConnection();
    }

    @Override
    public Support supports(BufferData data) {
        return http1.supports(data);
    }

    @Override
    public Set<String> supportedApplicationProtocols() {
        return http1.supportedApplicationProtocols();
    }

    /** One connection Helidon serves, counted until it ends. */
    private final class Tracked implements ServerConnection {
        final String client;
        final String address;
        final BodyWatchdog.Watch send;
        final AtomicReference<State> state = new AtomicReference<>(new State(Phase.HEADERS, System.nanoTime()));
        volatile ServerConnection connection;
        /** Whether bytes arrived yet, and whether the first ones were a TLS handshake. */
        private volatile boolean begun;

        volatile boolean tlsHandshake;

        Tracked(String client, String address) {
            this.client = client;
            this.address = address;
            this.send = sends.watch(client);
        }

        /** Bytes arrived: a connection that waited for a request now receives one. */
        void received(byte[] bytes) {
            if (!begun) {
                begun = true;
                tlsHandshake = tlsHandshake(bytes);
            }
            State s = state.get();
            if (s.phase() == Phase.IDLE) {
                state.compareAndSet(s, new State(Phase.HEADERS, System.nanoTime()));
            } else if (s.phase() == Phase.CLOSING) {
                throw new CloseConnectionException("connection timed out waiting for a request");
            }
        }

        @Override
        public void handle(Limit limit) throws InterruptedException {
            CURRENT.set(this);
            try {
                connection.handle(limit);
            } finally {
                CURRENT.remove();
                tracked.remove(this);
                leave(client);
            }
        }

        @Override
        public Duration idleTime() {
            return connection.idleTime();
        }

        @Override
        public void close(boolean interrupt) {
            connection.close(interrupt);
        }
    }

    /** Helidon's connection context with a reader that tells the guard when bytes arrive. */
    private static final class Guarded implements ConnectionContext {
        private final ConnectionContext ctx;
        private final DataReader reader;
        private final DataWriter writer;

        Guarded(ConnectionContext ctx, Tracked tracked) {
            this.ctx = ctx;
            this.writer = new WatchedWriter(ctx.dataWriter(), tracked.send);
            HelidonSocket socket = ctx.serverSocket();
            this.reader = DataReader.create(() -> {
                byte[] bytes;
                try {
                    bytes = socket.get();
                } catch (UncheckedIOException e) {
                    // as Helidon's own reader reports a failed socket read
                    throw new ServerConnectionException("Failed to get data from socket", e);
                }
                if (bytes != null) {
                    tracked.received(bytes);
                }
                return bytes;
            });
        }

        @Override
        public DataReader dataReader() {
            return reader;
        }

        @Override
        public ListenerContext listenerContext() {
            return ctx.listenerContext();
        }

        @Override
        public ExecutorService executor() {
            return ctx.executor();
        }

        @Override
        public DataWriter dataWriter() {
            return writer;
        }

        @Override
        public Router router() {
            return ctx.router();
        }

        @Override
        public Optional<ProxyProtocolData> proxyProtocolData() {
            return ctx.proxyProtocolData();
        }

        @Override
        public HelidonSocket serverSocket() {
            return ctx.serverSocket();
        }

        @Override
        public PeerInfo remotePeer() {
            return ctx.remotePeer();
        }

        @Override
        public PeerInfo localPeer() {
            return ctx.localPeer();
        }

        @Override
        public boolean isSecure() {
            return ctx.isSecure();
        }

        @Override
        public String socketId() {
            return ctx.socketId();
        }

        @Override
        public String childSocketId() {
            return ctx.childSocketId();
        }
    }

    /**
     * Helidon's connection writer, each write (in slices of at most {@link #SEND_SLICE}) timed by the
     * connection's send watch; a write the watchdog cut ends the connection.
     */
    private static final class WatchedWriter implements DataWriter, HelidonFastPaths.WrappedWriter {
        private final DataWriter out;
        private final BodyWatchdog.Watch watch;

        WatchedWriter(DataWriter out, BodyWatchdog.Watch watch) {
            this.out = out;
            this.watch = watch;
        }

        @Override
        public DataWriter helidonWriter() {
            return out;
        }

        @Override
        public void write(BufferData... buffers) {
            for (BufferData b : buffers) {
                write(b);
            }
        }

        @Override
        public void write(BufferData buffer) {
            send(buffer, false);
        }

        @Override
        public void writeNow(BufferData... buffers) {
            for (BufferData b : buffers) {
                writeNow(b);
            }
        }

        @Override
        public void writeNow(BufferData buffer) {
            send(buffer, true);
        }

        private void send(BufferData buffer, boolean now) {
            while (buffer.available() > SEND_SLICE) {
                byte[] slice = new byte[SEND_SLICE];
                buffer.read(slice, 0, SEND_SLICE);
                timed(BufferData.create(slice), now);
            }
            timed(buffer, now);
        }

        private void timed(BufferData buffer, boolean now) {
            int n = buffer.available();
            watch.reading();
            boolean cut;
            try {
                if (now) {
                    out.writeNow(buffer);
                } else {
                    out.write(buffer);
                }
            } finally {
                cut = watch.done(n);
            }
            if (cut) {
                throw new CloseConnectionException(watch.why());
            }
        }

        @Override
        public void flush() {
            out.flush();
        }

        @Override
        public void close() {
            out.close();
        }
    }
}
