package io.berth.relay;

import static io.berth.relay.Outbox.await;
import static io.berth.relay.Outbox.published;
import static io.berth.relay.Outbox.write;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.berth.core.metadata.sqlite.SqliteMetadataStore;
import io.berth.testsupport.KafkaBroker;
import io.berth.testsupport.MutableClock;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Instances sharing one database (here two metadata stores on one SQLite file, as two processes
 * would open it) publish through one relay at a time: the holder of the {@code event-relay} lease.
 * The lease's time is the stores' and relays' clock, which the tests move by hand: a lease expires
 * only when the test says so.
 */
@Tag("services")
class OutboxRelayLeaseTest {
    private static final Duration LEASE = Duration.ofSeconds(15); // as the relay takes it

    @TempDir
    Path dir;

    private final KafkaBroker kafka = KafkaBroker.shared();
    private final String topic = "lease-" + System.nanoTime();

    private OutboxRelay.Settings settings() {
        return new OutboxRelay.Settings(kafka.bootstrapServers(), topic, Outbox.IMPATIENT, Duration.ofDays(1));
    }

    @Test
    void aLeaseLeftByAnInstanceThatDiedHoldsPublishingBackUntilItExpires() throws Exception {
        MutableClock clock = new MutableClock(Instant.now());
        try (SqliteMetadataStore metadata = new SqliteMetadataStore(dir.resolve("berth.db"), clock)) {
            // the row a killed instance leaves: its lease runs on, nobody renews it
            boolean taken = metadata.<Boolean>inTransaction(tx -> tx.leases()
                    .acquire(OutboxRelay.LEASE, "relay-of-a-killed-instance", clock.millis() + LEASE.toMillis()));
            assertTrue(taken);
            SimpleMeterRegistry meters = new SimpleMeterRegistry();
            try (OutboxRelay relay = new OutboxRelay(metadata, settings(), meters, clock).start()) {
                List<String> ids = new ArrayList<>(write(metadata, "team-a/app", 5, clock.millis()));
                // the relay has read the outbox (it does so before it asks for the lease) ...
                await(
                        "the relay sees 5 events waiting",
                        Duration.ofSeconds(30),
                        () -> relay.stats().pending() == 5);
                ids.addAll(write(metadata, "team-a/app", 1, clock.millis()));
                // ... and come round again: the round that saw 5 published none of them
                await(
                        "the relay sees 6 events waiting",
                        Duration.ofSeconds(30),
                        () -> relay.stats().pending() == 6);
                assertEquals(
                        6, metadata.outbox().stats().pending(), "nothing marked sent while another holds the lease");
                assertEquals(0, published(meters), "nothing published while another holds the lease");

                clock.advance(LEASE.plusSeconds(1));
                await(
                        "the events published once the dead instance's lease expired",
                        Duration.ofSeconds(30),
                        () -> metadata.outbox().stats().pending() == 0);
                assertEquals(6, published(meters));
                Outbox.assertPublishedOnceInOrder(kafka.bootstrapServers(), topic, ids);
            }
        }
    }

    @Test
    void theHolderRenewsItsLeaseAndTheOtherInstancePublishesNothing() throws Exception {
        MutableClock clock = new MutableClock(Instant.now());
        Outbox.CountingClock clockOfA = new Outbox.CountingClock(clock);
        Outbox.CountingClock clockOfB = new Outbox.CountingClock(clock);
        Path db = dir.resolve("berth.db");
        try (SqliteMetadataStore storeOfA = new SqliteMetadataStore(db, clock);
                SqliteMetadataStore storeOfB = new SqliteMetadataStore(db, clock)) {
            SimpleMeterRegistry metersOfA = new SimpleMeterRegistry();
            SimpleMeterRegistry metersOfB = new SimpleMeterRegistry();
            List<String> ids = new ArrayList<>();
            OutboxRelay a = new OutboxRelay(storeOfA, settings(), metersOfA, clockOfA).start();
            try (a) {
                ids.addAll(write(storeOfA, "team-a/app", 1, clock.millis()));
                await("A publishes (it holds the lease)", Duration.ofSeconds(30), () -> published(metersOfA) == 1);
                OutboxRelay b = new OutboxRelay(storeOfB, settings(), metersOfB, clockOfB).start();
                try (b) {
                    // steps shorter than the margin the holder renews within: the lease never lapses while A
                    // is alive, yet the clock runs far beyond the lease A first took, with B asking all along
                    long bRoundsAtStart = clockOfB.readings();
                    int steps = 0;
                    while (steps < 8 || clockOfB.readings() < bRoundsAtStart + 3) {
                        clock.advance(Duration.ofSeconds(4));
                        steps++;
                        long readings = clockOfA.readings();
                        // A idles between rounds; two readings later a whole round (renewal included) saw the new time
                        await("A comes round", Duration.ofSeconds(30), () -> clockOfA.readings() >= readings + 2);
                        String repository = steps % 2 == 0 ? "team-a/app" : "team-b/db";
                        ids.addAll(write(storeOfB, repository, 3, clock.millis())); // written through B's store
                        await(
                                "the events are published",
                                Duration.ofSeconds(30),
                                () -> storeOfB.outbox().stats().pending() == 0);
                    }
                    System.out.printf(
                            "lease renewed over %d s of the clock, B asked %d times%n",
                            steps * 4, clockOfB.readings() - bRoundsAtStart);
                    assertEquals(0, published(metersOfB), "B published while A held the lease");
                    assertEquals(ids.size(), published(metersOfA));
                }
            }
            Outbox.assertPublishedOnceInOrder(kafka.bootstrapServers(), topic, ids);
        }
    }

    @Test
    void aHolderThatStopsHandsTheLeaseOnAtOnceAndEveryEventGoesOutOnce() throws Exception {
        // the clock stands still: the lease can only pass because A gave it up
        MutableClock clock = new MutableClock(Instant.now());
        Path db = dir.resolve("berth.db");
        try (SqliteMetadataStore storeOfA = new SqliteMetadataStore(db, clock);
                SqliteMetadataStore storeOfB = new SqliteMetadataStore(db, clock)) {
            SimpleMeterRegistry metersOfA = new SimpleMeterRegistry();
            SimpleMeterRegistry metersOfB = new SimpleMeterRegistry();
            List<String> ids = Collections.synchronizedList(new ArrayList<>());
            OutboxRelay a = new OutboxRelay(storeOfA, settings(), metersOfA, clock).start();
            ids.addAll(write(storeOfA, "team-a/app", 1, clock.millis()));
            await("A publishes (it holds the lease)", Duration.ofSeconds(30), () -> published(metersOfA) == 1);
            try (OutboxRelay b = new OutboxRelay(storeOfB, settings(), metersOfB, clock).start()) {
                // pushes go on through both instances while A stops in the middle of them
                AtomicBoolean writing = new AtomicBoolean(true);
                List<String> repositories = List.of("team-a/app", "team-a/web", "team-b/app");
                Thread writer = Thread.ofPlatform().start(() -> {
                    for (int i = 0; writing.get() || i < 200; i++) {
                        SqliteMetadataStore store = i % 2 == 0 ? storeOfA : storeOfB;
                        ids.addAll(write(store, repositories.get(i % repositories.size()), 1, clock.millis()));
                        a.wake();
                        b.wake();
                        if (i % 5 == 0) {
                            try {
                                Thread.sleep(5);
                            } catch (InterruptedException e) {
                                return;
                            }
                        }
                    }
                });
                await("A publishes some of the stream", Duration.ofSeconds(30), () -> published(metersOfA) >= 50);
                a.stop(Duration.ofSeconds(10));
                long byA = published(metersOfA);
                writing.set(false);
                writer.join();
                await(
                        "B publishes everything A left",
                        Duration.ofSeconds(60),
                        () -> storeOfB.outbox().stats().pending() == 0);
                System.out.printf("A published %d events before it stopped, B %d after%n", byA, published(metersOfB));
                assertEquals(byA, published(metersOfA), "A published after it stopped");
                assertTrue(published(metersOfB) > 0, "B took over");
                assertEquals(
                        ids.size(),
                        published(metersOfA) + published(metersOfB),
                        "every event acknowledged once, by one of the two");
            }
            Outbox.assertPublishedOnceInOrder(kafka.bootstrapServers(), topic, List.copyOf(ids));
        }
    }
}
