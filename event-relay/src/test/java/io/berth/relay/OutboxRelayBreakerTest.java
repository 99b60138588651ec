package io.berth.relay;

import static io.berth.relay.Outbox.await;
import static io.berth.relay.Outbox.write;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.berth.core.metadata.sqlite.SqliteMetadataStore;
import io.berth.testsupport.KafkaBroker;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The link to the broker cut under a running relay: its circuit opens and its health says so,
 * changes go on committing their events, which wait in the outbox; the link back, they go out in
 * order, each once.
 */
@Tag("services")
class OutboxRelayBreakerTest {
    private static final List<String> REPOSITORIES = List.of("team-a/app", "team-a/web", "team-b/db");

    @TempDir
    Path dir;

    @Test
    void aCutLinkOpensTheCircuitWhileEventsWaitAndTheyGoOutInOrderOnceWhenItIsBack() throws Exception {
        long began = System.nanoTime();
        try (KafkaBroker kafka = KafkaBroker.dedicatedBehindLink();
                SqliteMetadataStore metadata = new SqliteMetadataStore(dir.resolve("berth.db"))) {
            String topic = "breaker-" + System.nanoTime();
            SimpleMeterRegistry meters = new SimpleMeterRegistry();
            try (OutboxRelay relay = new OutboxRelay(
                            metadata,
                            new OutboxRelay.Settings(
                                    kafka.bootstrapServers(), topic, Outbox.IMPATIENT, Duration.ofDays(1)),
                            meters,
                            Clock.systemUTC())
                    .start()) {
                List<String> ids = new ArrayList<>();
                for (String repository : REPOSITORIES) {
                    ids.addAll(write(metadata, repository, 2, System.currentTimeMillis()));
                }
                relay.wake();
                await(
                        "the first events published",
                        Duration.ofSeconds(60),
                        () -> metadata.outbox().stats().pending() == 0);
                // (the first send may fail while the broker creates the topic)
                await(
                        "healthy while publishing works",
                        Duration.ofSeconds(30),
                        () -> relay.problem().isEmpty());
                long connected = System.nanoTime();

                kafka.link().cut();
                // pushes go on: every change commits with its events while Kafka is away
                for (int i = 0; i < 30; i++) {
                    ids.addAll(
                            write(metadata, REPOSITORIES.get(i % REPOSITORIES.size()), 1, System.currentTimeMillis()));
                    relay.wake();
                }
                await(
                        "the circuit opens, and the relay's health says so",
                        Duration.ofSeconds(60),
                        () -> relay.problem()
                                .filter(p -> p.contains("circuit open"))
                                .isPresent());
                long opened = System.nanoTime();
                for (int i = 0; i < 30; i++) {
                    ids.addAll(
                            write(metadata, REPOSITORIES.get(i % REPOSITORIES.size()), 1, System.currentTimeMillis()));
                    relay.wake();
                }
                AtomicReference<String> problem = new AtomicReference<>();
                // the circuit tries again now and then (half open): wait for a moment it is open and counted all
                await("the health names the open circuit and 60 events waiting", Duration.ofSeconds(30), () -> {
                    problem.set(relay.problem().orElse(""));
                    return problem.get().contains("(circuit open, 60 events waiting")
                            && breakerState(meters, "open") == 1.0
                            && notPermitted(meters) > 0; // attempts held back while it is open
                });
                System.out.println("health while the link is cut: " + problem.get());
                assertTrue(problem.get().startsWith("kafka unreachable since "), problem.get());
                assertEquals(60, metadata.outbox().stats().pending(), "every event written while Kafka is away waits");
                assertEquals(
                        60.0, meters.get("berth.events.outbox.depth").gauge().value());
                assertTrue(
                        meters.get("berth.events.publish.failures").counter().count() > 0, "failed attempts counted");

                kafka.link().restore();
                long restored = System.nanoTime();
                await(
                        "every waiting event published once the link is back",
                        Duration.ofSeconds(90),
                        () -> metadata.outbox().stats().pending() == 0);
                long drained = System.nanoTime();
                await(
                        "healthy again",
                        Duration.ofSeconds(30),
                        () -> relay.problem().isEmpty());
                assertEquals(1.0, breakerState(meters, "closed"));
                int records = Outbox.assertPublishedOnceInOrder(kafka.bootstrapServers(), topic, ids);
                System.out.printf(
                        "breaker: %d records; circuit open %.1f s after the cut, outbox drained %.1f s after"
                                + " the link came back; %.1f s in all%n",
                        records,
                        (opened - connected) / 1e9,
                        (drained - restored) / 1e9,
                        (System.nanoTime() - began) / 1e9);
            }
        }
    }

    /** Attempts the open circuit refused. */
    private static double notPermitted(MeterRegistry meters) {
        return meters.get("resilience4j.circuitbreaker.not.permitted.calls")
                .tag("name", "kafka-events")
                .meter()
                .measure()
                .iterator()
                .next()
                .getValue();
    }

    private static double breakerState(MeterRegistry meters, String state) {
        return meters.get("resilience4j.circuitbreaker.state")
                .tag("name", "kafka-events")
                .tag("state", state)
                .gauge()
                .value();
    }
}
