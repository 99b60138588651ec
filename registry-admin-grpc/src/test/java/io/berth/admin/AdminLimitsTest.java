package io.berth.admin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.common.util.concurrent.ListenableFuture;
import io.berth.core.auth.AccessControl;
import io.berth.core.auth.Robots;
import io.berth.core.blob.FilesystemBlobStore;
import io.berth.core.config.BerthConfig;
import io.berth.core.maintenance.Maintenance;
import io.berth.core.metadata.sqlite.SqliteMetadataStore;
import io.berth.core.registry.Registry;
import io.berth.core.registry.RegistryOptions;
import io.berth.proto.admin.v1.CreateRobotRequest;
import io.berth.proto.admin.v1.GetServerInfoRequest;
import io.berth.proto.admin.v1.RegistryAdminGrpc;
import io.berth.proto.admin.v1.ServerInfo;
import io.grpc.Attributes;
import io.grpc.CallOptions;
import io.grpc.ClientCall;
import io.grpc.ConnectivityState;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.MetadataUtils;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.security.crypto.bcrypt.BCrypt;

/**
 * The admin listener is bounded whatever a client does: failed logins hold no thread (800 calls on
 * one connection), guesses of admin.tokens are refused per address before any comparison, and
 * messages, metadata, calls per connection and idle connections have limits. Clients from other
 * loopback addresses (127.0.0.2, …) play the legitimate operator. Timings are printed only.
 */
class AdminLimitsTest {
    @TempDir
    Path dir;

    Registry registry;
    Maintenance maintenance;
    Robots robots;
    final List<AutoCloseable> closing = new ArrayList<>();

    @BeforeEach
    void open() throws Exception {
        registry = new Registry(
                new FilesystemBlobStore(dir.resolve("blobs"), false),
                new SqliteMetadataStore(dir.resolve("berth.db")),
                RegistryOptions.defaults());
        maintenance = new Maintenance(registry);
        robots = new Robots(registry.metadata(), registry.clock());
    }

    @AfterEach
    void close() throws Exception {
        for (AutoCloseable c : closing.reversed()) {
            c.close();
        }
        maintenance.close();
        registry.close();
    }

    AdminServer server(Map<String, String> config, List<String> tokens, AdminServer.Limits limits) throws Exception {
        AccessControl access = AccessControl.from(BerthConfig.of(config), robots, Clock.systemUTC());
        AdminServer s = AdminServer.start(
                "127.0.0.1",
                0,
                registry,
                maintenance,
                new AdminServer.Settings("1", 0, tokens, Duration.ofHours(1), access, Optional.empty(), limits));
        closing.add(s);
        return s;
    }

    /** A channel whose connection comes from {@code address}. */
    ManagedChannel channel(AdminServer s, String address) {
        ManagedChannel c = NettyChannelBuilder.forAddress("127.0.0.1", s.port())
                .usePlaintext()
                .localSocketPicker(new NettyChannelBuilder.LocalSocketPicker() {
                    @Override
                    public SocketAddress createSocketAddress(SocketAddress remote, Attributes attrs) {
                        return new InetSocketAddress(address, 0);
                    }
                })
                .build();
        closing.add(() -> c.shutdownNow().awaitTermination(5, TimeUnit.SECONDS));
        return c;
    }

    static Metadata auth(String authorization) {
        Metadata m = new Metadata();
        m.put(AdminAuth.AUTHORIZATION, authorization);
        return m;
    }

    static String basic(String user, String password) {
        return "Basic " + Base64.getEncoder().encodeToString((user + ":" + password).getBytes(StandardCharsets.UTF_8));
    }

    RegistryAdminGrpc.RegistryAdminBlockingStub stub(ManagedChannel c, String authorization) {
        return RegistryAdminGrpc.newBlockingStub(c)
                .withInterceptors(MetadataUtils.newAttachHeadersInterceptor(auth(authorization)))
                .withDeadlineAfter(60, TimeUnit.SECONDS);
    }

    static Status.Code code(Runnable call) {
        return assertThrows(StatusRuntimeException.class, call::run).getStatus().getCode();
    }

    static long heapUsedMiB() {
        return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed() >> 20;
    }

    @Test
    void eightHundredFailedLoginsOnOneConnectionHoldNoThreads() throws Exception {
        Path users = dir.resolve("htpasswd");
        Files.writeString(users, "root:" + BCrypt.hashpw("root-pw", BCrypt.gensalt(10)) + "\n");
        AdminServer s = server(
                Map.of("auth.type", "htpasswd", "auth.htpasswd.path", users.toString()),
                List.of("boot"),
                AdminServer.Limits.defaults());
        ManagedChannel attacker = channel(s, "127.0.0.1");
        ManagedChannel operator = channel(s, "127.0.0.2");
        GetServerInfoRequest info = GetServerInfoRequest.getDefaultInstance();
        assertEquals("1", stub(operator, "Bearer boot").getServerInfo(info).getVersion());
        assertEquals("1", stub(attacker, "Bearer boot").getServerInfo(info).getVersion());

        ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        int baseline = threads.getThreadCount();
        AtomicInteger peak = new AtomicInteger(baseline);
        AtomicLong heapPeak = new AtomicLong(heapUsedMiB());
        AtomicLong operatorWorst = new AtomicLong();
        AtomicInteger operatorCalls = new AtomicInteger();
        AtomicBoolean running = new AtomicBoolean(true);
        Thread sampler = Thread.ofPlatform().start(() -> {
            while (running.get()) {
                peak.accumulateAndGet(threads.getThreadCount(), Math::max);
                heapPeak.accumulateAndGet(heapUsedMiB(), Math::max);
                try {
                    Thread.sleep(2);
                } catch (InterruptedException e) {
                    return;
                }
            }
        });
        Thread legit = Thread.ofPlatform().start(() -> {
            while (running.get()) {
                long t = System.nanoTime();
                stub(operator, "Bearer boot").getServerInfo(info);
                operatorWorst.accumulateAndGet((System.nanoTime() - t) / 1_000_000, Math::max);
                operatorCalls.incrementAndGet();
            }
        });
        long start = System.nanoTime();
        RegistryAdminGrpc.RegistryAdminFutureStub bad = RegistryAdminGrpc.newFutureStub(attacker)
                .withInterceptors(MetadataUtils.newAttachHeadersInterceptor(auth(basic("root", "guess"))))
                .withDeadlineAfter(120, TimeUnit.SECONDS);
        List<ListenableFuture<ServerInfo>> calls = new ArrayList<>();
        for (int i = 0; i < 800; i++) {
            calls.add(bad.getServerInfo(info));
        }
        Map<Status.Code, Integer> outcomes = new TreeMap<>();
        for (ListenableFuture<ServerInfo> f : calls) {
            try {
                f.get();
                outcomes.merge(Status.Code.OK, 1, Integer::sum);
            } catch (ExecutionException e) {
                outcomes.merge(Status.fromThrowable(e.getCause()).getCode(), 1, Integer::sum);
            }
        }
        long millis = (System.nanoTime() - start) / 1_000_000;
        running.set(false);
        sampler.join();
        legit.join();
        System.out.printf(
                "800 failed admin logins on one connection: %s in %d ms; platform threads %d before, at "
                        + "most %d during; heap used at most %d MiB; an operator's GetServerInfo meanwhile: %d calls, worst "
                        + "%d ms%n",
                outcomes, millis, baseline, peak.get(), heapPeak.get(), operatorCalls.get(), operatorWorst.get());
        assertEquals(
                800,
                outcomes.getOrDefault(Status.Code.UNAUTHENTICATED, 0)
                        + outcomes.getOrDefault(Status.Code.RESOURCE_EXHAUSTED, 0),
                outcomes.toString());
        assertTrue(
                outcomes.getOrDefault(Status.Code.RESOURCE_EXHAUSTED, 0) >= 790,
                "refused unchecked after auth.login.failures-per-address: " + outcomes);
        assertTrue(peak.get() - baseline < 40, "platform threads grew from " + baseline + " to " + peak.get());
        assertTrue(operatorCalls.get() > 0);
    }

    @Test
    void guessesOfAdminTokensAreRefusedPerAddressButNeverLockOutALongToken() throws Exception {
        // no failure forgiven while the test runs: the count is exact (the default forgives one per 6 s)
        String strong = "k7Qw2ZrT9mXc4VbN8pLs1HdF6gJy3EuA"; // 32 characters: cannot be guessed
        AdminServer s = server(
                Map.of("auth.login.failure-refill", "1h"),
                List.of("s3cret", "ro:viewer", strong),
                AdminServer.Limits.defaults());
        ManagedChannel attacker = channel(s, "127.0.0.1");
        GetServerInfoRequest info = GetServerInfoRequest.getDefaultInstance();
        Map<Status.Code, Integer> outcomes = new TreeMap<>();
        long start = System.nanoTime();
        for (int i = 0; i < 5000; i++) {
            try {
                stub(attacker, "Bearer guess-" + i).getServerInfo(info);
                outcomes.merge(Status.Code.OK, 1, Integer::sum);
            } catch (StatusRuntimeException e) {
                outcomes.merge(e.getStatus().getCode(), 1, Integer::sum);
            }
        }
        long millis = (System.nanoTime() - start) / 1_000_000;
        assertEquals(
                Map.of(Status.Code.UNAUTHENTICATED, 10, Status.Code.RESOURCE_EXHAUSTED, 4990),
                outcomes,
                "auth.login.failures-per-address is 10");
        StatusRuntimeException right = assertThrows(
                StatusRuntimeException.class,
                () -> stub(attacker, "Bearer s3cret").getServerInfo(info));
        assertEquals(
                Status.Code.RESOURCE_EXHAUSTED,
                right.getStatus().getCode(),
                "the right token too: a refused address learns nothing");
        assertTrue(
                right.getStatus().getDescription().contains("try again in"),
                right.getStatus().getDescription());
        // a token too long to guess passes from the blocked address: guesses from an address the operator
        // shares (a proxy, a NAT, another user of the machine) cannot lock the operator out
        assertEquals("1", stub(attacker, "Bearer " + strong).getServerInfo(info).getVersion());
        long t = System.nanoTime();
        assertEquals(
                "1",
                stub(channel(s, "127.0.0.2"), "Bearer s3cret")
                        .getServerInfo(info)
                        .getVersion());
        System.out.printf(
                "5000 admin token guesses from one address: %s in %d ms; the operator from another "
                        + "address %d ms; heap used %d MiB%n",
                outcomes, millis, (System.nanoTime() - t) / 1_000_000, heapUsedMiB());
    }

    @Test
    void messagesAndMetadataHaveAMaximumSize() throws Exception {
        AdminServer s = server(Map.of(), List.of("s3cret"), AdminServer.Limits.defaults());
        ManagedChannel c = channel(s, "127.0.0.1");
        assertEquals(1024 * 1024, AdminServer.Limits.defaults().maxMessageBytes(), "admin.max-message-size");
        StatusRuntimeException big = assertThrows(
                StatusRuntimeException.class,
                () -> stub(c, "Bearer s3cret")
                        .createRobot(CreateRobotRequest.newBuilder()
                                .setName("big")
                                .addRepositories("x/**")
                                .addActions("pull")
                                .setDescription("d".repeat(2 * 1024 * 1024))
                                .build()));
        assertEquals(
                Status.Code.RESOURCE_EXHAUSTED,
                big.getStatus().getCode(),
                big.getStatus().toString());
        assertEquals(List.of(), robots.list());
        // under the limit the same call goes through
        stub(c, "Bearer s3cret")
                .createRobot(CreateRobotRequest.newBuilder()
                        .setName("small")
                        .addRepositories("x/**")
                        .addActions("pull")
                        .setDescription("d".repeat(512 * 1024))
                        .build());
        // metadata over admin.max-metadata-size (8 KiB): refused, the connection still serves
        Metadata padded = auth("Bearer s3cret");
        padded.put(Metadata.Key.of("x-pad", Metadata.ASCII_STRING_MARSHALLER), "p".repeat(16 * 1024));
        StatusRuntimeException headers = assertThrows(
                StatusRuntimeException.class,
                () -> RegistryAdminGrpc.newBlockingStub(c)
                        .withInterceptors(MetadataUtils.newAttachHeadersInterceptor(padded))
                        .withDeadlineAfter(30, TimeUnit.SECONDS)
                        .getServerInfo(GetServerInfoRequest.getDefaultInstance()));
        assertNotEquals(Status.Code.OK, headers.getStatus().getCode());
        assertEquals(
                "1",
                stub(channel(s, "127.0.0.1"), "Bearer s3cret")
                        .getServerInfo(GetServerInfoRequest.getDefaultInstance())
                        .getVersion());
    }

    @Test
    void aConnectionHasAtMostSoManyCallsOpen() throws Exception {
        AdminServer.Limits limits = new AdminServer.Limits(1024 * 1024, 8 * 1024, 16, Duration.ofMinutes(5));
        AdminServer s = server(Map.of(), List.of("s3cret"), limits);
        ManagedChannel c = channel(s, "127.0.0.1");
        // 40 calls whose client never half-closes: the server waits for the end of each request, holding its stream
        List<ClientCall<GetServerInfoRequest, ServerInfo>> open = new ArrayList<>();
        for (int i = 0; i < 40; i++) {
            ClientCall<GetServerInfoRequest, ServerInfo> call =
                    c.newCall(RegistryAdminGrpc.getGetServerInfoMethod(), CallOptions.DEFAULT);
            call.start(new ClientCall.Listener<>() {}, auth("Bearer s3cret"));
            call.request(1);
            call.sendMessage(GetServerInfoRequest.getDefaultInstance()); // sends the headers too; no halfClose()
            open.add(call);
        }
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (s.callsInFlight() < 16 && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        Thread.sleep(500); // more would have arrived by now
        System.out.printf(
                "40 calls held open on one connection: %d open at the server, at most %d%n",
                s.callsInFlight(), s.peakCallsInFlight());
        assertEquals(16, s.peakCallsInFlight(), "admin.max-calls-per-connection");
        // another connection is not affected
        assertEquals(
                "1",
                stub(channel(s, "127.0.0.2"), "Bearer s3cret")
                        .getServerInfo(GetServerInfoRequest.getDefaultInstance())
                        .getVersion());
        open.forEach(call -> call.cancel("done", null));
        deadline = System.nanoTime() + 10_000_000_000L;
        while (s.callsInFlight() > 0 && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertEquals(0, s.callsInFlight());
    }

    @Test
    void anIdleConnectionIsClosed() throws Exception {
        AdminServer s = server(
                Map.of(), List.of("s3cret"), new AdminServer.Limits(1024 * 1024, 8 * 1024, 16, Duration.ofSeconds(1)));
        ManagedChannel c = channel(s, "127.0.0.1");
        stub(c, "Bearer s3cret").getServerInfo(GetServerInfoRequest.getDefaultInstance());
        assertEquals(ConnectivityState.READY, c.getState(false));
        long deadline = System.nanoTime() + 15_000_000_000L;
        while (c.getState(false) == ConnectivityState.READY && System.nanoTime() < deadline) {
            Thread.sleep(50);
        }
        assertNotEquals(ConnectivityState.READY, c.getState(false), "the server closed the idle connection");
        assertEquals(
                "1",
                stub(c, "Bearer s3cret")
                        .getServerInfo(GetServerInfoRequest.getDefaultInstance())
                        .getVersion(),
                "and the client connects again when it needs to");
    }
}
