package io.berth.relay;

import static io.berth.relay.Outbox.await;
import static io.berth.relay.Outbox.rows;
import static io.berth.relay.Outbox.write;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.berth.core.metadata.sqlite.SqliteMetadataStore;
import io.berth.testsupport.KafkaBroker;
import io.berth.testsupport.MutableClock;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The relay deletes published rows once they are older than {@code events.retention} (counted from
 * their publication), and never a row that was not published, however old: the clock of the store
 * and the relay is moved by hand, the broker's link is cut to keep rows unpublished.
 */
@Tag("services")
class OutboxRelayPruningTest {
    private static final Duration RETENTION = Duration.ofHours(24);

    @TempDir
    Path dir;

    @Test
    void publishedRowsArePrunedAfterTheRetentionAndUnpublishedOnesNever() throws Exception {
        // rows are created by this clock, and the broker refuses records stamped more than an hour after its
        // own time: the clock starts in the past and is ahead of the broker only once nothing is published
        MutableClock clock = new MutableClock(Instant.now().minus(Duration.ofHours(2)));
        Outbox.CountingClock relayClock = new Outbox.CountingClock(clock);
        Path db = dir.resolve("berth.db");
        try (KafkaBroker kafka = KafkaBroker.dedicatedBehindLink();
                SqliteMetadataStore metadata = new SqliteMetadataStore(db, clock)) {
            String topic = "pruning-" + System.nanoTime();
            try (OutboxRelay relay = new OutboxRelay(
                            metadata,
                            new OutboxRelay.Settings(kafka.bootstrapServers(), topic, Outbox.IMPATIENT, RETENTION),
                            new SimpleMeterRegistry(),
                            relayClock)
                    .start()) {
                List<String> sentFirst = write(metadata, "team-a/app", 3, clock.millis());
                relay.wake();
                await(
                        "the first events published",
                        Duration.ofSeconds(60),
                        () -> metadata.outbox().stats().pending() == 0);
                clock.advance(Duration.ofHours(2));
                List<String> sentLater = write(metadata, "team-a/app", 3, clock.millis());
                relay.wake();
                await(
                        "the later events published",
                        Duration.ofSeconds(30),
                        () -> metadata.outbox().stats().pending() == 0);

                kafka.link().cut();
                List<String> unsent = new ArrayList<>(write(
                        metadata,
                        "team-b/db",
                        2,
                        clock.instant().minus(Duration.ofDays(30)).toEpochMilli())); // a month old when written
                unsent.addAll(write(metadata, "team-a/app", 2, clock.millis()));
                relay.wake();

                // 25 h after the first publication, 23 h after the later one
                clock.advance(Duration.ofHours(23));
                awaitRoundAfter(relayClock);
                assertTrue(none(db, sentFirst), "published 25 h ago, pruned");
                Map<String, Long> rows = rows(db);
                sentLater.forEach(id -> assertNotNull(rows.get(id), id + ": published 23 h ago, kept"));
                unsent.forEach(
                        id -> assertTrue(rows.containsKey(id) && rows.get(id) == null, id + ": waiting, kept " + rows));

                // two months on: every published row is past the retention, the waiting ones are still there
                clock.advance(Duration.ofDays(60));
                awaitRoundAfter(relayClock);
                assertTrue(none(db, sentLater), "published 60 days ago, pruned");
                Map<String, Long> after = rows(db);
                assertEquals(unsent, List.copyOf(after.keySet()), "only the waiting events are left");
                after.values().forEach(sentAt -> assertNull(sentAt));

                kafka.link().restore();
                await(
                        "the waiting events published once Kafka is back",
                        Duration.ofSeconds(90),
                        () -> metadata.outbox().stats().pending() == 0);
                assertEquals(unsent, List.copyOf(rows(db).keySet()), "kept for the retention after their publication");
                clock.advance(RETENTION.plusMinutes(11));
                await("pruned a retention after their publication", Duration.ofSeconds(60), () -> rows(db).isEmpty());
            }
        }
    }

    /**
     * Waits until the relay went through a whole round of its work (pruning comes first) after the
     * clock moved: it reads its clock when a round starts, and once more the first time a publication
     * fails; three readings hold two starts.
     */
    private static void awaitRoundAfter(Outbox.CountingClock relayClock) throws InterruptedException {
        long readings = relayClock.readings();
        await("the relay comes round", Duration.ofSeconds(60), () -> relayClock.readings() >= readings + 3);
    }

    private static boolean none(Path db, List<String> ids) {
        Map<String, Long> rows = rows(db);
        return ids.stream().noneMatch(rows::containsKey);
    }
}
