package io.berth.admin;

import io.berth.core.registry.Registry;
import io.berth.proto.admin.v1.GetServerInfoRequest;
import io.berth.proto.admin.v1.RegistryAdminGrpc;
import io.berth.proto.admin.v1.ServerInfo;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;

/** gRPC translation of the admin API onto registry-core; holds no rule of its own. */
public final class RegistryAdminService extends RegistryAdminGrpc.RegistryAdminImplBase {
    private final Registry registry;
    private final String version;
    private final long startedAt;

    public RegistryAdminService(Registry registry, String version, long startedAt) {
        this.registry = registry;
        this.version = version;
        this.startedAt = startedAt;
    }

    @Override
    public void getServerInfo(GetServerInfoRequest request, StreamObserver<ServerInfo> response) {
        try {
            response.onNext(ServerInfo.newBuilder()
                    .setVersion(version)
                    .setStartedAtEpochMillis(startedAt)
                    .setBlobStorage(registry.blobStore().kind())
                    .setMetadataStorage(registry.metadata().kind())
                    .setRepositoryCount(registry.metadata().repositoryCount())
                    .build());
            response.onCompleted();
        } catch (RuntimeException e) {
            response.onError(Status.UNAVAILABLE.withDescription("metadata unavailable").asRuntimeException());
        }
    }
}
