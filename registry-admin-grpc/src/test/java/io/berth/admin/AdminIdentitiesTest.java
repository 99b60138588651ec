package io.berth.admin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.berth.core.auth.AccessControl;
import io.berth.core.auth.Action;
import io.berth.core.auth.Principal;
import io.berth.core.auth.Robots;
import io.berth.core.blob.FilesystemBlobStore;
import io.berth.core.config.BerthConfig;
import io.berth.core.maintenance.Maintenance;
import io.berth.core.metadata.sqlite.SqliteMetadataStore;
import io.berth.core.registry.Registry;
import io.berth.core.registry.RegistryOptions;
import io.berth.proto.admin.v1.CreateRobotRequest;
import io.berth.proto.admin.v1.CreatedRobot;
import io.berth.proto.admin.v1.GetServerInfoRequest;
import io.berth.proto.admin.v1.ListRobotsRequest;
import io.berth.proto.admin.v1.RegistryAdminGrpc;
import io.berth.proto.admin.v1.RevokeRobotRequest;
import io.berth.testsupport.TestPki;
import io.grpc.Grpc;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.TlsChannelCredentials;
import io.grpc.stub.MetadataUtils;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Base64;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.security.crypto.bcrypt.BCrypt;

/**
 * The admin API with access control on: users, robots and tokens of the token endpoint need the
 * admin action on '*'; admin.tokens still work for bootstrap; robot accounts are managed here.
 */
class AdminIdentitiesTest {
    @TempDir
    Path dir;

    Registry registry;
    Maintenance maintenance;
    Robots robots;
    AccessControl access;
    AdminServer server;
    ManagedChannel channel;

    @BeforeEach
    void open() throws Exception {
        Files.writeString(
                dir.resolve("htpasswd"),
                "root:" + BCrypt.hashpw("root-pw", BCrypt.gensalt(4)) + "\n" + "alice:"
                        + BCrypt.hashpw("alice-pw", BCrypt.gensalt(4)) + "\n");
        Files.writeString(dir.resolve("policy.yaml"), """
                rules:
                  - repositories: ["*"]
                    subjects: [root]
                    actions: [admin]
                  - repositories: ["**"]
                    subjects: [authenticated]
                    actions: [pull, push]
                """);
        registry = new Registry(
                new FilesystemBlobStore(dir.resolve("blobs"), false),
                new SqliteMetadataStore(dir.resolve("berth.db")),
                RegistryOptions.defaults());
        maintenance = new Maintenance(registry);
        robots = new Robots(registry.metadata(), registry.clock());
        access = AccessControl.from(
                BerthConfig.of(Map.of(
                        "auth.type",
                        "token",
                        "auth.htpasswd.path",
                        dir.resolve("htpasswd").toString(),
                        "auth.policy",
                        dir.resolve("policy.yaml").toString(),
                        "auth.token.key-file",
                        dir.resolve("key.pem").toString())),
                robots,
                Clock.systemUTC());
        server = AdminServer.start(
                "127.0.0.1",
                0,
                registry,
                maintenance,
                new AdminServer.Settings("1", 0, List.of("boot"), Duration.ofHours(1), access, Optional.empty()));
        channel = ManagedChannelBuilder.forAddress("127.0.0.1", server.port())
                .usePlaintext()
                .build();
    }

    @AfterEach
    void close() {
        channel.shutdownNow();
        server.stop(2000);
        maintenance.close();
        registry.close();
    }

    RegistryAdminGrpc.RegistryAdminBlockingStub as(String authorization) {
        Metadata m = new Metadata();
        if (authorization != null) {
            m.put(AdminAuth.AUTHORIZATION, authorization);
        }
        return RegistryAdminGrpc.newBlockingStub(channel)
                .withInterceptors(MetadataUtils.newAttachHeadersInterceptor(m))
                .withDeadlineAfter(30, TimeUnit.SECONDS);
    }

    static String basic(String user, String password) {
        return "Basic " + Base64.getEncoder().encodeToString((user + ":" + password).getBytes(StandardCharsets.UTF_8));
    }

    private static Status.Code refused(Runnable call) {
        return assertThrows(StatusRuntimeException.class, call::run).getStatus().getCode();
    }

    @Test
    void usersTokensAndRobotsNeedTheAdminAction() {
        GetServerInfoRequest info = GetServerInfoRequest.getDefaultInstance();
        assertEquals("1", as(basic("root", "root-pw")).getServerInfo(info).getVersion());
        assertEquals(
                Status.Code.PERMISSION_DENIED,
                refused(() -> as(basic("alice", "alice-pw")).getServerInfo(info)));
        assertEquals(
                Status.Code.UNAUTHENTICATED,
                refused(() -> as(basic("root", "wrong")).getServerInfo(info)));
        assertEquals(Status.Code.UNAUTHENTICATED, refused(() -> as(null).getServerInfo(info)));
        // a token of the token endpoint asked for the admin API (registry:admin:*) proves who the caller is
        String rootToken = access.tokens().orElseThrow().issue(Principal.user("root"), Map.of(), false, true);
        String aliceToken = access.tokens().orElseThrow().issue(Principal.user("alice"), Map.of(), false, true);
        assertEquals("1", as("Bearer " + rootToken).getServerInfo(info).getVersion());
        assertEquals(
                Status.Code.PERMISSION_DENIED,
                refused(() -> as("Bearer " + aliceToken).getServerInfo(info)),
                "the claim alone is not enough: the policy must give admin too");
        assertEquals(
                Status.Code.UNAUTHENTICATED,
                refused(() -> as("Bearer " + rootToken.substring(0, rootToken.length() - 4) + "AAAA")
                        .getServerInfo(info)));
        // bootstrap token
        assertEquals("1", as("Bearer boot").getServerInfo(info).getVersion());

        // robots: created by root, the secret once; an admin robot may call the admin API itself
        CreatedRobot ci = as(basic("root", "root-pw"))
                .createRobot(CreateRobotRequest.newBuilder()
                        .setName("ci")
                        .addRepositories("team-a/**")
                        .addActions("pull")
                        .addActions("push")
                        .setDescription("CI")
                        .build());
        assertTrue(ci.getSecret().startsWith("berth_"));
        assertEquals("root", ci.getRobot().getCreatedBy());
        CreatedRobot ops = as("Bearer boot")
                .createRobot(CreateRobotRequest.newBuilder()
                        .setName("ops")
                        .addRepositories("**")
                        .addActions("admin")
                        .build());
        assertEquals(
                "1", as(basic("robot:ops", ops.getSecret())).getServerInfo(info).getVersion());
        assertEquals(
                Status.Code.PERMISSION_DENIED,
                refused(() -> as(basic("robot:ci", ci.getSecret())).getServerInfo(info)));
        assertEquals(
                List.of("ci", "ops"),
                as("Bearer boot").listRobots(ListRobotsRequest.getDefaultInstance()).getRobotsList().stream()
                        .map(r -> r.getName())
                        .toList());
        assertTrue(
                as("Bearer boot")
                                .listRobots(ListRobotsRequest.getDefaultInstance())
                                .toString()
                                .indexOf(ci.getSecret())
                        < 0,
                "the secret is never listed");
        assertEquals(
                Status.Code.FAILED_PRECONDITION,
                refused(() -> as("Bearer boot")
                        .createRobot(CreateRobotRequest.newBuilder()
                                .setName("ci")
                                .addRepositories("x")
                                .addActions("pull")
                                .build())));
        assertEquals(
                Status.Code.INVALID_ARGUMENT,
                refused(() -> as("Bearer boot")
                        .createRobot(CreateRobotRequest.newBuilder()
                                .setName("Bad Name")
                                .addRepositories("x")
                                .addActions("pull")
                                .build())));
        assertEquals(
                Status.Code.INVALID_ARGUMENT,
                refused(() -> as("Bearer boot")
                        .createRobot(CreateRobotRequest.newBuilder()
                                .setName("x")
                                .addRepositories("x")
                                .addActions("fly")
                                .build())));
        // a glob no repository name can match is a mistake, said at once
        StatusRuntimeException glob = assertThrows(
                StatusRuntimeException.class,
                () -> as("Bearer boot")
                        .createRobot(CreateRobotRequest.newBuilder()
                                .setName("x")
                                .addRepositories("team-a//x")
                                .addActions("pull")
                                .build()));
        assertEquals(Status.Code.INVALID_ARGUMENT, glob.getStatus().getCode());
        assertTrue(
                glob.getStatus().getDescription().contains("empty component"),
                glob.getStatus().getDescription());
        as("Bearer boot")
                .revokeRobot(RevokeRobotRequest.newBuilder().setName("ops").build());
        assertEquals(
                Status.Code.UNAUTHENTICATED,
                refused(() -> as(basic("robot:ops", ops.getSecret())).getServerInfo(info)));
        assertEquals(
                Status.Code.NOT_FOUND,
                refused(() -> as("Bearer boot")
                        .revokeRobot(
                                RevokeRobotRequest.newBuilder().setName("ops").build())));
    }

    @Test
    void onlyATokenAskedForTheAdminApiIsAnAdminCredential() {
        // what /auth/token gives root for `docker pull public/x`: a pull token, not an admin credential
        String pullToken = access.tokens()
                .orElseThrow()
                .issue(Principal.user("root"), Map.of("public/x", EnumSet.of(Action.PULL)), false);
        String catalogToken = access.tokens().orElseThrow().issue(Principal.user("root"), Map.of(), true);
        for (String token : List.of(pullToken, catalogToken)) {
            StatusRuntimeException e = assertThrows(
                    StatusRuntimeException.class,
                    () -> as("Bearer " + token)
                            .createRobot(CreateRobotRequest.newBuilder()
                                    .setName("sneaky")
                                    .addRepositories("**")
                                    .addActions("*")
                                    .build()));
            assertEquals(Status.Code.PERMISSION_DENIED, e.getStatus().getCode());
            assertTrue(
                    e.getStatus().getDescription().contains("registry:admin:*"),
                    e.getStatus().getDescription());
            assertEquals(
                    Status.Code.PERMISSION_DENIED,
                    refused(() -> as("Bearer " + token).listRobots(ListRobotsRequest.getDefaultInstance())));
        }
        assertEquals(List.of(), robots.list(), "no robot was created");
        // root's own password still works, and so does a token asked for as an admin credential
        assertEquals(
                0,
                as(basic("root", "root-pw"))
                        .listRobots(ListRobotsRequest.getDefaultInstance())
                        .getRobotsCount());
        String adminToken = access.tokens().orElseThrow().issue(Principal.user("root"), Map.of(), false, true);
        assertEquals(
                "root",
                as("Bearer " + adminToken)
                        .createRobot(CreateRobotRequest.newBuilder()
                                .setName("ok")
                                .addRepositories("ci/**")
                                .addActions("pull")
                                .build())
                        .getRobot()
                        .getCreatedBy());
    }

    @Test
    void tlsAndClientCertificates() throws Exception {
        TestPki pki = TestPki.create(dir.resolve("pki"));
        pki.server("admin", "a1");
        pki.client("root-client", "root");
        pki.client("alice-client", "alice");
        pki.client("robot-client", "robot:ops");
        try (AdminServer tls = AdminServer.start(
                "127.0.0.1",
                0,
                registry,
                maintenance,
                new AdminServer.Settings(
                        "1",
                        0,
                        List.of(),
                        Duration.ofHours(1),
                        access,
                        Optional.of(
                                new AdminServer.Tls(pki.cert("admin"), pki.key("admin"), Optional.of(pki.ca())))))) {
            GetServerInfoRequest info = GetServerInfoRequest.getDefaultInstance();
            // a client certificate signed by admin.tls.client-ca names the user: root has the admin action
            ManagedChannel root = channel(tls.port(), pki, "root-client");
            ManagedChannel alice = channel(tls.port(), pki, "alice-client");
            ManagedChannel none = channel(tls.port(), pki, null);
            ManagedChannel robotCn = channel(tls.port(), pki, "robot-client");
            ManagedChannel plain = ManagedChannelBuilder.forAddress("127.0.0.1", tls.port())
                    .usePlaintext()
                    .build();
            try {
                assertEquals(
                        "1",
                        RegistryAdminGrpc.newBlockingStub(root)
                                .getServerInfo(info)
                                .getVersion());
                assertEquals(
                        Status.Code.PERMISSION_DENIED,
                        refused(() -> RegistryAdminGrpc.newBlockingStub(alice).getServerInfo(info)));
                assertEquals(
                        Status.Code.UNAUTHENTICATED,
                        refused(() -> RegistryAdminGrpc.newBlockingStub(none).getServerInfo(info)));
                // a CN written as a robot's subject names nobody (a user of that name would match the robot's rules)
                assertEquals(
                        Status.Code.UNAUTHENTICATED,
                        refused(() -> RegistryAdminGrpc.newBlockingStub(robotCn).getServerInfo(info)));
                // over TLS without a client certificate, credentials work as on plain connections
                assertEquals(
                        "1",
                        RegistryAdminGrpc.newBlockingStub(none)
                                .withInterceptors(
                                        MetadataUtils.newAttachHeadersInterceptor(headers(basic("root", "root-pw"))))
                                .getServerInfo(info)
                                .getVersion());
                assertEquals(
                        Status.Code.UNAVAILABLE,
                        refused(() -> RegistryAdminGrpc.newBlockingStub(plain)
                                .withDeadlineAfter(10, TimeUnit.SECONDS)
                                .getServerInfo(info)),
                        "no plaintext on a TLS port");
            } finally {
                for (ManagedChannel c : List.of(root, alice, none, robotCn, plain)) {
                    c.shutdownNow();
                }
            }
        }
    }

    /** A key as {@code openssl ecparam -genkey} writes it (SEC1): a real TLS handshake and a call. */
    @Test
    void aSec1EcKeyFromOpensslEcparamServesTls() throws Exception {
        TestPki pki = TestPki.create(dir.resolve("pki"));
        pki.serverWithSec1Key("admin", "a2");
        assertTrue(Files.readString(pki.key("admin")).contains("-----BEGIN EC PRIVATE KEY-----"));
        try (AdminServer tls = AdminServer.start(
                "127.0.0.1",
                0,
                registry,
                maintenance,
                new AdminServer.Settings(
                        "1",
                        0,
                        List.of(),
                        Duration.ofHours(1),
                        access,
                        Optional.of(new AdminServer.Tls(pki.cert("admin"), pki.key("admin"), Optional.empty()))))) {
            ManagedChannel channel = channel(tls.port(), pki, null);
            try {
                assertEquals(
                        "1",
                        RegistryAdminGrpc.newBlockingStub(channel)
                                .withInterceptors(
                                        MetadataUtils.newAttachHeadersInterceptor(headers(basic("root", "root-pw"))))
                                .withDeadlineAfter(20, TimeUnit.SECONDS)
                                .getServerInfo(GetServerInfoRequest.getDefaultInstance())
                                .getVersion());
            } finally {
                channel.shutdownNow();
            }
        }
    }

    static Metadata headers(String authorization) {
        Metadata m = new Metadata();
        m.put(AdminAuth.AUTHORIZATION, authorization);
        return m;
    }

    static ManagedChannel channel(int port, TestPki pki, String client) throws Exception {
        TlsChannelCredentials.Builder b =
                TlsChannelCredentials.newBuilder().trustManager(pki.ca().toFile());
        if (client != null) {
            b.keyManager(pki.cert(client).toFile(), pki.key(client).toFile());
        }
        return Grpc.newChannelBuilderForAddress("127.0.0.1", port, b.build()).build();
    }
}
