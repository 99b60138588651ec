package io.berth.eventstream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.SimpleFormatter;
import java.util.logging.StreamHandler;
import org.junit.jupiter.api.Test;

/** The clients' warnings of one outage become one WARN, summaries, one INFO (time and connections made up). */
class KafkaLinkLogTest {
    long now = 1_000_000;
    final List<String> lines = new ArrayList<>();
    final KafkaLinkLog gate =
            new KafkaLinkLog(clock(() -> now), (level, line) -> lines.add(level.getName() + " " + line));

    /** A clock that reads {@code millis}. */
    static Clock clock(LongSupplier millis) {
        return new Clock() {
            @Override
            public ZoneId getZone() {
                return ZoneOffset.UTC;
            }

            @Override
            public Clock withZone(ZoneId zone) {
                return this;
            }

            @Override
            public Instant instant() {
                return Instant.ofEpochMilli(millis.getAsLong());
            }
        };
    }

    static LogRecord record(Level level, String logger, String message) {
        LogRecord r = new LogRecord(level, message);
        r.setLoggerName(logger);
        return r;
    }

    static final String REFUSED = "[Consumer clientId=berth-webhooks-ci, groupId=g.ci] Connection to node 1 "
            + "(/127.0.0.1:9092) could not be established. Node may not be available.";

    @Test
    void anOutageIsOneWarnSummariesAndOneInfo() {
        assertTrue(
                gate.loggable(record(
                        Level.WARNING,
                        "org.apache.kafka.clients.NetworkClient",
                        "Error while fetching metadata with correlation id 7 : {t=LEADER_NOT_AVAILABLE}")),
                "other warnings pass while the broker is there");
        assertTrue(gate.loggable(record(Level.INFO, "berth", "anything of Berth's own")));
        // 20 s of two warnings a second
        for (int i = 0; i < 40; i++) {
            assertFalse(gate.loggable(record(Level.WARNING, "org.apache.kafka.clients.NetworkClient", REFUSED)));
            now += 500;
            gate.tick(false);
        }
        assertFalse(
                gate.loggable(record(
                        Level.SEVERE,
                        "org.apache.kafka.clients.consumer.internals.Coordinator",
                        "Offset commit failed")),
                "any warning of the clients is held back while the broker is away");
        assertTrue(gate.loggable(record(Level.WARNING, "berth", "Berth's own warnings pass")));
        assertEquals(
                List.of("WARNING Kafka is unreachable: berth-webhooks-ci: Connection to node 1 (/127.0.0.1:9092) "
                        + "could not be established. Node may not be available; its clients keep retrying (their warnings "
                        + "are held back: a summary every 60 s, and a line when it is back)"),
                lines);
        // a minute more: one summary
        for (int i = 0; i < 80; i++) {
            gate.loggable(record(Level.WARNING, "org.apache.kafka.clients.NetworkClient", REFUSED));
            now += 500;
            gate.tick(false);
        }
        assertEquals(2, lines.size(), lines.toString());
        assertTrue(lines.get(1).startsWith("INFO Kafka still unreachable, for 60 s now ("), lines.get(1));
        // connected again, but a warning came just now: not yet
        gate.tick(true);
        assertTrue(gate.down());
        now += 3000;
        gate.tick(true);
        assertFalse(gate.down());
        assertEquals(3, lines.size(), lines.toString());
        assertTrue(
                lines.get(2)
                        .startsWith("INFO Kafka is reachable again after 63 s (120 warnings of its clients held "
                                + "back)"),
                lines.get(2));
        assertTrue(
                gate.loggable(record(
                        Level.WARNING,
                        "org.apache.kafka.clients.producer.internals.Sender",
                        "Got error produce response")),
                "back: warnings pass again");
    }

    @Test
    void summariesAndHeldBackWarningsOnTwoThreadsDoNotLockEachOtherOut() throws Exception {
        // the real set-up: the gate filters a handler that publishes under its own lock, and logs into it
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        StreamHandler handler = new StreamHandler(out, new SimpleFormatter());
        AtomicLong clock = new AtomicLong(now);
        KafkaLinkLog real = new KafkaLinkLog(
                clock(clock::get), (level, line) -> handler.publish(record(level, "berth.kafka", line)));
        handler.setFilter(real.filter());
        handler.publish(record(Level.WARNING, "org.apache.kafka.clients.NetworkClient", REFUSED));
        Thread clients = Thread.ofPlatform().start(() -> {
            for (int i = 0; i < 20_000; i++) {
                handler.publish(record(Level.WARNING, "org.apache.kafka.clients.NetworkClient", REFUSED));
            }
        });
        Thread watcher = Thread.ofPlatform().start(() -> {
            for (int i = 0; i < 20_000; i++) {
                clock.addAndGet(61_000); // a summary due at every tick
                real.tick(false);
            }
        });
        clients.join(20_000);
        watcher.join(20_000);
        assertFalse(clients.isAlive() || watcher.isAlive(), "the two threads locked each other out");
        handler.flush();
        assertTrue(out.toString().contains("Kafka still unreachable"));
    }

    @Test
    void infoRecordsOfTheClientsAreNotItsBusiness() {
        assertTrue(gate.loggable(record(Level.INFO, "org.apache.kafka.clients.NetworkClient", "Node 1 disconnected.")));
        assertFalse(gate.down());
        assertEquals(List.of(), lines);
    }
}
