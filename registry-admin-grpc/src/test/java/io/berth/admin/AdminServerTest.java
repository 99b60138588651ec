package io.berth.admin;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.berth.core.blob.FilesystemBlobStore;
import io.berth.core.metadata.SqliteMetadataStore;
import io.berth.core.model.RepositoryName;
import io.berth.core.registry.Registry;
import io.berth.core.registry.RegistryOptions;
import io.berth.proto.admin.v1.GetServerInfoRequest;
import io.berth.proto.admin.v1.RegistryAdminGrpc;
import io.berth.proto.admin.v1.ServerInfo;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthGrpc;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AdminServerTest {
    @TempDir
    Path dir;

    @Test
    void serverInfoAndHealthOverRealGrpc() throws Exception {
        try (Registry registry = new Registry(new FilesystemBlobStore(dir.resolve("blobs"), false),
                new SqliteMetadataStore(dir.resolve("berth.db")), RegistryOptions.defaults())) {
            registry.metadata().inTransaction(tx -> {
                tx.ensureRepository(RepositoryName.of("a/b"));
                return null;
            });
            AdminServer server = AdminServer.start("127.0.0.1", 0, registry, "9.9.9", 1234L);
            ManagedChannel ch = ManagedChannelBuilder.forAddress("127.0.0.1", server.port()).usePlaintext().build();
            try {
                ServerInfo info = RegistryAdminGrpc.newBlockingStub(ch).withDeadlineAfter(10, TimeUnit.SECONDS)
                        .getServerInfo(GetServerInfoRequest.getDefaultInstance());
                assertEquals("9.9.9", info.getVersion());
                assertEquals(1234L, info.getStartedAtEpochMillis());
                assertEquals("filesystem", info.getBlobStorage());
                assertEquals("sqlite", info.getMetadataStorage());
                assertEquals(1, info.getRepositoryCount());
                HealthCheckResponse health = HealthGrpc.newBlockingStub(ch).withDeadlineAfter(10, TimeUnit.SECONDS)
                        .check(HealthCheckRequest.getDefaultInstance());
                assertEquals(HealthCheckResponse.ServingStatus.SERVING, health.getStatus());
            } finally {
                ch.shutdownNow();
                server.stop(2000);
            }
        }
    }
}
