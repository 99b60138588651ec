package io.berth.admin;

import io.berth.core.registry.Registry;
import io.grpc.Server;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.protobuf.services.HealthStatusManager;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;

/** The gRPC admin listener: the admin service plus the standard gRPC health service. */
public final class AdminServer implements AutoCloseable {
    private final Server server;
    private final HealthStatusManager health;

    private AdminServer(Server server, HealthStatusManager health) {
        this.server = server;
        this.health = health;
    }

    public static AdminServer start(String host, int port, Registry registry, String version, long startedAt)
            throws IOException {
        HealthStatusManager health = new HealthStatusManager();
        Server server = NettyServerBuilder.forAddress(new InetSocketAddress(host, port))
                .addService(new RegistryAdminService(registry, version, startedAt))
                .addService(health.getHealthService())
                .build()
                .start();
        health.setStatus("", ServingStatus.SERVING);
        return new AdminServer(server, health);
    }

    public int port() {
        return server.getPort();
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
