package io.berth.relay;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.berth.core.metadata.OutboxEvent;
import io.berth.core.metadata.sqlite.SqliteMetadataStore;
import io.berth.testsupport.KafkaBroker;
import io.berth.testsupport.TopicReader;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Nothing is sent after an event of the same repository that was not acknowledged: however the
 * broker goes away and comes back — between acknowledgements, while sends wait for metadata, in the
 * middle of a batch — the first copy of each of a repository's events on the topic comes in the
 * repository's order, and every event arrives.
 */
@Tag("services")
class OutboxRelayOrderTest {
    static final List<String> REPOSITORIES =
            List.of("team-a/app", "team-a/web", "team-b/app", "team-b/db", "team-c/x", "team-c/y");
    static final Map<String, String> IMPATIENT = Map.of(
            "max.block.ms",
            "1500",
            "request.timeout.ms",
            "1500",
            "delivery.timeout.ms",
            "4000",
            "retry.backoff.ms",
            "50",
            "reconnect.backoff.ms",
            "20",
            "reconnect.backoff.max.ms",
            "200",
            "metadata.max.age.ms",
            "2000");

    @TempDir
    Path dir;

    @Test
    void cutsOfTheLinkAtRandomPointsNeverReorderARepositorysEvents() throws Exception {
        try (KafkaBroker kafka = KafkaBroker.dedicatedBehindLink()) {
            Random random = new Random(0xBE27);
            runWithOutages(
                    kafka,
                    1200,
                    () -> {
                        Thread.sleep(50 + random.nextInt(600));
                        kafka.link().cut();
                        Thread.sleep(50 + random.nextInt(2500));
                        kafka.link().restore();
                    },
                    14);
        }
    }

    @Test
    void restartsOfTheBrokerAtRandomPointsNeverReorderARepositorysEvents() throws Exception {
        try (KafkaBroker kafka = KafkaBroker.dedicated()) {
            Random random = new Random(0xBE28);
            runWithOutages(
                    kafka,
                    300,
                    () -> {
                        Thread.sleep(100 + random.nextInt(1500));
                        kafka.stop();
                        Thread.sleep(random.nextInt(2000));
                        kafka.restart();
                    },
                    2);
        }
    }

    interface Outage {
        void happen() throws Exception;
    }

    /** Writes {@code events} events over the repositories while {@code outages} outages happen, then checks the topic. */
    private void runWithOutages(KafkaBroker kafka, int events, Outage outage, int outages) throws Exception {
        String topic = "order-" + System.nanoTime();
        long began = System.nanoTime();
        SqliteMetadataStore metadata = new SqliteMetadataStore(dir.resolve("berth-" + topic + ".db"));
        OutboxRelay relay = new OutboxRelay(
                        metadata,
                        new OutboxRelay.Settings(kafka.bootstrapServers(), topic, IMPATIENT, Duration.ofDays(1)),
                        new SimpleMeterRegistry(),
                        Clock.systemUTC())
                .start();
        AtomicBoolean writing = new AtomicBoolean(true);
        Thread chaos = Thread.ofPlatform().start(() -> {
            try {
                for (int i = 0; i < outages && writing.get(); i++) {
                    outage.happen();
                }
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        Map<String, Long> written = new LinkedHashMap<>();
        Random random = new Random(7);
        try {
            for (int i = 0; i < events; i++) {
                String repo = REPOSITORIES.get(random.nextInt(REPOSITORIES.size()));
                long repoSeq = written.merge(repo, 1L, Long::sum);
                metadata.inTransaction(tx -> {
                    long seq = tx.nextSequence("outbox");
                    tx.outbox()
                            .insert(new OutboxEvent(
                                    seq,
                                    repo + "#" + repoSeq,
                                    repo,
                                    repoSeq,
                                    "io.berth.test",
                                    "{\"repository\":\"" + repo + "\",\"sequence\":" + repoSeq + "}",
                                    System.currentTimeMillis()));
                    return null;
                });
                relay.wake();
                if (i % 10 == 0) {
                    Thread.sleep(random.nextInt(40));
                }
            }
            chaos.join(Duration.ofMinutes(3));
        } finally {
            writing.set(false);
            chaos.join();
            if (kafka.bootstrapServers() != null) {
                restoreAll(kafka);
            }
        }
        long deadline = System.currentTimeMillis() + 180_000;
        while (metadata.outbox().stats().pending() > 0 && System.currentTimeMillis() < deadline) {
            Thread.sleep(200);
        }
        assertEquals(0, metadata.outbox().stats().pending(), "every event is published once the broker is back");
        long drained = System.nanoTime();
        relay.close();

        Set<String> expected = new HashSet<>();
        written.forEach((repo, n) -> {
            for (long s = 1; s <= n; s++) {
                expected.add(repo + "#" + s);
            }
        });
        List<ConsumerRecord<String, byte[]>> records;
        try (TopicReader reader = new TopicReader(kafka.bootstrapServers(), topic)) {
            records = reader.until(seen -> ids(seen).containsAll(expected), Duration.ofSeconds(60));
        }
        assertTrue(ids(records).containsAll(expected), "every event reached the topic");
        Map<String, List<Long>> firstAppearances = new HashMap<>();
        Set<String> seen = new HashSet<>();
        for (ConsumerRecord<String, byte[]> r : records) {
            String id = new String(r.headers().lastHeader("ce_id").value(), StandardCharsets.UTF_8);
            if (seen.add(id)) {
                firstAppearances
                        .computeIfAbsent(r.key(), k -> new ArrayList<>())
                        .add(Long.parseLong(id.substring(id.indexOf('#') + 1)));
            }
        }
        int duplicates = records.size() - seen.size();
        System.out.printf(
                "order under %d outages: %d records, %d duplicates; outbox drained after %.1f s, topic read in"
                        + " %.1f s%n",
                outages, records.size(), duplicates, (drained - began) / 1e9, (System.nanoTime() - drained) / 1e9);
        written.forEach((repo, n) -> {
            List<Long> order = firstAppearances.get(repo);
            for (int i = 0; i < order.size(); i++) {
                assertEquals(i + 1, order.get(i), repo + ": first appearances " + order);
            }
        });
        metadata.close();
    }

    private static void restoreAll(KafkaBroker kafka) throws Exception {
        kafka.restart();
        try {
            kafka.link().restore();
        } catch (IllegalStateException noLink) {
            // a broker without a link
        }
    }

    private static Set<String> ids(List<ConsumerRecord<String, byte[]>> records) {
        Set<String> ids = new HashSet<>();
        for (ConsumerRecord<String, byte[]> r : records) {
            ids.add(new String(r.headers().lastHeader("ce_id").value(), StandardCharsets.UTF_8));
        }
        return ids;
    }
}
