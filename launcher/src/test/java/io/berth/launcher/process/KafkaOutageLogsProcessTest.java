package io.berth.launcher.process;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpServer;
import io.berth.core.model.Digest;
import io.berth.testsupport.FreePorts;
import io.berth.testsupport.JavaProcess;
import io.berth.testsupport.KafkaBroker;
import io.berth.testsupport.oci.TestImage;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * What {@code berth serve}, {@code berth webhooks} and {@code berth replicate} log while Kafka is away
 * for 20 s: one WARN when it goes, one INFO when it is back — none of the Kafka clients' own warnings,
 * which come about twice a second for as long as the outage lasts.
 */
@Tag("process")
class KafkaOutageLogsProcessTest extends ReplicationFixture {
    static final Duration OUTAGE = Duration.ofSeconds(20);

    @Test
    void anOutageIsOneWarnAndOneInfoInEachProcess() throws Exception {
        KafkaBroker broker = KafkaBroker.dedicatedBehindLink();
        started.add(broker);
        Set<String> delivered = ConcurrentHashMap.newKeySet();
        HttpServer receiver = HttpServer.create(new InetSocketAddress("127.0.0.1", FreePorts.next()), 16);
        receiver.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
        receiver.createContext("/hook", x -> {
            x.getRequestBody().readAllBytes();
            delivered.add(x.getRequestHeaders().getFirst("X-Berth-Event-Id"));
            x.sendResponseHeaders(200, -1);
            x.close();
        });
        receiver.start();
        started.add(() -> receiver.stop(0));
        BerthProcess a = site("a", EventsProcessTest.events(broker.bootstrapServers(), topic));
        BerthProcess b = site("b", Map.of());
        String kafka = "  kafka: { bootstrap-servers: \"" + broker.bootstrapServers() + "\", topic: \"" + topic
                + "\", group: \"g-" + topic + "\" }\n";
        JavaProcess replicator = replicator(kafka, a.base(), targetYaml("site-b", b.base(), ""), List.of(), "1h");
        Path hooks = Files.writeString(
                dir.resolve("webhooks.yaml"),
                "webhooks:\n" + kafka + "  http-port: 0\n"
                        + "  endpoints:\n    - name: r\n      url: http://127.0.0.1:"
                        + receiver.getAddress().getPort()
                        + "/hook\n");
        JavaProcess relay = JavaProcess.start(
                "io.berth.launcher.Main",
                List.of(),
                List.of("webhooks", "--config", hooks.toString()),
                Map.of(),
                dir,
                dir.resolve("webhooks.log"));
        started.add(relay);
        await("the relay to start", () -> relay.output().contains("webhooks serving"), Duration.ofSeconds(60));

        Digest first = a.oci().pushImage("logs/app", "1", TestImage.of("first")).manifest();
        await(
                "everything connected and working",
                () -> delivered.size() >= 2 && digest(b.base(), "logs/app", "1").equals(Optional.of(first.toString())),
                Duration.ofSeconds(60));
        Map<String, JavaProcess> processes = new LinkedHashMap<>();
        processes.put("serve", a.process);
        processes.put("webhooks", relay);
        processes.put("replicate", replicator);
        Map<String, Integer> before = new LinkedHashMap<>();
        processes.forEach((name, p) -> before.put(name, (int) p.output().lines().count()));

        broker.link().cut();
        long cut = System.nanoTime();
        Digest during =
                a.oci().pushImage("logs/app", "2", TestImage.of("during")).manifest(); // waits in the outbox
        Thread.sleep(OUTAGE.toMillis());
        broker.link().restore();
        await(
                "the event of the push during the outage delivered and replicated",
                () -> delivered.size() >= 4 && digest(b.base(), "logs/app", "2").equals(Optional.of(during.toString())),
                Duration.ofSeconds(90));
        Thread.sleep(4000); // "back" is said once the clients have been connected and quiet for a few seconds
        System.out.printf("Kafka away for %.1f s; log lines during and after it:%n", (System.nanoTime() - cut) / 1e9);

        for (var e : processes.entrySet()) {
            List<String> lines =
                    e.getValue().output().lines().skip(before.get(e.getKey())).toList();
            long kafkaClientLines =
                    lines.stream().filter(l -> l.contains(" org.apache.kafka")).count();
            long warns = lines.stream().filter(l -> l.contains(" WARN ")).count();
            System.out.printf(
                    "  %-9s %3d lines, %d WARN, %d of the Kafka clients%n",
                    e.getKey(), lines.size(), warns, kafkaClientLines);
            lines.stream()
                    .filter(l -> l.contains(" WARN ") || l.contains(" ERROR "))
                    .forEach(l -> System.out.println("    " + l));
            String all = String.join("\n", lines);
            assertEquals(0, kafkaClientLines, e.getKey() + ": the clients' own warnings are held back:\n" + all);
            assertEquals(
                    1,
                    lines.stream()
                            .filter(l -> l.contains(" WARN berth.kafka: Kafka is unreachable"))
                            .count(),
                    e.getKey() + ": one WARN when it went away:\n" + all);
            assertEquals(
                    1,
                    lines.stream()
                            .filter(l -> l.contains(" INFO berth.kafka: Kafka is reachable again"))
                            .count(),
                    e.getKey() + ": one INFO when it was back:\n" + all);
            assertTrue(lines.stream().noneMatch(l -> l.contains(" ERROR ")), e.getKey() + ": no errors:\n" + all);
        }
    }
}
