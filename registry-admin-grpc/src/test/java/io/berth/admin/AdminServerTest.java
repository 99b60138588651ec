package io.berth.admin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.berth.core.auth.AccessControl;
import io.berth.core.auth.Robots;
import io.berth.core.blob.FilesystemBlobStore;
import io.berth.core.maintenance.Maintenance;
import io.berth.core.metadata.sqlite.SqliteMetadataStore;
import io.berth.core.model.Caller;
import io.berth.core.model.Digest;
import io.berth.core.model.RepositoryName;
import io.berth.core.model.Tag;
import io.berth.core.proxy.UpstreamException;
import io.berth.core.registry.Registry;
import io.berth.core.registry.RegistryOptions;
import io.berth.core.testing.Images;
import io.berth.core.testing.RegistryUpstream;
import io.berth.proto.admin.v1.AddImmutabilityRuleRequest;
import io.berth.proto.admin.v1.DeleteImmutabilityRuleRequest;
import io.berth.proto.admin.v1.DeleteRepositoryRequest;
import io.berth.proto.admin.v1.DeleteRetentionPolicyRequest;
import io.berth.proto.admin.v1.DeleteTagRequest;
import io.berth.proto.admin.v1.DryRunRetentionRequest;
import io.berth.proto.admin.v1.GarbageCollectionStatus;
import io.berth.proto.admin.v1.GetGarbageCollectionStatusRequest;
import io.berth.proto.admin.v1.GetRepositoryRequest;
import io.berth.proto.admin.v1.GetRetentionPolicyRequest;
import io.berth.proto.admin.v1.GetServerInfoRequest;
import io.berth.proto.admin.v1.GetTagHistoryRequest;
import io.berth.proto.admin.v1.GetTagRequest;
import io.berth.proto.admin.v1.ListImmutabilityRulesRequest;
import io.berth.proto.admin.v1.ListManifestsRequest;
import io.berth.proto.admin.v1.ListRepositoriesRequest;
import io.berth.proto.admin.v1.ListRetentionPoliciesRequest;
import io.berth.proto.admin.v1.ListRobotsRequest;
import io.berth.proto.admin.v1.ListTagsRequest;
import io.berth.proto.admin.v1.ListTagsResponse;
import io.berth.proto.admin.v1.ListUpstreamsRequest;
import io.berth.proto.admin.v1.PurgeCacheRequest;
import io.berth.proto.admin.v1.PurgeCacheResponse;
import io.berth.proto.admin.v1.PutRetentionPolicyRequest;
import io.berth.proto.admin.v1.RegistryAdminGrpc;
import io.berth.proto.admin.v1.RestoreTagRequest;
import io.berth.proto.admin.v1.RetentionPolicy;
import io.berth.proto.admin.v1.RetentionRule;
import io.berth.proto.admin.v1.RunGarbageCollectionRequest;
import io.berth.proto.admin.v1.RunRetentionRequest;
import io.berth.proto.admin.v1.ServerInfo;
import io.berth.proto.admin.v1.SetTagRequest;
import io.berth.proto.admin.v1.TagDecision;
import io.berth.proto.admin.v1.Upstream;
import io.grpc.Context;
import io.grpc.ForwardingServerCall;
import io.grpc.ForwardingServerCallListener;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Metadata;
import io.grpc.Server;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.reflection.v1.ServerReflectionGrpc;
import io.grpc.reflection.v1.ServerReflectionRequest;
import io.grpc.reflection.v1.ServerReflectionResponse;
import io.grpc.stub.MetadataUtils;
import io.grpc.stub.StreamObserver;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Every RPC of the admin API over real gRPC, against a registry filled through the core. */
class AdminServerTest {
    static final RepositoryName APP = RepositoryName.of("team-a/app");

    @TempDir
    Path dir;

    Registry registry;
    Maintenance maintenance;
    Robots robots;
    Images images;
    AdminServer server;
    ManagedChannel channel;

    /** The upstream of the pull-through cache under {@code hub/}: a second real registry. */
    Registry origin;

    RegistryUpstream upstream;

    @BeforeEach
    void open() throws Exception {
        origin = new Registry(
                new FilesystemBlobStore(dir.resolve("origin"), false),
                new SqliteMetadataStore(dir.resolve("origin.db")),
                RegistryOptions.defaults());
        upstream = new RegistryUpstream("hub", origin);
        registry = new Registry(
                new FilesystemBlobStore(dir.resolve("blobs"), false),
                new SqliteMetadataStore(dir.resolve("berth.db")),
                RegistryOptions.defaults(),
                Clock.systemUTC(),
                RegistryUpstream.prefixed("hub", upstream));
        maintenance = new Maintenance(registry);
        robots = new Robots(registry.metadata(), registry.clock());
        images = new Images(registry);
        server = AdminServer.start(
                "127.0.0.1",
                0,
                registry,
                maintenance,
                new AdminServer.Settings(
                        "9.9.9",
                        1234L,
                        List.of("s3cret", "ro:viewer"),
                        Duration.ofHours(1),
                        AccessControl.none(robots),
                        Optional.empty()));
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
        origin.close();
    }

    RegistryAdminGrpc.RegistryAdminBlockingStub stub(String token, String... headers) {
        Metadata m = new Metadata();
        if (token != null) {
            m.put(AdminAuth.AUTHORIZATION, "Bearer " + token);
        }
        for (int i = 0; i < headers.length; i += 2) {
            m.put(Metadata.Key.of(headers[i], Metadata.ASCII_STRING_MARSHALLER), headers[i + 1]);
        }
        return RegistryAdminGrpc.newBlockingStub(channel)
                .withInterceptors(MetadataUtils.newAttachHeadersInterceptor(m))
                .withDeadlineAfter(30, TimeUnit.SECONDS);
    }

    RegistryAdminGrpc.RegistryAdminBlockingStub admin() {
        return stub("s3cret");
    }

    static Status.Code code(Supplier<?> call) {
        return assertThrows(StatusRuntimeException.class, call::get).getStatus().getCode();
    }

    static StatusRuntimeException failure(Supplier<?> call) {
        return assertThrows(StatusRuntimeException.class, call::get);
    }

    @Test
    void tokensGuardEveryCallButHealthAndReflection() throws Exception {
        GetServerInfoRequest info = GetServerInfoRequest.getDefaultInstance();
        StatusRuntimeException none = failure(() -> stub(null).getServerInfo(info));
        assertEquals(Status.Code.UNAUTHENTICATED, none.getStatus().getCode());
        assertTrue(none.getStatus().getDescription().contains("authorization: Bearer"));
        assertEquals(Status.Code.UNAUTHENTICATED, code(() -> stub("wrong").getServerInfo(info)));
        ServerInfo i = admin().getServerInfo(info);
        assertEquals("9.9.9", i.getVersion());
        assertEquals(1234L, i.getStartedAtEpochMillis());
        assertEquals("filesystem", i.getBlobStorage());
        assertEquals("sqlite", i.getMetadataStorage());
        // a read-only token reads, and is refused every change
        images.image(APP, "v1", "one");
        assertEquals(
                1,
                stub("viewer")
                        .listTags(ListTagsRequest.newBuilder()
                                .setRepository(APP.value())
                                .build())
                        .getTagsCount());
        StatusRuntimeException denied = failure(() -> stub("viewer")
                .deleteTag(DeleteTagRequest.newBuilder()
                        .setRepository(APP.value())
                        .setTag("v1")
                        .build()));
        assertEquals(Status.Code.PERMISSION_DENIED, denied.getStatus().getCode());
        assertTrue(registry.metadata().tags().target(APP, "v1").isPresent());

        HealthCheckResponse health = HealthGrpc.newBlockingStub(channel).check(HealthCheckRequest.getDefaultInstance());
        assertEquals(HealthCheckResponse.ServingStatus.SERVING, health.getStatus());
        List<String> services = new ArrayList<>();
        CountDownLatch done = new CountDownLatch(1);
        StreamObserver<ServerReflectionRequest> reflection = ServerReflectionGrpc.newStub(channel)
                .serverReflectionInfo(new StreamObserver<>() {
                    public void onNext(ServerReflectionResponse r) {
                        r.getListServicesResponse().getServiceList().forEach(s -> services.add(s.getName()));
                    }

                    public void onError(Throwable t) {
                        done.countDown();
                    }

                    public void onCompleted() {
                        done.countDown();
                    }
                });
        reflection.onNext(
                ServerReflectionRequest.newBuilder().setListServices("").build());
        reflection.onCompleted();
        assertTrue(done.await(10, TimeUnit.SECONDS));
        assertTrue(
                services.containsAll(List.of("berth.admin.v1.RegistryAdmin", "grpc.health.v1.Health")),
                services.toString());
    }

    @Test
    void withoutTokensTheAdminPortServesHealthOnly() throws Exception {
        try (AdminServer off = AdminServer.start(
                "127.0.0.1",
                0,
                registry,
                maintenance,
                new AdminServer.Settings(
                        "1", 0, List.of(), Duration.ofHours(1), AccessControl.none(robots), Optional.empty()))) {
            ManagedChannel ch = ManagedChannelBuilder.forAddress("127.0.0.1", off.port())
                    .usePlaintext()
                    .build();
            try {
                assertFalse(off.adminEnabled());
                StatusRuntimeException e = failure(() ->
                        RegistryAdminGrpc.newBlockingStub(ch).getServerInfo(GetServerInfoRequest.getDefaultInstance()));
                assertEquals(Status.Code.UNAUTHENTICATED, e.getStatus().getCode());
                assertTrue(e.getStatus().getDescription().contains("no admin.tokens"));
                assertEquals(
                        HealthCheckResponse.ServingStatus.SERVING,
                        HealthGrpc.newBlockingStub(ch)
                                .check(HealthCheckRequest.getDefaultInstance())
                                .getStatus());
                assertEquals(
                        HealthCheckResponse.ServingStatus.NOT_SERVING,
                        HealthGrpc.newBlockingStub(ch)
                                .check(HealthCheckRequest.newBuilder()
                                        .setService("berth.admin.v1.RegistryAdmin")
                                        .build())
                                .getStatus());
            } finally {
                ch.shutdownNow();
            }
        }
    }

    @Test
    void repositoriesTagsHistoryAndManifests() {
        Digest one = images.image(APP, "v1", "one");
        Digest two = images.image(APP, "v2", "two");
        Digest amd = images.image(APP, null, "amd");
        Digest arm = images.image(APP, null, "arm");
        Digest index = images.index(APP, "multi", amd, arm);
        images.image(RepositoryName.of("team-b/app"), "v1", "b");

        var repos = admin().listRepositories(ListRepositoriesRequest.newBuilder()
                .setPrefix("team-a/")
                .build());
        assertEquals(1, repos.getRepositoriesCount());
        assertEquals(3, repos.getRepositories(0).getTagCount());
        assertEquals(5, repos.getRepositories(0).getManifestCount());
        var page = admin().listRepositories(
                        ListRepositoriesRequest.newBuilder().setPageSize(1).build());
        assertEquals("team-a/app", page.getRepositories(0).getName());
        assertEquals(
                "team-b/app",
                admin().listRepositories(ListRepositoriesRequest.newBuilder()
                                .setPageSize(1)
                                .setPageToken(page.getNextPageToken())
                                .build())
                        .getRepositories(0)
                        .getName());
        assertTrue(admin().getRepository(GetRepositoryRequest.newBuilder()
                                .setName("team-a/app")
                                .build())
                        .getTotalSize()
                > 0);
        assertEquals(
                Status.Code.NOT_FOUND,
                code(() -> admin().getRepository(GetRepositoryRequest.newBuilder()
                        .setName("no/such")
                        .build())));
        assertEquals(
                Status.Code.INVALID_ARGUMENT,
                code(() -> admin().getRepository(GetRepositoryRequest.newBuilder()
                        .setName("Bad Name")
                        .build())));

        var tags = admin().listTags(ListTagsRequest.newBuilder()
                .setRepository(APP.value())
                .setFilter("v*")
                .build());
        assertEquals(
                List.of("v1", "v2"),
                tags.getTagsList().stream().map(t -> t.getName()).toList());
        var byPush = admin().listTags(ListTagsRequest.newBuilder()
                .setRepository(APP.value())
                .setOrder(ListTagsRequest.Order.PUSHED)
                .setFilterKind(ListTagsRequest.FilterKind.REGEX)
                .setFilter("v[12]|multi")
                .setPageSize(2)
                .build());
        assertEquals(2, byPush.getTagsCount());
        assertFalse(byPush.getNextPageToken().isEmpty());
        var multi = admin().getTag(GetTagRequest.newBuilder()
                .setRepository(APP.value())
                .setTag("multi")
                .build());
        assertEquals(index.toString(), multi.getDigest());
        assertEquals(List.of("linux/amd64", "linux/arm64"), multi.getPlatformsList());

        var set = stub("s3cret", "x-request-id", "req-777")
                .setTag(SetTagRequest.newBuilder()
                        .setRepository(APP.value())
                        .setTag("v1")
                        .setDigest(two.toString())
                        .build());
        assertEquals(two.toString(), set.getDigest());
        var promoted = admin().setTag(SetTagRequest.newBuilder()
                .setRepository("prod/app")
                .setTag("1.0")
                .setDigest(index.toString().substring(0, 19))
                .setFromRepository(APP.value())
                .build());
        assertEquals(index.toString(), promoted.getDigest(), "a digest's beginning, looked up in --from's repository");
        assertEquals(
                Status.Code.NOT_FOUND,
                code(() -> admin().setTag(SetTagRequest.newBuilder()
                        .setRepository("prod/app")
                        .setTag("1.1")
                        .setDigest(one.toString().substring(0, 19))
                        .build())));
        assertEquals(
                Status.Code.INVALID_ARGUMENT,
                code(() -> admin().setTag(SetTagRequest.newBuilder()
                        .setRepository(APP.value())
                        .setTag("v9")
                        .setDigest("sha256:0123")
                        .build())));
        var history = admin().getTagHistory(GetTagHistoryRequest.newBuilder()
                .setRepository(APP.value())
                .setTag("v1")
                .build());
        assertEquals(2, history.getVersionsCount());
        assertEquals("v2", history.getVersions(0).getVia());
        assertEquals("MOVED", history.getVersions(1).getAction());
        assertEquals("admin", history.getVersions(1).getVia());
        assertEquals("req-777", history.getVersions(1).getRequestId());
        assertEquals(one.toString(), history.getVersions(1).getPreviousDigest());
        var restored = admin().restoreTag(RestoreTagRequest.newBuilder()
                .setRepository(APP.value())
                .setTag("v1")
                .setVersion(1)
                .build());
        assertEquals(one.toString(), restored.getDigest());
        assertEquals(
                two.toString(),
                admin().restoreTag(RestoreTagRequest.newBuilder()
                                .setRepository(APP.value())
                                .setTag("v1")
                                .setAtEpochMillis(history.getVersions(1).getChangedEpochMillis())
                                .build())
                        .getDigest());
        assertEquals(
                Status.Code.INVALID_ARGUMENT,
                code(() -> admin().restoreTag(RestoreTagRequest.newBuilder()
                        .setRepository(APP.value())
                        .setTag("v1")
                        .build())));

        admin().deleteTag(DeleteTagRequest.newBuilder()
                .setRepository(APP.value())
                .setTag("v2")
                .build());
        assertTrue(registry.metadata().tags().target(APP, "v2").isEmpty());
        assertEquals(
                Status.Code.NOT_FOUND,
                code(() -> admin().deleteTag(DeleteTagRequest.newBuilder()
                        .setRepository(APP.value())
                        .setTag("v2")
                        .build())));

        var untagged = admin().listManifests(ListManifestsRequest.newBuilder()
                .setRepository(APP.value())
                .setUntaggedOnly(true)
                .build());
        assertEquals(
                Set.of(one.toString(), amd.toString(), arm.toString()),
                untagged.getManifestsList().stream().map(m -> m.getDigest()).collect(Collectors.toSet()),
                "v1 is back on 'two', v2 is gone; amd and arm are listed by the index but carry no tag");
        var all = admin().listManifests(ListManifestsRequest.newBuilder()
                .setRepository(APP.value())
                .build());
        assertEquals(5, all.getManifestsCount());

        admin().deleteRepository(DeleteRepositoryRequest.newBuilder()
                .setName("team-b/app")
                .build());
        assertFalse(registry.metadata().repositories().exists(RepositoryName.of("team-b/app")));
    }

    @Test
    void immutabilityRulesAndRetentionPolicies() {
        images.image(APP, "v1.0.0", "one");
        Digest two = images.image(APP, "v2", "two");
        images.image(APP, "pr-1", "three");

        var rule = admin().addImmutabilityRule(AddImmutabilityRuleRequest.newBuilder()
                .setRepositories("team-a/**")
                .setTags("v\\d+\\.\\d+\\.\\d+")
                .build());
        assertEquals(
                1,
                admin().listImmutabilityRules(ListImmutabilityRulesRequest.getDefaultInstance())
                        .getRulesCount());
        StatusRuntimeException immutable = failure(() -> admin().setTag(SetTagRequest.newBuilder()
                .setRepository(APP.value())
                .setTag("v1.0.0")
                .setDigest(two.toString())
                .build()));
        assertEquals(Status.Code.FAILED_PRECONDITION, immutable.getStatus().getCode());
        assertTrue(immutable.getStatus().getDescription().contains(rule.getId()));
        assertEquals(
                Status.Code.INVALID_ARGUMENT,
                code(() -> admin().addImmutabilityRule(AddImmutabilityRuleRequest.newBuilder()
                        .setRepositories("**")
                        .setTags("(")
                        .build())));

        RetentionPolicy policy = RetentionPolicy.newBuilder()
                .setName("tidy")
                .addRepositories("team-a/**")
                .addRules(RetentionRule.newBuilder().setKeepTagsMatching("v2"))
                .setExcludeTagsMatching("pr-.*")
                .setSchedule("@daily")
                .build();
        var stored = admin().putRetentionPolicy(
                        PutRetentionPolicyRequest.newBuilder().setPolicy(policy).build());
        assertEquals("tidy", stored.getPolicy().getName());
        assertEquals("keep", stored.getPolicy().getUntagged());
        assertEquals(
                1,
                admin().listRetentionPolicies(ListRetentionPoliciesRequest.getDefaultInstance())
                        .getPoliciesCount());
        assertEquals(
                "@daily",
                admin().getRetentionPolicy(GetRetentionPolicyRequest.newBuilder()
                                .setName("tidy")
                                .build())
                        .getPolicy()
                        .getSchedule());
        StatusRuntimeException bad = failure(() -> admin().putRetentionPolicy(PutRetentionPolicyRequest.newBuilder()
                .setPolicy(policy.toBuilder().clearRules())
                .build()));
        assertEquals(Status.Code.INVALID_ARGUMENT, bad.getStatus().getCode());
        assertTrue(bad.getStatus().getDescription().contains("rules must list at least one rule"));

        var plan = admin().dryRunRetention(
                        DryRunRetentionRequest.newBuilder().setName("tidy").build());
        assertFalse(plan.getPlanId().isEmpty(), "an admin's dry run is stored, to run it by");
        assertEquals(2, plan.getTagsKept());
        assertEquals(1, plan.getTagsDeleted());
        var pr = plan.getTagsList().stream()
                .filter(t -> t.getTag().equals("pr-1"))
                .findFirst()
                .orElseThrow();
        assertFalse(pr.getKeep());
        assertTrue(pr.getReason().contains("exclude-tags-matching"));
        var v1 = plan.getTagsList().stream()
                .filter(t -> t.getTag().equals("v1.0.0"))
                .findFirst()
                .orElseThrow();
        assertTrue(v1.getReason().startsWith("immutable: "), v1.getReason());
        assertTrue(registry.metadata().tags().target(APP, "pr-1").isPresent(), "a dry run deletes nothing");

        var result = admin().runRetention(RunRetentionRequest.newBuilder()
                .setName("tidy")
                .setPlanId(plan.getPlanId())
                .build());
        assertEquals(
                List.of("pr-1"),
                result.getTagsDeletedList().stream().map(t -> t.getTag()).toList());
        assertEquals(1, result.getManifestsDeletedCount());
        assertTrue(registry.metadata().tags().target(APP, "pr-1").isEmpty());
        assertTrue(result.getSummary().startsWith("deleted 1 tags"));

        admin().deleteRetentionPolicy(DeleteRetentionPolicyRequest.newBuilder()
                .setName("tidy")
                .build());
        assertEquals(
                Status.Code.NOT_FOUND,
                code(() -> admin().getRetentionPolicy(GetRetentionPolicyRequest.newBuilder()
                        .setName("tidy")
                        .build())));
        admin().deleteImmutabilityRule(DeleteImmutabilityRuleRequest.newBuilder()
                .setId(rule.getId())
                .build());
        assertEquals(
                Status.Code.NOT_FOUND,
                code(() -> admin().deleteImmutabilityRule(DeleteImmutabilityRuleRequest.newBuilder()
                        .setId(rule.getId())
                        .build())));
    }

    @Test
    void aReadOnlyTokenWritesNothingItsDryRunsIncluded() throws Exception {
        images.image(APP, "v1.0.0", "one");
        images.image(APP, "pr-1", "two");
        images.image(APP, "pr-2", "three");
        admin().addImmutabilityRule(AddImmutabilityRuleRequest.newBuilder()
                .setRepositories("team-a/**")
                .setTags("v.*")
                .build());
        admin().putRetentionPolicy(PutRetentionPolicyRequest.newBuilder()
                .setPolicy(RetentionPolicy.newBuilder()
                        .setName("tidy")
                        .addRepositories("team-a/**")
                        .addRules(RetentionRule.newBuilder().setKeepLastPushed(1)))
                .build());
        var admins = admin().dryRunRetention(
                        DryRunRetentionRequest.newBuilder().setName("tidy").build());
        Map<String, List<String>> before = rows(dir.resolve("berth.db"));

        var viewer = stub("viewer");
        for (int i = 0; i < 3; i++) {
            var plan = viewer.dryRunRetention(
                    DryRunRetentionRequest.newBuilder().setName("tidy").build());
            assertEquals("", plan.getPlanId(), "a read-only dry run is not stored: no plan to run by");
            assertEquals(admins.getTagsList(), plan.getTagsList(), "the same decisions");
            assertEquals(1, plan.getTagsDeleted());
        }
        viewer.getServerInfo(GetServerInfoRequest.getDefaultInstance());
        viewer.listRepositories(ListRepositoriesRequest.getDefaultInstance());
        viewer.getRepository(
                GetRepositoryRequest.newBuilder().setName(APP.value()).build());
        viewer.listTags(ListTagsRequest.newBuilder().setRepository(APP.value()).build());
        viewer.getTag(GetTagRequest.newBuilder()
                .setRepository(APP.value())
                .setTag("pr-1")
                .build());
        viewer.getTagHistory(GetTagHistoryRequest.newBuilder()
                .setRepository(APP.value())
                .setTag("pr-1")
                .build());
        viewer.listManifests(
                ListManifestsRequest.newBuilder().setRepository(APP.value()).build());
        viewer.listImmutabilityRules(ListImmutabilityRulesRequest.getDefaultInstance());
        viewer.listRetentionPolicies(ListRetentionPoliciesRequest.getDefaultInstance());
        viewer.getRetentionPolicy(
                GetRetentionPolicyRequest.newBuilder().setName("tidy").build());
        viewer.listRobots(ListRobotsRequest.getDefaultInstance());
        assertEquals(
                Status.Code.PERMISSION_DENIED,
                code(() -> viewer.runRetention(RunRetentionRequest.newBuilder()
                        .setName("tidy")
                        .setPlanId(admins.getPlanId())
                        .build())));
        assertEquals(before, rows(dir.resolve("berth.db")), "the metadata is as it was, row for row");

        // the comparison sees a stored plan: an admin's dry run adds one
        admin().dryRunRetention(
                        DryRunRetentionRequest.newBuilder().setName("tidy").build());
        assertFalse(before.equals(rows(dir.resolve("berth.db"))));
    }

    /** Every row of every table of a SQLite database, as text, by table. */
    static Map<String, List<String>> rows(Path db) throws Exception {
        Map<String, List<String>> out = new TreeMap<>();
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + db);
                Statement st = c.createStatement()) {
            List<String> tables = new ArrayList<>();
            try (ResultSet rs = st.executeQuery("SELECT name FROM sqlite_master WHERE type = 'table'")) {
                while (rs.next()) {
                    tables.add(rs.getString(1));
                }
            }
            for (String t : tables) {
                List<String> rows = new ArrayList<>();
                try (ResultSet rs = st.executeQuery("SELECT * FROM \"" + t + "\"")) {
                    int n = rs.getMetaData().getColumnCount();
                    while (rs.next()) {
                        StringBuilder b = new StringBuilder();
                        for (int i = 1; i <= n; i++) {
                            b.append(rs.getString(i)).append('|');
                        }
                        rows.add(b.toString());
                    }
                }
                Collections.sort(rows);
                out.put(t, rows);
            }
        }
        return out;
    }

    @Test
    void garbageCollectionStreamsItsProgressToTheEnd() {
        assertEquals(
                Status.Code.NOT_FOUND,
                code(() -> admin().getGarbageCollectionStatus(GetGarbageCollectionStatusRequest.getDefaultInstance())));
        for (int i = 0; i < 3; i++) {
            Digest d = images.image(APP, null, "garbage" + i);
            registry.manifests().delete(APP, d);
        }
        Iterator<GarbageCollectionStatus> dry = admin().runGarbageCollection(RunGarbageCollectionRequest.newBuilder()
                .setDryRun(true)
                .setGrace("0s")
                .build());
        List<GarbageCollectionStatus> updates = new ArrayList<>();
        dry.forEachRemaining(updates::add);
        GarbageCollectionStatus last = updates.getLast();
        assertEquals("SUCCEEDED", last.getState());
        assertTrue(last.getDryRun());
        assertEquals(6, last.getBlobsDeleted());
        assertEquals(6, last.getItemsCount());
        assertTrue(updates.size() >= 2, "progress, then the end: " + updates.size());
        assertEquals(
                6,
                registry.metadata()
                        .gc()
                        .unreferencedBlobs(null, Long.MAX_VALUE, 100)
                        .size(),
                "nothing deleted");

        List<GarbageCollectionStatus> real = new ArrayList<>();
        admin().runGarbageCollection(
                        RunGarbageCollectionRequest.newBuilder().setGrace("0s").build())
                .forEachRemaining(real::add);
        assertEquals(6, real.getLast().getBlobsDeleted());
        assertEquals("done", real.getLast().getPhase());
        var status = admin().getGarbageCollectionStatus(GetGarbageCollectionStatusRequest.getDefaultInstance());
        assertEquals(real.getLast().getId(), status.getId());
        List<GarbageCollectionStatus> watched = new ArrayList<>();
        admin().watchGarbageCollection(GetGarbageCollectionStatusRequest.getDefaultInstance())
                .forEachRemaining(watched::add);
        assertEquals(1, watched.size(), "nothing runs: the last run, once");
        assertEquals(
                Status.Code.INVALID_ARGUMENT,
                code(() -> admin().runGarbageCollection(RunGarbageCollectionRequest.newBuilder()
                                .setGrace("soon")
                                .build())
                        .next()));
        assertEquals(
                Status.Code.PERMISSION_DENIED,
                code(() -> stub("viewer")
                        .runGarbageCollection(RunGarbageCollectionRequest.newBuilder()
                                .setDryRun(true)
                                .build())
                        .next()));
    }

    @Test
    void theReviewsPatternBombAnswersAReadOnlyTokenAtOnce() {
        // tags list --filter '**********!' against a 60-character tag pinned a core until a restart; the
        // timeout is only a hang guard (the old code ran for hours), the assertions are about the answer
        String tag = "a".repeat(60);
        images.image(APP, tag, "one");
        images.image(APP, "v1", "two");
        ListTagsResponse none = assertTimeoutPreemptively(
                Duration.ofSeconds(30),
                () -> stub("viewer")
                        .listTags(ListTagsRequest.newBuilder()
                                .setRepository(APP.value())
                                .setFilter("**********!")
                                .build()));
        assertEquals(0, none.getTagsCount());
        ListTagsResponse evil = assertTimeoutPreemptively(
                Duration.ofSeconds(30),
                () -> stub("viewer")
                        .listTags(ListTagsRequest.newBuilder()
                                .setRepository(APP.value())
                                .setFilter("((a+)+)+b")
                                .setFilterKind(ListTagsRequest.FilterKind.REGEX)
                                .build()));
        assertEquals(0, evil.getTagsCount());
        assertEquals(
                List.of(tag),
                stub("viewer")
                        .listTags(ListTagsRequest.newBuilder()
                                .setRepository(APP.value())
                                .setFilter("**********a")
                                .build())
                        .getTagsList()
                        .stream()
                        .map(t -> t.getName())
                        .toList());
    }

    @Test
    void patternsAreCheckedWhenTheyAreGiven() {
        images.image(APP, "v1", "one");
        List<Supplier<?>> refused = List.of(
                () -> admin().addImmutabilityRule(AddImmutabilityRuleRequest.newBuilder()
                        .setRepositories("**")
                        .setTags("(?!rc).*")
                        .build()),
                () -> admin().addImmutabilityRule(AddImmutabilityRuleRequest.newBuilder()
                        .setRepositories("**")
                        .setTags("(a{1000}){1000}")
                        .build()),
                () -> admin().addImmutabilityRule(AddImmutabilityRuleRequest.newBuilder()
                        .setRepositories("**/")
                        .setTags("v1")
                        .build()),
                () -> admin().putRetentionPolicy(PutRetentionPolicyRequest.newBuilder()
                        .setPolicy(RetentionPolicy.newBuilder()
                                .setName("p")
                                .addRepositories("**")
                                .addRules(RetentionRule.newBuilder().setKeepTagsMatching("(v)\\1")))
                        .build()),
                () -> admin().putRetentionPolicy(PutRetentionPolicyRequest.newBuilder()
                        .setPolicy(RetentionPolicy.newBuilder()
                                .setName("p")
                                .addRepositories("team-a//app")
                                .addRules(RetentionRule.newBuilder().setKeepLastPushed(1)))
                        .build()),
                () -> stub("viewer")
                        .listTags(ListTagsRequest.newBuilder()
                                .setRepository(APP.value())
                                .setFilter("x".repeat(2000))
                                .setFilterKind(ListTagsRequest.FilterKind.REGEX)
                                .build()),
                () -> stub("viewer")
                        .listTags(ListTagsRequest.newBuilder()
                                .setRepository(APP.value())
                                .setFilter("*".repeat(300))
                                .build()));
        for (Supplier<?> call : refused) {
            StatusRuntimeException e = failure(call);
            assertEquals(
                    Status.Code.INVALID_ARGUMENT,
                    e.getStatus().getCode(),
                    e.getStatus().toString());
        }
        String why = failure(refused.get(0)).getStatus().getDescription();
        assertTrue(why.startsWith("tags '(?!rc).*' is not a regular expression in RE2 syntax"), why);
        assertEquals(
                0,
                admin().listImmutabilityRules(ListImmutabilityRulesRequest.getDefaultInstance())
                        .getRulesCount());
    }

    @Test
    void aRetentionDryRunOnStarStarSlashAppLeavesWebappAlone() {
        // the review's finding: **/app listed team-a/webapp for deletion
        RepositoryName webapp = RepositoryName.of("team-a/webapp");
        for (RepositoryName r : List.of(APP, webapp)) {
            images.image(r, "old", "old-" + r);
            images.image(r, "new", "new-" + r);
        }
        admin().putRetentionPolicy(PutRetentionPolicyRequest.newBuilder()
                .setPolicy(RetentionPolicy.newBuilder()
                        .setName("apps")
                        .addRepositories("**/app")
                        .addRules(RetentionRule.newBuilder().setKeepLastPushed(1)))
                .build());
        var plan = stub("viewer")
                .dryRunRetention(
                        DryRunRetentionRequest.newBuilder().setName("apps").build());
        assertEquals(
                Set.of(APP.value()),
                plan.getTagsList().stream().map(TagDecision::getRepository).collect(Collectors.toSet()));
        assertEquals(1, plan.getTagsDeleted());
    }

    @Test
    void aListingStopsWhenItsClientGoesAway() throws Exception {
        for (int i = 0; i < 50; i++) {
            images.image(APP, "t" + i, "t" + i);
        }
        // the service behind an interceptor that holds each call until its client has cancelled it: the
        // handler then starts with its caller gone, and what it does with that is observed on its call
        CountDownLatch reached = new CountDownLatch(1);
        CompletableFuture<Status> closed = new CompletableFuture<>();
        AtomicInteger answers = new AtomicInteger();
        ServerInterceptor holdUntilCancelled = new ServerInterceptor() {
            @Override
            public <Q, R> ServerCall.Listener<Q> interceptCall(
                    ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
                ServerCall<Q, R> watched = new ForwardingServerCall.SimpleForwardingServerCall<>(call) {
                    @Override
                    public void sendMessage(R message) {
                        answers.incrementAndGet();
                        super.sendMessage(message);
                    }

                    @Override
                    public void close(Status status, Metadata trailers) {
                        closed.complete(status);
                        super.close(status, trailers);
                    }
                };
                return new ForwardingServerCallListener.SimpleForwardingServerCallListener<>(
                        next.startCall(watched, headers)) {
                    @Override
                    public void onHalfClose() {
                        CountDownLatch gone = new CountDownLatch(1);
                        Context.current().addListener(c -> gone.countDown(), Runnable::run);
                        reached.countDown();
                        try {
                            gone.await(30, TimeUnit.SECONDS);
                        } catch (InterruptedException e) {
                            Thread.currentThread().interrupt();
                        }
                        super.onHalfClose();
                    }
                };
            }
        };
        Server own = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
                .addService(ServerInterceptors.intercept(
                        new RegistryAdminService(registry, maintenance, robots, "t", 0L, Duration.ofHours(1)),
                        holdUntilCancelled))
                .build()
                .start();
        ManagedChannel ownChannel = ManagedChannelBuilder.forAddress("127.0.0.1", own.getPort())
                .usePlaintext()
                .build();
        try {
            Context.CancellableContext client = Context.current().withCancellation();
            client.run(() -> RegistryAdminGrpc.newStub(ownChannel)
                    .listTags(
                            ListTagsRequest.newBuilder()
                                    .setRepository(APP.value())
                                    .setFilter("matches-nothing")
                                    .build(),
                            new StreamObserver<>() {
                                @Override
                                public void onNext(ListTagsResponse value) {}

                                @Override
                                public void onError(Throwable t) {}

                                @Override
                                public void onCompleted() {}
                            }));
            assertTrue(reached.await(30, TimeUnit.SECONDS));
            client.cancel(null);
            assertEquals(
                    Status.Code.CANCELLED,
                    closed.get(30, TimeUnit.SECONDS).getCode(),
                    "the handler stopped rather than finish the scan for nobody");
            assertEquals(0, answers.get());
        } finally {
            ownChannel.shutdownNow();
            own.shutdownNow();
        }
    }

    // ---- pull-through caches

    static final RepositoryName CACHED = RepositoryName.of("hub/library/app");
    static final RepositoryName REMOTE = RepositoryName.of("library/app");

    @Test
    void listUpstreamsShowsTheirStateAndCachedRepositories() throws Exception {
        new Images(origin).image(REMOTE, "v1", "one");
        registry.proxy().manifest(Caller.at("10.0.0.7"), CACHED, new Tag("v1"), true);
        Upstream up = stub("viewer") // a read: read-only tokens may list
                .listUpstreams(ListUpstreamsRequest.getDefaultInstance())
                .getUpstreams(0);
        assertEquals("hub", up.getName());
        assertEquals("up", up.getState());
        assertEquals(1, up.getCachedRepositories());
        assertEquals(0, up.getFailingSinceEpochMillis());

        upstream.failWith(UpstreamException.Kind.UNREACHABLE, null);
        Upstream failing =
                admin().listUpstreams(ListUpstreamsRequest.getDefaultInstance()).getUpstreams(0);
        assertEquals(upstream.status().state().name().toLowerCase(Locale.ROOT), failing.getState());
        assertEquals(upstream.status().lastFailure().orElse(""), failing.getLastFailure());
    }

    @Test
    void purgeRemovesACachedTagAndTheNextPullFetchesIt() {
        Images up = new Images(origin);
        up.image(REMOTE, "v1", "one");
        up.image(REMOTE, "v2", "two");
        Caller client = Caller.at("10.0.0.7");
        registry.proxy().manifest(client, CACHED, new Tag("v1"), true);
        registry.proxy().manifest(client, CACHED, new Tag("v2"), true);

        PurgeCacheResponse r = admin().purgeCache(PurgeCacheRequest.newBuilder()
                .setRepository(CACHED.value())
                .setTag("v1")
                .build());
        assertEquals(1, r.getTagsRemoved());
        assertEquals(1, r.getManifestsRemoved());
        assertTrue(registry.metadata().tags().target(CACHED, "v1").isEmpty());
        assertTrue(registry.metadata().tags().target(CACHED, "v2").isPresent());

        int fetches = upstream.calls("manifest:tag");
        registry.proxy().manifest(client, CACHED, new Tag("v1"), true);
        assertEquals(fetches + 1, upstream.calls("manifest:tag"));

        admin().purgeCache(PurgeCacheRequest.newBuilder()
                .setRepository(CACHED.value())
                .build());
        assertFalse(registry.metadata().repositories().exists(CACHED));
    }

    @Test
    void aReadOnlyTokenCannotPurgeAndALocalRepositoryIsRefused() {
        new Images(origin).image(REMOTE, "v1", "one");
        registry.proxy().manifest(Caller.at("10.0.0.7"), CACHED, new Tag("v1"), true);
        assertEquals(
                Status.Code.PERMISSION_DENIED,
                code(() -> stub("viewer")
                        .purgeCache(PurgeCacheRequest.newBuilder()
                                .setRepository(CACHED.value())
                                .build())));
        assertTrue(registry.metadata().tags().target(CACHED, "v1").isPresent());

        images.image(APP, "v1", "local");
        assertEquals(
                Status.Code.FAILED_PRECONDITION,
                code(() -> admin().purgeCache(PurgeCacheRequest.newBuilder()
                        .setRepository(APP.value())
                        .build())));
        assertTrue(registry.metadata().tags().target(APP, "v1").isPresent());
    }
}
