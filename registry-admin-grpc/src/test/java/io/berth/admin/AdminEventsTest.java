package io.berth.admin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.berth.core.auth.AccessControl;
import io.berth.core.auth.Robots;
import io.berth.core.blob.FilesystemBlobStore;
import io.berth.core.maintenance.Maintenance;
import io.berth.core.metadata.OutboxEvent;
import io.berth.core.metadata.OutboxRecords;
import io.berth.core.metadata.sqlite.SqliteMetadataStore;
import io.berth.core.model.RepositoryName;
import io.berth.core.registry.Registry;
import io.berth.core.registry.RegistryOptions;
import io.berth.core.testing.Images;
import io.berth.events.EventCodec;
import io.berth.events.RegistryEvent;
import io.berth.proto.admin.v1.Event;
import io.berth.proto.admin.v1.ListEventsRequest;
import io.berth.proto.admin.v1.ListEventsResponse;
import io.berth.proto.admin.v1.RegistryAdminGrpc;
import io.berth.proto.admin.v1.WatchEventsRequest;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import io.grpc.stub.MetadataUtils;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** ListEvents and WatchEvents over real gRPC, against a registry without Kafka. */
class AdminEventsTest {
    static final RepositoryName APP = RepositoryName.of("team-a/app");
    static final RepositoryName LIB = RepositoryName.of("team-a/lib");
    static final RepositoryName WEB = RepositoryName.of("team-b/web");

    @TempDir
    Path dir;

    Registry registry;
    Maintenance maintenance;
    Images images;
    AdminServer server;
    ManagedChannel channel;

    @BeforeEach
    void open() throws Exception {
        registry = new Registry(
                new FilesystemBlobStore(dir.resolve("blobs"), false),
                new SqliteMetadataStore(dir.resolve("berth.db")),
                RegistryOptions.defaults());
        maintenance = new Maintenance(registry);
        images = new Images(registry);
        AdminServer.Limits defaults = AdminServer.Limits.defaults();
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
                        AccessControl.none(new Robots(registry.metadata(), registry.clock())),
                        Optional.empty(),
                        new AdminServer.Limits(
                                defaults.maxMessageBytes(),
                                defaults.maxMetadataBytes(),
                                defaults.maxCallsPerConnection(),
                                defaults.idleTimeout(),
                                2)));
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

    Metadata token(String token) {
        Metadata m = new Metadata();
        if (token != null) {
            m.put(AdminAuth.AUTHORIZATION, "Bearer " + token);
        }
        return m;
    }

    RegistryAdminGrpc.RegistryAdminBlockingStub stub(String token) {
        return RegistryAdminGrpc.newBlockingStub(channel)
                .withInterceptors(MetadataUtils.newAttachHeadersInterceptor(token(token)))
                .withDeadlineAfter(30, TimeUnit.SECONDS);
    }

    RegistryAdminGrpc.RegistryAdminStub async(String token) {
        return RegistryAdminGrpc.newStub(channel)
                .withInterceptors(MetadataUtils.newAttachHeadersInterceptor(token(token)));
    }

    static StatusRuntimeException failure(Supplier<?> call) {
        return assertThrows(StatusRuntimeException.class, call::get);
    }

    static List<Long> sequences(List<Event> events) {
        return events.stream().map(Event::getSequence).toList();
    }

    /** Every page of a listing, following next_page_token. */
    List<Event> all(ListEventsRequest first) {
        List<Event> out = new ArrayList<>();
        ListEventsRequest r = first;
        while (true) {
            ListEventsResponse page = stub("viewer").listEvents(r);
            assertTrue(page.getEventsCount() <= (first.getPageSize() == 0 ? 100 : first.getPageSize()));
            out.addAll(page.getEventsList());
            if (page.getNextPageToken().isEmpty()) {
                return out;
            }
            r = r.toBuilder().setPageToken(page.getNextPageToken()).build();
        }
    }

    @Test
    void listEventsPagesInSequenceOrderWithTheKafkaPayloadAndFilters() throws Exception {
        images.image(APP, "v1", "a1");
        images.image(WEB, "v1", "w1");
        images.image(LIB, "v1", "l1");
        images.image(APP, "v2", "a2");
        images.image(APP, "v1", "a3"); // moves v1
        List<OutboxEvent> rows = registry.metadata().outbox().after(0, 1000);
        assertEquals(10, rows.size());

        List<Event> listed = all(ListEventsRequest.newBuilder().setPageSize(3).build());
        assertEquals(rows.stream().map(OutboxEvent::seq).toList(), sequences(listed), "every page, in order");
        Event first = listed.get(0);
        assertEquals(rows.get(0).payload(), first.getPayload(), "what Kafka would get, byte for byte");
        RegistryEvent decoded = EventCodec.decode(first.getPayload().getBytes(StandardCharsets.UTF_8));
        assertEquals(decoded.id(), first.getId());
        assertEquals("io.berth.manifest.pushed", first.getType());
        assertEquals(APP.value(), first.getRepository());
        assertEquals(1, first.getRepositorySequence());
        assertEquals(decoded.subject(), first.getSubject());
        assertEquals(rows.get(0).createdAt(), first.getRecordedEpochMillis());

        List<Event> teamA = all(ListEventsRequest.newBuilder()
                .setRepositories("team-a/**")
                .setPageSize(2)
                .build());
        assertEquals(8, teamA.size());
        assertTrue(teamA.stream().allMatch(e -> e.getRepository().startsWith("team-a/")));
        List<Event> tags = all(ListEventsRequest.newBuilder()
                .setRepositories("team-a/app")
                .addTypes("tag.created")
                .addTypes("io.berth.tag.moved")
                .build());
        assertEquals(
                List.of("io.berth.tag.created", "io.berth.tag.created", "io.berth.tag.moved"),
                tags.stream().map(Event::getType).toList());

        ListEventsResponse after = stub("viewer")
                .listEvents(ListEventsRequest.newBuilder().setAfterSequence(8).build());
        assertEquals(List.of(9L, 10L), sequences(after.getEventsList()));
        assertEquals("", after.getNextPageToken());
        assertEquals(10, after.getLastSequence(), "where to read on from later");

        for (ListEventsRequest bad : List.of(
                ListEventsRequest.newBuilder().setRepositories("team-a/(x|y)").build(),
                ListEventsRequest.newBuilder().setRepositories("a".repeat(300)).build(),
                ListEventsRequest.newBuilder().addTypes("tag.exploded").build(),
                ListEventsRequest.newBuilder().setPageSize(1001).build(),
                ListEventsRequest.newBuilder().setPageToken("nonsense").build(),
                ListEventsRequest.newBuilder().setAfterSequence(11).build())) {
            assertEquals(
                    Status.Code.INVALID_ARGUMENT,
                    failure(() -> stub("viewer").listEvents(bad)).getStatus().getCode(),
                    bad.toString());
        }
    }

    @Test
    void aStartAtATimeBeginsThereAndAPrunedStartIsOutOfRange() throws Exception {
        images.image(APP, "v1", "a1");
        Thread.sleep(20);
        long since = registry.clock().millis();
        Thread.sleep(20);
        images.image(APP, "v2", "a2");
        images.image(WEB, "v1", "w1");
        List<Event> fromTime =
                all(ListEventsRequest.newBuilder().setSinceEpochMillis(since).build());
        assertEquals(List.of(3L, 4L, 5L, 6L), sequences(fromTime));

        // the first image's events pruned (as if older than events.retention)
        long cutoff = registry.metadata().outbox().after(2, 1).get(0).createdAt();
        assertEquals(
                2, (int) registry.metadata().inTransaction(tx -> tx.outbox().pruneSent(cutoff)));
        for (ListEventsRequest pruned : List.of(
                ListEventsRequest.newBuilder().setAfterSequence(0).build(),
                ListEventsRequest.newBuilder().setAfterSequence(1).build(),
                ListEventsRequest.newBuilder()
                        .setSinceEpochMillis(System.currentTimeMillis()
                                - Duration.ofHours(25).toMillis())
                        .build())) {
            StatusRuntimeException e = failure(() -> stub("viewer").listEvents(pruned));
            assertEquals(Status.Code.OUT_OF_RANGE, e.getStatus().getCode(), pruned.toString());
            assertTrue(e.getStatus().getDescription().contains("the oldest kept is sequence 3"), e.getMessage());
        }
        assertEquals(
                List.of(3L, 4L, 5L, 6L), sequences(all(ListEventsRequest.getDefaultInstance())), "the oldest kept");
        assertEquals(
                List.of(3L, 4L, 5L, 6L),
                sequences(all(ListEventsRequest.newBuilder().setAfterSequence(2).build())));

        Iterator<Event> watch = stub("viewer")
                .watchEvents(WatchEventsRequest.newBuilder().setAfterSequence(0).build());
        StatusRuntimeException e = assertThrows(StatusRuntimeException.class, watch::hasNext);
        assertEquals(Status.Code.OUT_OF_RANGE, e.getStatus().getCode());
        assertTrue(e.getStatus().getDescription().contains("the oldest kept is sequence 3"), e.getMessage());
    }

    @Test
    void aWatchSendsStoredEventsThenLiveOnesInOrderToAReadOnlyToken() throws Exception {
        images.image(APP, "v1", "a1");
        images.image(WEB, "v1", "w1");
        List<Event> got = new CopyOnWriteArrayList<>();
        CompletableFuture<Status> ended = new CompletableFuture<>();
        ClientResponseObserver<WatchEventsRequest, Event> observer = new ClientResponseObserver<>() {
            ClientCallStreamObserver<WatchEventsRequest> call;

            @Override
            public void beforeStart(ClientCallStreamObserver<WatchEventsRequest> requestStream) {
                call = requestStream;
            }

            @Override
            public void onNext(Event e) {
                got.add(e);
                if (got.size() == 4 + 2 * 3 * 5) {
                    call.cancel("seen all", null);
                }
            }

            @Override
            public void onError(Throwable t) {
                ended.complete(Status.fromThrowable(t));
            }

            @Override
            public void onCompleted() {
                ended.complete(Status.OK);
            }
        };
        async("viewer")
                .watchEvents(WatchEventsRequest.newBuilder().setAfterSequence(0).build(), observer);
        awaitCount(got, 4);
        // three repositories pushed to at once while the watch follows
        List<CompletableFuture<Void>> pushes = new ArrayList<>();
        for (RepositoryName r : List.of(APP, LIB, WEB)) {
            pushes.add(CompletableFuture.runAsync(() -> {
                for (int i = 0; i < 5; i++) {
                    images.image(r, "live" + i, r + "-" + i);
                }
            }));
        }
        CompletableFuture.allOf(pushes.toArray(CompletableFuture[]::new)).get(60, TimeUnit.SECONDS);
        assertEquals(Status.Code.CANCELLED, ended.get(30, TimeUnit.SECONDS).getCode());
        assertEquals(
                registry.metadata().outbox().after(0, 1000).stream()
                        .map(OutboxEvent::seq)
                        .toList(),
                sequences(got),
                "every event once, in sequence order");
        Map<String, Long> last = new HashMap<>();
        for (Event e : got) {
            long previous = last.getOrDefault(e.getRepository(), 0L);
            assertEquals(previous + 1, e.getRepositorySequence(), "in order per repository: " + e);
            last.put(e.getRepository(), e.getRepositorySequence());
        }
    }

    @Test
    void aWatchStartsAtTheLatestByDefaultFiltersAndNeedsAToken() throws Exception {
        images.image(APP, "v1", "a1");
        StatusRuntimeException none = assertThrows(
                StatusRuntimeException.class,
                () -> stub(null)
                        .watchEvents(WatchEventsRequest.getDefaultInstance())
                        .hasNext());
        assertEquals(Status.Code.UNAUTHENTICATED, none.getStatus().getCode());
        StatusRuntimeException wrong = assertThrows(
                StatusRuntimeException.class,
                () -> stub("wrong")
                        .watchEvents(WatchEventsRequest.getDefaultInstance())
                        .hasNext());
        assertEquals(Status.Code.UNAUTHENTICATED, wrong.getStatus().getCode());
        assertEquals(0, server.watches().open());

        Iterator<Event> watch = stub("s3cret")
                .watchEvents(WatchEventsRequest.newBuilder()
                        .setRepositories("team-b/*")
                        .addTypes("tag.created")
                        .build());
        awaitOpen(1);
        images.image(APP, "v2", "a2");
        images.image(WEB, "v1", "w1");
        Event e = watch.next();
        assertEquals(WEB.value(), e.getRepository());
        assertEquals("io.berth.tag.created", e.getType());
        assertEquals(6, e.getSequence(), "what came before the watch and what the filter leaves out is not sent");
    }

    @Test
    void aConsumerThatReadsNothingStopsTheServerReadingTheOutbox() throws Exception {
        int total = 3000;
        String big = "x".repeat(4096);
        for (int i = 0; i < total; i += 500) {
            registry.metadata().inTransaction(tx -> {
                for (int j = 0; j < 500; j++) {
                    long seq = tx.nextSequence(OutboxRecords.SEQUENCE);
                    tx.outbox()
                            .insert(
                                    new OutboxEvent(
                                            seq,
                                            "id-" + seq,
                                            "team-a/app",
                                            seq,
                                            "io.berth.manifest.pushed",
                                            "{\"pad\":\"" + big + "\"}",
                                            tx.now()),
                                    false);
                }
                return null;
            });
        }
        List<Event> got = new CopyOnWriteArrayList<>();
        CompletableFuture<ClientCallStreamObserver<WatchEventsRequest>> started = new CompletableFuture<>();
        CompletableFuture<Status> ended = new CompletableFuture<>();
        async("viewer")
                .watchEvents(
                        WatchEventsRequest.newBuilder().setAfterSequence(0).build(),
                        new ClientResponseObserver<WatchEventsRequest, Event>() {
                            @Override
                            public void beforeStart(ClientCallStreamObserver<WatchEventsRequest> requestStream) {
                                requestStream.disableAutoRequestWithInitial(0); // takes nothing
                                started.complete(requestStream);
                            }

                            @Override
                            public void onNext(Event e) {
                                got.add(e);
                            }

                            @Override
                            public void onError(Throwable t) {
                                ended.complete(Status.fromThrowable(t));
                            }

                            @Override
                            public void onCompleted() {
                                ended.complete(Status.OK);
                            }
                        });
        awaitOpen(1);
        Thread.sleep(1500);
        long read = server.watches().rowsRead();
        Thread.sleep(500);
        assertEquals(read, server.watches().rowsRead(), "stopped reading");
        // the transport's windows (about 1 MiB) and one batch, not 12 MiB of events
        assertTrue(read < 600, "rows read for a consumer that took none: " + read);
        assertEquals(List.of(), got);

        started.get().request(Integer.MAX_VALUE);
        awaitCount(got, total);
        assertEquals(total, got.size());
        for (int i = 0; i < total; i++) {
            assertEquals(i + 1, got.get(i).getSequence());
        }
        assertFalse(ended.isDone(), "the watch goes on");
        started.get().cancel("done", null);
    }

    @Test
    void watchStreamsAreCappedPerServer() throws Exception {
        List<ClientCallStreamObserver<WatchEventsRequest>> calls = new CopyOnWriteArrayList<>();
        List<CompletableFuture<Status>> ends = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            CompletableFuture<Status> end = new CompletableFuture<>();
            ends.add(end);
            async("viewer")
                    .watchEvents(
                            WatchEventsRequest.getDefaultInstance(),
                            new ClientResponseObserver<WatchEventsRequest, Event>() {
                                @Override
                                public void beforeStart(ClientCallStreamObserver<WatchEventsRequest> requestStream) {
                                    calls.add(requestStream);
                                }

                                @Override
                                public void onNext(Event e) {}

                                @Override
                                public void onError(Throwable t) {
                                    end.complete(Status.fromThrowable(t));
                                }

                                @Override
                                public void onCompleted() {
                                    end.complete(Status.OK);
                                }
                            });
            if (i < 2) {
                awaitOpen(i + 1);
            }
        }
        Status third = ends.get(2).get(30, TimeUnit.SECONDS);
        assertEquals(Status.Code.RESOURCE_EXHAUSTED, third.getCode());
        assertTrue(third.getDescription().contains("admin.max-event-watches"), third.getDescription());
        assertEquals(2, server.watches().open());
        calls.get(0).cancel("enough", null);
        awaitOpen(1);
        Iterator<Event> again = stub("viewer").watchEvents(WatchEventsRequest.getDefaultInstance());
        awaitOpen(2);
        images.image(APP, "v1", "a1");
        assertEquals(1, again.next().getSequence(), "a place freed is taken again");

        // stopping the listener ends the watches rather than waiting for them
        long t0 = System.nanoTime();
        server.stop(5000);
        assertTrue(System.nanoTime() - t0 < TimeUnit.SECONDS.toNanos(4), "stopped at once");
        assertEquals(
                Status.Code.UNAVAILABLE, ends.get(1).get(10, TimeUnit.SECONDS).getCode());
    }

    void awaitOpen(int n) throws InterruptedException {
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (server.watches().open() != n) {
            assertTrue(
                    System.nanoTime() < until,
                    "watches open: " + server.watches().open() + ", not " + n);
            Thread.sleep(10);
        }
    }

    static void awaitCount(List<?> list, int n) throws InterruptedException {
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (list.size() < n) {
            assertTrue(System.nanoTime() < until, "received " + list.size() + " of " + n);
            Thread.sleep(10);
        }
    }
}
