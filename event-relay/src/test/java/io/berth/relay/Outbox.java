package io.berth.relay;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import io.berth.core.metadata.MetadataStore;
import io.berth.core.metadata.OutboxEvent;
import io.berth.testsupport.TopicReader;
import io.micrometer.core.instrument.MeterRegistry;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;
import org.apache.kafka.clients.consumer.ConsumerRecord;

/** What the relay tests share: writing outbox rows as a change would, waiting for conditions, reading back. */
final class Outbox {
    /** Producer settings that give up quickly, so that outages show within seconds (as in the order test). */
    static final Map<String, String> IMPATIENT = OutboxRelayOrderTest.IMPATIENT;

    private Outbox() {}

    /**
     * Writes {@code n} events of {@code repository}, each in a transaction of its own as a push would,
     * created at {@code createdAt}; returns their ids ({@code repository#sequence}) in order.
     */
    static List<String> write(MetadataStore metadata, String repository, int n, long createdAt) {
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            ids.add(metadata.inTransaction(tx -> {
                long seq = tx.nextSequence("outbox");
                long repoSeq = tx.nextSequence("test-repo:" + repository);
                String id = repository + "#" + repoSeq;
                tx.outbox()
                        .insert(new OutboxEvent(
                                seq,
                                id,
                                repository,
                                repoSeq,
                                "io.berth.test",
                                "{\"repository\":\"" + repository + "\",\"sequence\":" + repoSeq + "}",
                                createdAt));
                return id;
            }));
        }
        return ids;
    }

    /** Waits for {@code condition} until {@code max} passed; fails naming {@code what} if it never held. */
    static void await(String what, Duration max, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + max.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                fail("not within " + max.toSeconds() + " s: " + what);
            }
            Thread.sleep(50);
        }
    }

    /** Events this relay's meters count as acknowledged by Kafka. */
    static long published(MeterRegistry meters) {
        return (long) meters.get("berth.events.published").counter().count();
    }

    /** Every outbox row of the SQLite database, id to sent_at (null: not sent), read beside the store. */
    static Map<String, Long> rows(Path database) {
        Map<String, Long> rows = new LinkedHashMap<>();
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + database.toAbsolutePath());
                ResultSet rs = c.createStatement().executeQuery("SELECT id, sent_at FROM event_outbox ORDER BY seq")) {
            while (rs.next()) {
                String id = rs.getString(1);
                long sentAt = rs.getLong(2);
                rows.put(id, rs.wasNull() ? null : sentAt);
            }
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
        return rows;
    }

    /**
     * Reads the topic until every one of {@code expected} is there and a moment longer (for late
     * copies), then checks that each arrived exactly once and that each repository's events came in
     * their order. Returns the number of records read.
     */
    static int assertPublishedOnceInOrder(String bootstrapServers, String topic, List<String> expected) {
        List<ConsumerRecord<String, byte[]>> records;
        try (TopicReader reader = new TopicReader(bootstrapServers, topic)) {
            reader.until(seen -> ids(seen).containsAll(expected), Duration.ofSeconds(60));
            records = reader.settle(Duration.ofSeconds(1));
        }
        List<String> ids = ids(records);
        Set<String> missing = new HashSet<>(expected);
        ids.forEach(missing::remove);
        assertEquals(Set.of(), missing, "events never published");
        Map<String, Integer> copies = new HashMap<>();
        ids.forEach(id -> copies.merge(id, 1, Integer::sum));
        copies.values().removeIf(c -> c == 1);
        assertEquals(Map.of(), copies, "events published more than once");
        assertEquals(new HashSet<>(expected), new HashSet<>(ids), "only the events written");
        Map<String, Long> last = new HashMap<>();
        for (String id : ids) {
            String repository = id.substring(0, id.indexOf('#'));
            long seq = Long.parseLong(id.substring(id.indexOf('#') + 1));
            long before = last.getOrDefault(repository, 0L);
            assertEquals(before + 1, seq, repository + ": events out of order in " + ids);
            last.put(repository, seq);
        }
        return records.size();
    }

    static List<String> ids(List<ConsumerRecord<String, byte[]>> records) {
        List<String> ids = new ArrayList<>();
        for (ConsumerRecord<String, byte[]> r : records) {
            ids.add(new String(r.headers().lastHeader("ce_id").value(), StandardCharsets.UTF_8));
        }
        return ids;
    }

    /** A clock over another that counts its readings: the relay reads it once at the start of each round of work. */
    static final class CountingClock extends Clock {
        private final Clock clock;
        private final AtomicLong readings = new AtomicLong();

        CountingClock(Clock clock) {
            this.clock = clock;
        }

        long readings() {
            return readings.get();
        }

        @Override
        public ZoneId getZone() {
            return clock.getZone();
        }

        @Override
        public Clock withZone(ZoneId zone) {
            return this;
        }

        @Override
        public long millis() {
            readings.incrementAndGet();
            return clock.millis();
        }

        @Override
        public Instant instant() {
            return Instant.ofEpochMilli(millis());
        }
    }
}
