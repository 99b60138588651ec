package io.berth.launcher.process;

import io.berth.core.model.Digest;
import io.berth.core.model.MediaTypes;
import io.berth.events.EventCodec;
import io.berth.events.MalformedEventException;
import io.berth.events.RegistryEvent;
import io.berth.testsupport.KafkaBroker;
import io.berth.testsupport.oci.OciClient;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Figures for docs/benchmarks.md (never asserted): push acknowledged → event seen by a consumer (p50,
 * p99 over 1000 pushes), the relay's throughput draining a backlog, and push latency with events on
 * and off. Run with
 * {@code bin/test -pl launcher -Dgroups=benchmark -Dberth.test.excluded-groups= -Dit.test=EventsBenchmark
 * -Dtest=none -Dsurefire.failIfNoSpecifiedTests=false}.
 */
@Tag("benchmark")
class EventsBenchmark {
    static final int PUSHES = Integer.getInteger("berth.bench.pushes", 1000);
    static final int BACKLOG = Integer.getInteger("berth.bench.backlog", 5000);

    @TempDir
    Path dir;

    /** Arrival time (nanoTime) of every record's subject, read by a consumer in this JVM. */
    static final class Arrivals implements AutoCloseable {
        final Map<String, Long> at = new ConcurrentHashMap<>();
        final AtomicBoolean running = new AtomicBoolean(true);
        final Thread thread;

        Arrivals(String bootstrap, String topic) {
            Properties p = new Properties();
            p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
            p.put(ConsumerConfig.GROUP_ID_CONFIG, "bench-" + UUID.randomUUID());
            p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
            KafkaConsumer<String, byte[]> c =
                    new KafkaConsumer<>(p, new StringDeserializer(), new ByteArrayDeserializer());
            c.subscribe(List.of(topic));
            thread = Thread.ofPlatform().daemon().start(() -> {
                try (c) {
                    while (running.get()) {
                        for (ConsumerRecord<String, byte[]> r : c.poll(Duration.ofMillis(100))) {
                            long now = System.nanoTime();
                            try {
                                RegistryEvent e = EventCodec.decode(r.value());
                                at.putIfAbsent(e.type() + " " + e.subject(), now);
                            } catch (MalformedEventException ex) {
                                throw new IllegalStateException(ex);
                            }
                        }
                    }
                }
            });
        }

        Long waitFor(String key, Duration timeout) throws InterruptedException {
            long deadline = System.nanoTime() + timeout.toNanos();
            while (System.nanoTime() < deadline) {
                Long t = at.get(key);
                if (t != null) {
                    return t;
                }
                Thread.sleep(0, 200_000);
            }
            throw new AssertionError("no event " + key);
        }

        @Override
        public void close() {
            running.set(false);
            try {
                thread.join(5000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** A small image: config and layer blobs pushed once; each push is a new manifest by a new tag. */
    static final class Pusher {
        final OciClient oci;
        final String repo;
        final Digest config;
        final Digest layer;

        Pusher(String base, String repo) {
            this.oci = OciClient.of(base);
            this.repo = repo;
            this.config = oci.pushBlob(repo, "{}".getBytes(StandardCharsets.UTF_8));
            this.layer = oci.pushBlob(repo, "layer".getBytes(StandardCharsets.UTF_8));
        }

        /** A whole push of a small image (a fresh 1 KiB layer, the shared config, the manifest); nanoseconds. */
        long push(String tag) throws Exception {
            byte[] fresh = (tag + " " + "x".repeat(1024)).getBytes(StandardCharsets.UTF_8);
            long t0 = System.nanoTime();
            Digest l = oci.pushBlob(repo, fresh);
            put(tag, l, fresh.length);
            return System.nanoTime() - t0;
        }

        void put(String tag, Digest l, int size) throws Exception {
            byte[] m = ("{\"schemaVersion\":2,\"mediaType\":\"" + MediaTypes.OCI_MANIFEST + "\",\"config\":{"
                            + "\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"digest\":\"" + config
                            + "\",\"size\":2},\"layers\":[{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar\","
                            + "\"digest\":\"" + l + "\",\"size\":" + size + "}],\"annotations\":{\"t\":\"" + tag
                            + "\"}}")
                    .getBytes(StandardCharsets.UTF_8);
            oci.pushManifest(repo, tag, MediaTypes.OCI_MANIFEST, m);
        }

        /** Just the manifest PUT (the request that writes events), nanoseconds. */
        long putOnly(String tag) throws Exception {
            long t0 = System.nanoTime();
            put(tag, layer, 5);
            return System.nanoTime() - t0;
        }
    }

    static double ms(long nanos) {
        return nanos / 1e6;
    }

    static String summary(long[] nanos) {
        long[] s = nanos.clone();
        Arrays.sort(s);
        return String.format(
                "p50 %.2f ms, p90 %.2f ms, p99 %.2f ms, mean %.2f ms",
                ms(s[s.length / 2]),
                ms(s[(int) (s.length * 0.9)]),
                ms(s[(int) Math.min(s.length - 1, s.length * 0.99)]),
                ms(Arrays.stream(s).sum() / s.length));
    }

    static long median(long[] nanos) {
        long[] s = nanos.clone();
        Arrays.sort(s);
        return s[s.length / 2];
    }

    @Test
    void figures() throws Exception {
        String topic = "berth.bench." + UUID.randomUUID();
        Map<String, String> quiet = Map.of("BERTH_HTTP_ACCESS_LOG", "false");
        Map<String, String> withEvents = new HashMap<>(quiet);
        // "events off": nothing recorded at all, not even for the admin API
        quiet = Map.of("BERTH_HTTP_ACCESS_LOG", "false", "BERTH_EVENTS_RECORD", "false");
        try (KafkaBroker broker = KafkaBroker.dedicated()) {
            withEvents.putAll(EventsProcessTest.events(broker.bootstrapServers(), topic));
            try (BerthProcess off = BerthProcess.start(dir.resolve("off"), List.of(), quiet);
                    BerthProcess on = BerthProcess.start(dir.resolve("on"), List.of(), withEvents);
                    Arrivals arrivals = new Arrivals(broker.bootstrapServers(), topic)) {
                Pusher pOff = new Pusher(off.base(), "bench/app");
                Pusher pOn = new Pusher(on.base(), "bench/app");
                for (int i = 0; i < 300; i++) { // warm-up: JIT, connections, the producer's metadata
                    pOff.push("warm" + i);
                    pOn.push("warm" + i);
                    pOff.putOnly("warmput" + i);
                    pOn.putOnly("warmput" + i);
                }
                arrivals.waitFor("io.berth.tag.created bench/app:warmput299", Duration.ofSeconds(60));

                // push latency, events off and on, alternating rounds so both see the same machine
                List<long[]> pushOff = new ArrayList<>();
                List<long[]> pushOn = new ArrayList<>();
                List<long[]> putOff = new ArrayList<>();
                List<long[]> putOn = new ArrayList<>();
                long[] seen = new long[PUSHES];
                for (int round = 0; round < 3; round++) {
                    long[] a = new long[PUSHES];
                    long[] b = new long[PUSHES];
                    long[] c = new long[PUSHES];
                    long[] d = new long[PUSHES];
                    for (int i = 0; i < PUSHES; i++) {
                        a[i] = pOff.push("r" + round + "-" + i);
                        String tag = "r" + round + "-" + i;
                        b[i] = pOn.push(tag);
                        long acked = System.nanoTime();
                        if (round == 0) {
                            // acknowledged → seen by a consumer, push by push
                            seen[i] = arrivals.waitFor("io.berth.tag.created bench/app:" + tag, Duration.ofSeconds(60))
                                    - acked;
                        }
                        c[i] = pOff.putOnly("m" + round + "-" + i);
                        d[i] = pOn.putOnly("m" + round + "-" + i);
                    }
                    pushOff.add(a);
                    pushOn.add(b);
                    putOff.add(c);
                    putOn.add(d);
                }
                System.out.println("EVENTS BENCHMARK (" + PUSHES + " pushes per round, 3 rounds)");
                System.out.println("acknowledged -> seen by a consumer: " + summary(seen));
                for (int round = 0; round < 3; round++) {
                    System.out.printf("round %d: small push, events off: %s%n", round, summary(pushOff.get(round)));
                    System.out.printf("round %d: small push, events on:  %s%n", round, summary(pushOn.get(round)));
                    System.out.printf("round %d: manifest PUT, events off: %s%n", round, summary(putOff.get(round)));
                    System.out.printf("round %d: manifest PUT, events on:  %s%n", round, summary(putOn.get(round)));
                    System.out.printf(
                            "round %d: cost of events: small push %+.1f %%, manifest PUT %+.1f %% " + "(medians)%n",
                            round,
                            100.0
                                    * (median(pushOn.get(round)) - median(pushOff.get(round)))
                                    / median(pushOff.get(round)),
                            100.0 * (median(putOn.get(round)) - median(putOff.get(round))) / median(putOff.get(round)));
                }

                // relay throughput: a backlog built while Kafka is down, drained when it is back
                broker.stop();
                int manifests = BACKLOG / 2; // each PUT by a new tag: manifest.pushed + tag.created
                for (int i = 0; i < manifests; i++) {
                    pOn.putOnly("b" + i);
                }
                long restarted = System.nanoTime();
                broker.restart();
                arrivals.waitFor("io.berth.tag.created bench/app:b" + (manifests - 1), Duration.ofMinutes(5));
                long first = Long.MAX_VALUE;
                long last = 0;
                for (int i = 0; i < manifests; i++) {
                    for (String type : List.of("io.berth.manifest.pushed", "io.berth.tag.created")) {
                        long t = arrivals.waitFor(type + " bench/app:b" + i, Duration.ofSeconds(10));
                        first = Math.min(first, t);
                        last = Math.max(last, t);
                    }
                }
                System.out.printf(
                        "relay: %d waiting events drained in %.2f s from the first to the last arrival "
                                + "(%.0f events/s); %.2f s from broker restart to the last%n",
                        manifests * 2,
                        (last - first) / 1e9,
                        manifests * 2 / ((last - first) / 1e9),
                        (last - restarted) / 1e9);
            }
        }
    }
}
