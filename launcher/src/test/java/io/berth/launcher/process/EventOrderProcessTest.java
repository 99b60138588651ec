package io.berth.launcher.process;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpServer;
import io.berth.core.model.Digest;
import io.berth.events.RegistryEvent;
import io.berth.proto.admin.v1.GetTagHistoryRequest;
import io.berth.proto.admin.v1.TagVersion;
import io.berth.testsupport.FreePorts;
import io.berth.testsupport.JavaProcess;
import io.berth.testsupport.KafkaBroker;
import io.berth.testsupport.TopicReader;
import io.berth.testsupport.oci.TestImage;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Per-repository order from the registry to a webhook receiver and to a replication target, the hard
 * way: while four repositories are pushed and their tags moved, the broker's link is cut, the broker
 * restarted, the webhook relay and the replicator killed and started again, and the target stopped —
 * each at a random point (the seed is printed; {@code -Dberth.test.order-seed=N} replays one).
 *
 * <p>What must hold: on the topic, what the relay delivers, and in the target's tag history, each
 * repository's changes appear in the order they happened. Copies may repeat (at least once), so the
 * order checked is that of first appearances; the replicator may skip intermediate states (it copies
 * what the source holds when it applies an event), but a tag on the target never goes back to a
 * digest older than one it already had, and ends where the source's is.
 */
@Tag("process")
class EventOrderProcessTest extends ReplicationFixture {
    static final int REPOSITORIES = 4;
    /** Pushes per repository at least; they go on until every fault has happened. */
    static final int PUSHES = 8;
    /** Pushes per repository at most, however long the faults take (a slow machine). */
    static final int MAX_PUSHES = 60;

    static final List<String> TAGS = List.of("a", "b");

    /** Event ids in the order a receiver got them (2xx answered). */
    final List<String> received = Collections.synchronizedList(new ArrayList<>());

    @Test
    void webhookDeliveriesAndReplicatedTagsFollowEachRepositorysOrderAcrossOutagesAndRestarts() throws Exception {
        long seed = Long.getLong("berth.test.order-seed", System.nanoTime());
        Random random = new Random(seed);
        System.out.println("EventOrderProcessTest seed " + seed);
        long t0 = System.nanoTime();
        KafkaBroker broker = KafkaBroker.dedicatedBehindLink();
        started.add(broker);
        HttpServer receiver = receiver();
        started.add(() -> receiver.stop(0));
        BerthProcess a = site("a", EventsProcessTest.events(broker.bootstrapServers(), topic));
        int bPort = FreePorts.next();
        Map<String, String> bEnv = Map.of("BERTH_ADMIN_TOKENS", "t0ken");
        BerthProcess[] b = {site("b", bPort, bEnv)};
        String kafka = "  kafka: { bootstrap-servers: \"" + broker.bootstrapServers() + "\", topic: \"" + topic
                + "\", group: \"g-" + topic + "\" }\n";
        String targets = targetYaml("site-b", b[0].base(), "deletes: true\n");
        JavaProcess[] replicator = {replicator(kafka, a.base(), targets, List.of(), "5s")};
        Path hooks = Files.writeString(
                dir.resolve("webhooks.yaml"),
                "webhooks:\n" + kafka.replace("\n", "")
                        + "\n  http-port: 0\n  endpoints:\n    - name: order\n      url: http://127.0.0.1:"
                        + receiver.getAddress().getPort() + "/hook\n      start-from: earliest\n");
        JavaProcess[] relay = {relay(hooks)};
        long setUp = System.nanoTime();

        // pushes: a thread per repository, each push a new digest under one of its tags
        Map<String, Map<String, List<String>>> pushed = new LinkedHashMap<>();
        AtomicBoolean faultsDone = new AtomicBoolean();
        List<Thread> pushers = new ArrayList<>();
        for (int r = 0; r < REPOSITORIES; r++) {
            String repo = "order/r" + r;
            Map<String, List<String>> history = new HashMap<>();
            TAGS.forEach(t -> history.put(t, new ArrayList<>()));
            pushed.put(repo, history);
            long pace = 300 + random.nextInt(300);
            pushers.add(Thread.ofPlatform().start(() -> {
                for (int i = 0; i < MAX_PUSHES && (i < PUSHES || !faultsDone.get()); i++) {
                    String tag = TAGS.get(i % TAGS.size());
                    try {
                        Digest d = a.oci()
                                .pushImage(repo, tag, TestImage.of(repo + " " + i))
                                .manifest();
                        history.get(tag).add(d.toString());
                        Thread.sleep(pace);
                    } catch (Exception e) {
                        throw new IllegalStateException(e);
                    }
                }
            }));
        }
        // meanwhile, outages and restarts at random points
        List<String> chaos = Collections.synchronizedList(new ArrayList<>());
        List<Runnable> faults = new ArrayList<>(List.of(
                () -> {
                    broker.link().cut();
                    pause(1000 + random.nextInt(2000));
                    restore(broker);
                    chaos.add("broker link cut");
                },
                () -> {
                    broker.stop();
                    pause(random.nextInt(1500));
                    broker.restart();
                    chaos.add("broker restarted");
                },
                () -> {
                    relay[0].process().destroyForcibly();
                    waitFor(relay[0]);
                    relay[0] = relay(hooks);
                    chaos.add("webhook relay killed and started");
                },
                () -> {
                    replicator[0].process().destroyForcibly();
                    waitFor(replicator[0]);
                    replicator[0] = replicator(kafka, a.base(), targets, List.of(), "5s");
                    chaos.add("replicator killed and started");
                },
                () -> {
                    b[0].process.process().destroyForcibly();
                    waitFor(b[0].process);
                    pause(1500 + random.nextInt(2000));
                    b[0] = site("b", bPort, bEnv);
                    chaos.add("target killed and started");
                },
                () -> {
                    broker.link().cut();
                    pause(500 + random.nextInt(1500));
                    restore(broker);
                    chaos.add("broker link cut");
                }));
        Collections.shuffle(faults, random);
        for (Runnable fault : faults) {
            pause(300 + random.nextInt(1200));
            fault.run();
        }
        pause(500 + random.nextInt(1000)); // and a few pushes after the last fault
        faultsDone.set(true);
        for (Thread t : pushers) {
            t.join();
        }
        long pushes = System.nanoTime();
        System.out.println("faults, in order: " + chaos);

        // every event of every push on the topic: two per push (manifest.pushed, tag.created or .moved)
        Map<String, Long> expected = new HashMap<>();
        pushed.forEach((repo, tags) -> expected.put(
                repo, 2L * tags.values().stream().mapToInt(List::size).sum()));
        int pushCount = pushed.values().stream()
                .flatMap(t -> t.values().stream())
                .mapToInt(List::size)
                .sum();
        List<RegistryEvent> topicEvents;
        try (TopicReader reader = new TopicReader(broker.bootstrapServers(), topic)) {
            topicEvents = EventsProcessTest.decode(
                    reader.until(rs -> complete(EventsProcessTest.decode(rs), expected), Duration.ofSeconds(120)));
        }
        assertTrue(complete(topicEvents, expected), "every event reached the topic: " + summary(topicEvents));
        assertFirstAppearancesInOrder("topic", topicEvents);
        long onTopic = System.nanoTime();

        // the receiver: every event, each repository's in order of first appearance
        Map<String, RegistryEvent> byId = new HashMap<>();
        topicEvents.forEach(e -> byId.put(e.id(), e));
        await(
                "every event delivered",
                () -> {
                    synchronized (received) {
                        return new HashSet<>(received).containsAll(byId.keySet());
                    }
                },
                Duration.ofSeconds(120));
        List<RegistryEvent> delivered = new ArrayList<>();
        synchronized (received) {
            for (String id : received) {
                RegistryEvent e = byId.get(id);
                assertTrue(e != null, "delivered an event the topic does not hold: " + id);
                delivered.add(e);
            }
        }
        assertFirstAppearancesInOrder("webhook receiver", delivered);
        long hooked = System.nanoTime();

        // the target: each tag where the source's is, its history never going back
        await(
                "the target to hold what the source holds",
                () -> {
                    for (var repo : pushed.entrySet()) {
                        for (var tag : repo.getValue().entrySet()) {
                            List<String> versions = tag.getValue();
                            if (!digest(b[0].base(), repo.getKey(), tag.getKey())
                                    .equals(Optional.of(versions.getLast()))) {
                                return false;
                            }
                        }
                    }
                    return true;
                },
                Duration.ofSeconds(120));
        var admin = b[0].admin("t0ken");
        int versions = 0;
        for (var repo : pushed.entrySet()) {
            for (var tag : repo.getValue().entrySet()) {
                List<String> source = tag.getValue();
                List<String> target = admin
                        .getTagHistory(GetTagHistoryRequest.newBuilder()
                                .setRepository(repo.getKey())
                                .setTag(tag.getKey())
                                .build())
                        .getVersionsList()
                        .stream()
                        .map(TagVersion::getDigest)
                        .toList();
                versions += target.size();
                int last = -1;
                for (String d : target) {
                    int at = source.indexOf(d);
                    assertTrue(
                            at > last,
                            repo.getKey() + ":" + tag.getKey() + " went back on the target: its history " + target
                                    + ", the source's " + source + " (seed " + seed + ", faults " + chaos + ")");
                    last = at;
                }
                assertEquals(source.getLast(), target.getLast());
            }
        }
        long replicated = System.nanoTime();
        System.out.printf(
                "EventOrderProcessTest: set-up %.1f s, %d pushes with %d faults %.1f s, all %d events on "
                        + "the topic %.1f s later, delivered (%d deliveries) %.1f s later, replicated (%d tag versions on the "
                        + "target for %d pushed) %.1f s later; %.1f s in all%n",
                secs(setUp - t0),
                pushCount,
                chaos.size(),
                secs(pushes - setUp),
                topicEvents.size(),
                secs(onTopic - pushes),
                delivered.size(),
                secs(hooked - onTopic),
                versions,
                pushCount,
                secs(replicated - hooked),
                secs(replicated - t0));
    }

    /** Per repository, sequence numbers first appear as 1, 2, 3, … (a repeat of an earlier one may follow). */
    static void assertFirstAppearancesInOrder(String where, List<RegistryEvent> events) {
        Map<String, Long> next = new HashMap<>();
        Map<String, Set<Long>> seen = new HashMap<>();
        for (RegistryEvent e : events) {
            long seq = Long.parseLong(e.sequence());
            if (!seen.computeIfAbsent(e.repository(), k -> new HashSet<>()).add(seq)) {
                continue; // a repeat
            }
            long want = next.getOrDefault(e.repository(), 1L);
            assertEquals(
                    want,
                    seq,
                    where + ": " + e.repository() + " event " + seq + " came first where " + want + " should have, in "
                            + sequences(events, e.repository()));
            next.put(e.repository(), want + 1);
        }
    }

    static List<Long> sequences(List<RegistryEvent> events, String repository) {
        return events.stream()
                .filter(e -> e.repository().equals(repository))
                .map(e -> Long.parseLong(e.sequence()))
                .toList();
    }

    static boolean complete(List<RegistryEvent> events, Map<String, Long> expected) {
        Map<String, Set<Long>> seen = new HashMap<>();
        events.forEach(
                e -> seen.computeIfAbsent(e.repository(), k -> new HashSet<>()).add(Long.parseLong(e.sequence())));
        return expected.entrySet().stream()
                .allMatch(x -> seen.getOrDefault(x.getKey(), Set.of()).size() == x.getValue());
    }

    static String summary(List<RegistryEvent> events) {
        Map<String, List<Long>> m = new LinkedHashMap<>();
        events.forEach(
                e -> m.computeIfAbsent(e.repository(), k -> new ArrayList<>()).add(Long.parseLong(e.sequence())));
        return m.toString();
    }

    HttpServer receiver() throws Exception {
        HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", FreePorts.next()), 50);
        server.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
        server.createContext("/hook", x -> {
            x.getRequestBody().readAllBytes();
            received.add(x.getRequestHeaders().getFirst("X-Berth-Event-Id"));
            x.sendResponseHeaders(200, -1);
            x.close();
        });
        server.start();
        return server;
    }

    JavaProcess relay(Path config) {
        JavaProcess p = WebhooksRelay.start(dir, config);
        started.add(p);
        return p;
    }

    JavaProcess replicator(String kafka, String source, String targets, List<String> jvm, String reconcile) {
        try {
            return super.replicator(kafka, source, targets, jvm, reconcile);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    static void restore(KafkaBroker broker) {
        try {
            broker.link().restore();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static void waitFor(JavaProcess p) {
        try {
            p.process().waitFor(30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    static void pause(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    static double secs(long nanos) {
        return nanos / 1e9;
    }
}
