package io.berth.admin;

import io.berth.core.registry.Registry;
import io.grpc.Server;
import io.grpc.ServerInterceptors;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.protobuf.services.HealthStatusManager;
import io.grpc.protobuf.services.ProtoReflectionServiceV1;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * The gRPC admin listener: the admin service behind bearer tokens, the standard health service and
 * server reflection (so that {@code grpcurl} works) open to all.
 */
public final class AdminServer implements AutoCloseable {
    private final Server server;
    private final HealthStatusManager health;
    private final boolean adminEnabled;

    private AdminServer(Server server, HealthStatusManager health, boolean adminEnabled) {
        this.server = server;
        this.health = health;
        this.adminEnabled = adminEnabled;
    }

    /** What the admin listener needs besides the registry. */
    public record Settings(String version, long startedAt, List<String> tokens, Duration gcGrace,
                           io.berth.core.auth.AccessControl access, Optional<Tls> tls) {
    }

    /** TLS of the admin listener: PEM certificate chain and key; with {@code clientCa}, client certificates too. */
    public record Tls(java.nio.file.Path cert, java.nio.file.Path key, Optional<java.nio.file.Path> clientCa) {
    }

    public static AdminServer start(String host, int port, Registry registry, Settings settings) throws IOException {
        HealthStatusManager health = new HealthStatusManager();
        AdminAuth auth = new AdminAuth(settings.tokens(), settings.access(),
                settings.tls().flatMap(Tls::clientCa).isPresent());
        io.grpc.ServerCredentials credentials = io.grpc.InsecureServerCredentials.create();
        if (settings.tls().isPresent()) {
            Tls tls = settings.tls().get();
            io.grpc.TlsServerCredentials.Builder b;
            try {
                // keys read by Berth (PKCS#8, SEC1, PKCS#1), not by the transport, which reads PKCS#8 only
                b = io.grpc.TlsServerCredentials.newBuilder().keyManager(io.berth.core.auth.PemKeys.keyManagers(
                        tls.cert(), tls.key()));
            } catch (java.security.GeneralSecurityException e) {
                throw new IllegalArgumentException("cannot use admin.tls.cert/admin.tls.key " + tls.cert() + " and "
                        + tls.key() + ": " + e.getMessage(), e);
            }
            if (tls.clientCa().isPresent()) {
                b.trustManager(tls.clientCa().get().toFile())
                        .clientAuth(io.grpc.TlsServerCredentials.ClientAuth.OPTIONAL);
            }
            credentials = b.build();
        }
        Server server = NettyServerBuilder.forAddress(new InetSocketAddress(host, port), credentials)
                .addService(ServerInterceptors.intercept(new RegistryAdminService(registry, settings.version(),
                        settings.startedAt(), settings.gcGrace()), auth))
                .addService(health.getHealthService())
                .addService(ProtoReflectionServiceV1.newInstance())
                .build()
                .start();
        health.setStatus("", ServingStatus.SERVING);
        health.setStatus("berth.admin.v1.RegistryAdmin", auth.enabled() ? ServingStatus.SERVING
                : ServingStatus.NOT_SERVING);
        return new AdminServer(server, health, auth.enabled());
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
        try {
            if (!server.awaitTermination(timeoutMillis, TimeUnit.MILLISECONDS)) {
                server.shutdownNow();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            server.shutdownNow();
        }
    }

    @Override
    public void close() {
        stop(5000);
    }
}
