package io.berth.admin;

import io.berth.core.auth.AccessControl;
import io.berth.core.auth.PemKeys;
import io.berth.core.config.BerthConfig;
import io.berth.core.config.ConfigKeys;
import io.berth.core.maintenance.Maintenance;
import io.berth.core.registry.Registry;
import io.grpc.ForwardingServerCall;
import io.grpc.ForwardingServerCallListener;
import io.grpc.InsecureServerCredentials;
import io.grpc.Metadata;
import io.grpc.Server;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerCredentials;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.Status;
import io.grpc.TlsServerCredentials;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.protobuf.services.HealthStatusManager;
import io.grpc.protobuf.services.ProtoReflectionServiceV1;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The gRPC admin listener: the admin service behind bearer tokens, the standard health service and
 * server reflection (so that {@code grpcurl} works) open to all. Bounded whatever clients do: calls
 * run on virtual threads (a waiting call holds no platform thread; nothing there sleeps), each
 * connection has at most {@link Limits#maxCallsPerConnection()} calls open, messages and metadata
 * have a maximum size, idle connections are closed, and clients' pings are rationed.
 */
public final class AdminServer implements AutoCloseable {
    /** How long a TLS (or plaintext HTTP/2) handshake may take. */
    private static final Duration HANDSHAKE = Duration.ofSeconds(10);

    private final Server server;
    private final HealthStatusManager health;
    private final boolean adminEnabled;
    private final ExecutorService executor;
    private final CallsInFlight calls;
    private final EventWatches watches;

    private AdminServer(
            Server server,
            HealthStatusManager health,
            boolean adminEnabled,
            ExecutorService executor,
            CallsInFlight calls,
            EventWatches watches) {
        this.server = server;
        this.health = health;
        this.adminEnabled = adminEnabled;
        this.executor = executor;
        this.calls = calls;
        this.watches = watches;
    }

    /** What the admin listener needs besides the registry. */
    public record Settings(
            String version,
            long startedAt,
            List<String> tokens,
            Duration gcGrace,
            AccessControl access,
            Optional<Tls> tls,
            Limits limits) {
        /** With the default {@link Limits}. */
        public Settings(
                String version,
                long startedAt,
                List<String> tokens,
                Duration gcGrace,
                AccessControl access,
                Optional<Tls> tls) {
            this(version, startedAt, tokens, gcGrace, access, tls, Limits.defaults());
        }
    }

    /**
     * What clients may take of the listener ({@code admin.max-*}, {@code admin.idle-timeout}): per
     * connection, and the WatchEvents streams of all.
     */
    public record Limits(
            int maxMessageBytes,
            int maxMetadataBytes,
            int maxCallsPerConnection,
            Duration idleTimeout,
            int maxEventWatches) {
        /** With the default number of event watches. */
        public Limits(int maxMessageBytes, int maxMetadataBytes, int maxCallsPerConnection, Duration idleTimeout) {
            this(
                    maxMessageBytes,
                    maxMetadataBytes,
                    maxCallsPerConnection,
                    idleTimeout,
                    defaults().maxEventWatches());
        }

        public static Limits from(BerthConfig config) {
            return new Limits(
                    (int) config.size(ConfigKeys.ADMIN_MAX_MESSAGE_SIZE),
                    (int) config.size(ConfigKeys.ADMIN_MAX_METADATA_SIZE),
                    config.intCount(ConfigKeys.ADMIN_MAX_CALLS_PER_CONNECTION),
                    config.duration(ConfigKeys.ADMIN_IDLE_TIMEOUT),
                    config.intCount(ConfigKeys.ADMIN_MAX_EVENT_WATCHES));
        }

        public static Limits defaults() {
            return from(BerthConfig.defaults());
        }
    }

    /** TLS of the admin listener: PEM certificate chain and key; with {@code clientCa}, client certificates too. */
    public record Tls(Path cert, Path key, Optional<Path> clientCa) {}

    public static AdminServer start(
            String host, int port, Registry registry, Maintenance maintenance, Settings settings) throws IOException {
        HealthStatusManager health = new HealthStatusManager();
        AdminAuth auth = new AdminAuth(
                settings.tokens(),
                settings.access(),
                settings.tls().flatMap(Tls::clientCa).isPresent());
        ServerCredentials credentials = InsecureServerCredentials.create();
        if (settings.tls().isPresent()) {
            Tls tls = settings.tls().get();
            TlsServerCredentials.Builder b;
            try {
                // keys read by Berth (PKCS#8, SEC1, PKCS#1), not by the transport, which reads PKCS#8 only
                b = TlsServerCredentials.newBuilder().keyManager(PemKeys.keyManagers(tls.cert(), tls.key()));
            } catch (GeneralSecurityException e) {
                throw new IllegalArgumentException(
                        "cannot use admin.tls.cert/admin.tls.key " + tls.cert() + " and " + tls.key() + ": "
                                + e.getMessage(),
                        e);
            }
            if (tls.clientCa().isPresent()) {
                b.trustManager(tls.clientCa().get().toFile()).clientAuth(TlsServerCredentials.ClientAuth.OPTIONAL);
            }
            credentials = b.build();
        }
        Limits limits = settings.limits();
        // a thread per call, virtual: a call waiting (for a password check, the database) holds no platform
        // thread, so 800 calls cannot become 800 threads
        ExecutorService executor = Executors.newThreadPerTaskExecutor(
                Thread.ofVirtual().name("berth-admin-", 0).factory());
        CallsInFlight calls = new CallsInFlight();
        EventWatches watches = new EventWatches(limits.maxEventWatches());
        Server server;
        try {
            server = NettyServerBuilder.forAddress(new InetSocketAddress(host, port), credentials)
                    .executor(executor)
                    .maxInboundMessageSize(limits.maxMessageBytes())
                    .maxInboundMetadataSize(limits.maxMetadataBytes())
                    .maxConcurrentCallsPerConnection(limits.maxCallsPerConnection())
                    .maxConnectionIdle(limits.idleTimeout().toMillis(), TimeUnit.MILLISECONDS)
                    .keepAliveTime(2, TimeUnit.MINUTES)
                    .keepAliveTimeout(20, TimeUnit.SECONDS)
                    .permitKeepAliveTime(30, TimeUnit.SECONDS) // clients pinging more often are sent away
                    .permitKeepAliveWithoutCalls(false)
                    .maxRstFramesPerWindow(200, 10) // HTTP/2 rapid reset
                    .handshakeTimeout(HANDSHAKE.toMillis(), TimeUnit.MILLISECONDS)
                    .intercept(calls)
                    .addService(ServerInterceptors.intercept(
                            new RegistryAdminService(
                                    registry,
                                    maintenance,
                                    settings.access().robots(),
                                    settings.version(),
                                    settings.startedAt(),
                                    settings.gcGrace(),
                                    watches),
                            auth))
                    .addService(health.getHealthService())
                    .addService(ProtoReflectionServiceV1.newInstance())
                    .build()
                    .start();
        } catch (IOException | RuntimeException e) {
            executor.shutdownNow();
            watches.close();
            throw e;
        }
        health.setStatus("", ServingStatus.SERVING);
        health.setStatus(
                "berth.admin.v1.RegistryAdmin", auth.enabled() ? ServingStatus.SERVING : ServingStatus.NOT_SERVING);
        return new AdminServer(server, health, auth.enabled(), executor, calls, watches);
    }

    /** Calls open now, and the most that were open at once (for tests). */
    int callsInFlight() {
        return calls.now.get();
    }

    int peakCallsInFlight() {
        return calls.peak.get();
    }

    /** The WatchEvents streams (for tests). */
    EventWatches watches() {
        return watches;
    }

    /** Counts calls from their start to their end, whichever way they end. */
    private static final class CallsInFlight implements ServerInterceptor {
        final AtomicInteger now = new AtomicInteger();
        final AtomicInteger peak = new AtomicInteger();

        @Override
        public <Q, R> ServerCall.Listener<Q> interceptCall(
                ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
            peak.accumulateAndGet(now.incrementAndGet(), Math::max);
            AtomicBoolean ended = new AtomicBoolean();
            Runnable end = () -> {
                if (ended.compareAndSet(false, true)) {
                    now.decrementAndGet();
                }
            };
            ServerCall.Listener<Q> listener;
            try {
                listener = next.startCall(
                        new ForwardingServerCall.SimpleForwardingServerCall<>(call) {
                            @Override
                            public void close(Status status, Metadata trailers) {
                                end.run();
                                super.close(status, trailers);
                            }
                        },
                        headers);
            } catch (RuntimeException e) {
                end.run();
                throw e;
            }
            return new ForwardingServerCallListener.SimpleForwardingServerCallListener<>(listener) {
                @Override
                public void onCancel() {
                    end.run();
                    super.onCancel();
                }

                @Override
                public void onComplete() {
                    end.run();
                    super.onComplete();
                }
            };
        }
    }

    public int port() {
        return server.getPort();
    }

    /** Whether admin calls are possible (tokens are configured); else the port serves health only. */
    public boolean adminEnabled() {
        return adminEnabled;
    }

    /** Stops taking calls and waits up to {@code timeoutMillis} for running ones. */
    public void stop(long timeoutMillis) {
        health.enterTerminalState();
        server.shutdown();
        watches.close(); // they would follow the outbox until the timeout
        try {
            if (!server.awaitTermination(timeoutMillis, TimeUnit.MILLISECONDS)) {
                server.shutdownNow();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            server.shutdownNow();
        } finally {
            executor.shutdownNow();
        }
    }

    @Override
    public void close() {
        stop(5000);
    }
}
