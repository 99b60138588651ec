package io.berth.launcher.process;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.berth.testsupport.JavaProcess;
import io.berth.testsupport.oci.TestImage;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Events without Kafka: a real {@code berth serve} with no broker configured records pushes as
 * events, and {@code berth admin events watch --json} and {@code events list} (with a read-only
 * token) show them, in order, with the CloudEvent Kafka would have got.
 */
@Tag("process")
class AdminEventsProcessTest {
    static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    @Test
    void pushesWithoutKafkaAreSeenByEventsWatchAndList() throws Exception {
        try (BerthProcess berth =
                BerthProcess.start(dir.resolve("berth"), List.of(), Map.of("BERTH_ADMIN_TOKENS", "s3cret,ro:viewer"))) {
            assertTrue(berth.output().contains("; events recorded (no kafka);"), berth.output());
            Map<String, String> viewer = Map.of("BERTH_ADMIN_TOKEN", "viewer");
            String server = "127.0.0.1:" + berth.adminPort;
            try (JavaProcess watch = JavaProcess.start(
                    BerthProcess.adminClassPath(),
                    "io.berth.launcher.Main",
                    List.of("--enable-native-access=ALL-UNNAMED"),
                    List.of("admin", "events", "watch", "--server", server, "--after", "0", "--json"),
                    viewer,
                    dir,
                    dir.resolve("watch.log"))) {
                berth.oci().pushImage("app/web", "v1", TestImage.of("one"));
                berth.oci().pushImage("app/api", "v1", TestImage.of("two"));
                berth.oci().pushImage("app/web", "v2", TestImage.of("three"));

                List<JsonNode> watched = awaitLines(watch, 6);
                assertEquals(List.of(1L, 2L, 3L, 4L, 5L, 6L), field(watched, "sequence"));
                assertEquals(
                        List.of(
                                "io.berth.manifest.pushed",
                                "io.berth.tag.created",
                                "io.berth.manifest.pushed",
                                "io.berth.tag.created",
                                "io.berth.manifest.pushed",
                                "io.berth.tag.created"),
                        watched.stream().map(e -> e.get("type").asText()).toList());
                JsonNode last = watched.get(5);
                assertEquals("app/web", last.get("repository").asText());
                assertEquals(4, last.get("repositorySequence").asLong(), "app/web's fourth event");
                assertEquals("app/web:v2", last.get("subject").asText());
                JsonNode cloudEvent = JSON.readTree(last.get("payload").asText());
                assertEquals(last.get("id").asText(), cloudEvent.get("id").asText());
                assertEquals("4", cloudEvent.get("sequence").asText());
                assertEquals("push", cloudEvent.get("data").get("action").asText());
                assertTrue(watch.process().isAlive(), "a watch follows until interrupted");
            }

            BerthProcess.Result list = BerthProcess.run(
                    dir,
                    viewer,
                    "admin",
                    "events",
                    "list",
                    "--server",
                    server,
                    "--repositories",
                    "app/web",
                    "--type",
                    "tag.created",
                    "--json");
            assertEquals(0, list.exitCode(), list.output());
            JsonNode page = JSON.readTree(list.output().substring(list.output().indexOf('{')));
            assertEquals(List.of(2L, 6L), field(iterable(page.get("events")), "sequence"));
            assertEquals(6, page.get("lastSequence").asLong());

            BerthProcess.Result table =
                    BerthProcess.run(dir, viewer, "admin", "events", "list", "--server", server, "--after", "4");
            assertEquals(0, table.exitCode(), table.output());
            assertTrue(table.output().contains("SEQUENCE"), table.output());
            assertTrue(
                    table.output()
                            .lines()
                            .anyMatch(l -> l.startsWith("6 ") && l.contains("tag.created") && l.contains("app/web:v2")),
                    table.output());

            BerthProcess.Result beyond =
                    BerthProcess.run(dir, viewer, "admin", "events", "list", "--server", server, "--after", "7");
            assertEquals(1, beyond.exitCode(), beyond.output());
            assertTrue(beyond.output().contains("INVALID_ARGUMENT"), beyond.output());
        }
    }

    static List<JsonNode> awaitLines(JavaProcess p, int n) throws Exception {
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (true) {
            List<JsonNode> lines = new ArrayList<>();
            for (String l : p.output().lines().toList()) {
                if (l.startsWith("{")) {
                    lines.add(JSON.readTree(l));
                }
            }
            if (lines.size() >= n) {
                return lines;
            }
            assertTrue(System.nanoTime() < until, "watch printed:\n" + p.output());
            Thread.sleep(50);
        }
    }

    static List<JsonNode> iterable(JsonNode array) {
        List<JsonNode> out = new ArrayList<>();
        array.forEach(out::add);
        return out;
    }

    static List<Long> field(List<JsonNode> nodes, String name) {
        return nodes.stream().map(n -> n.get(name).asLong()).toList();
    }
}
