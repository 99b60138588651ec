package io.berth.launcher.process;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.berth.eventstream.EventStream;
import io.berth.testsupport.HostileRegistry;
import io.berth.testsupport.JavaProcess;
import io.berth.testsupport.KafkaBroker;
import io.berth.testsupport.oci.TestImage;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Issue 30, point 1, with real processes: a {@code berth serve} source, a {@code berth serve}
 * target, {@code berth replicate} with {@code deletes: true} reconciling every 2 s (no Kafka). 11
 * tags are replicated honestly; then the source fails or lies in one of the ways reproduced in the
 * issue, and after two reconciliations the target still holds all 11. A {@link HostileRegistry}
 * stands at the source's address in front of the real source (or of nothing, or of another one).
 */
@Tag("process")
class HostileSourceProcessTest extends ReplicationFixture {
    static final List<String> REPOSITORIES = List.of("team-a/app", "team-a/other");
    BerthProcess a;
    BerthProcess b;
    HostileRegistry proxy;
    JavaProcess replicator;
    Map<String, String> replicated;

    /** Source A with 6 + 5 tags, target B, the replicator reading A through {@code proxy} (or directly). */
    void replicateHonestly(boolean direct) throws Exception {
        a = site("a", Map.of());
        for (int i = 1; i <= 6; i++) {
            a.oci().pushImage("team-a/app", "v" + i, TestImage.of("app " + i));
        }
        for (int i = 1; i <= 5; i++) {
            a.oci().pushImage("team-a/other", "v" + i, TestImage.of("other " + i));
        }
        b = site("b", Map.of());
        proxy = new HostileRegistry(URI.create(a.base() + "/"));
        started.add(proxy);
        String source = direct ? a.base() : proxy.uri().toString().replaceAll("/$", "");
        replicator = replicator("", source, targetYaml("site-b", b.base(), "deletes: true\n"), List.of(), "2s");
        await("11 tags on B", () -> onB().size() == 11, Duration.ofSeconds(60));
        replicated = onB();
    }

    Map<String, String> onB() {
        Map<String, String> out = new LinkedHashMap<>();
        for (String repo : REPOSITORIES) {
            for (int i = 1; i <= 6; i++) {
                String tag = repo + ":v" + i;
                digest(b.base(), repo, "v" + i).ifPresent(d -> out.put(tag, d));
            }
        }
        return out;
    }

    JsonNode target() {
        try {
            return status(replicator).get("targets").get(0);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * Waits for two reconciliations that started after {@code since}; prints how long the first took
     * to say what is wrong, and the replicator's heap; returns the target's status then.
     */
    JsonNode twoPassesAfter(String what, Instant since) throws Exception {
        Set<String> passes = new HashSet<>();
        Instant[] first = new Instant[1];
        await(
                "two reconciliations",
                () -> {
                    JsonNode r = target().path("lastReconciliation");
                    if (r.has("at") && Instant.parse(r.get("at").asText()).isAfter(since)) {
                        if (passes.add(r.get("at").asText()) && first[0] == null) {
                            first[0] = Instant.now();
                        }
                    }
                    return passes.size() >= 2;
                },
                Duration.ofSeconds(60));
        JsonNode t = target();
        System.out.printf(
                "[hostile source, processes] %s: first reconciliation reported %d ms after the change; "
                        + "state %s, held %s, errors %s; replicator heap %d MiB%n",
                what,
                Duration.between(since, first[0]).toMillis(),
                t.path("state").asText(),
                t.path("held").asText("-"),
                t.path("lastReconciliation").path("errors"),
                heapMiB());
        return t;
    }

    long heapMiB() throws Exception {
        String metrics = ReplicationProcessTest.get(statusPorts.get(replicator), "/metrics");
        return (long) metrics.lines()
                        .filter(l -> l.startsWith("jvm_memory_used_bytes{area=\"heap\""))
                        .mapToDouble(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1)))
                        .sum()
                >> 20;
    }

    @Test
    void aSourceWhoseEveryPathAnswers404DeletesNothing() throws Exception {
        replicateHonestly(false);
        Instant switched = Instant.now();
        proxy.behind(null); // a proxy's default backend: 404 for every path
        JsonNode t = twoPassesAfter("every path 404", switched);
        assertEquals(replicated, onB(), "every tag is still on B");
        assertFalse(t.path("lastReconciliation").path("errors").isEmpty(), t.toString());
        assertEquals(0, t.path("lastReconciliation").path("deleted").asInt(), t.toString());
        assertTrue(replicator.process().isAlive());
    }

    @Test
    void aFreshEmptyBerthAtTheSourcesAddressDeletesNothingAndHoldsForAnOperator() throws Exception {
        replicateHonestly(true);
        int port = a.httpPort;
        a.close(); // the data volume was not mounted: the same address, an empty registry
        Instant switched = Instant.now();
        site("a-empty", port, Map.of());
        JsonNode t = twoPassesAfter("a fresh empty berth serve at the source's address", switched);
        assertEquals(replicated, onB(), "every tag is still on B");
        assertEquals("held", t.path("state").asText(), t.toString());
        assertTrue(t.path("held").asText().startsWith("would delete 11 tags"), t.toString());
        assertTrue(ReplicationProcessTest.get(statusPorts.get(replicator), "/healthz")
                .contains("degraded"));
        assertTrue(replicator.output().contains("deletes held: would delete 11 tags"), replicator.output());
    }

    @Test
    void catalogAndTagListsAnswering404WhileManifestsAnswerDeleteNothing() throws Exception {
        replicateHonestly(false);
        Instant switched = Instant.now();
        proxy.rule(x -> {
            String p = x.getRequestURI().getPath();
            if (p.equals("/v2/_catalog") || p.endsWith("/tags/list")) {
                HostileRegistry.answer(
                        x,
                        404,
                        "application/json",
                        "{\"errors\":[{\"code\":\"NAME_UNKNOWN\"}]}".getBytes(StandardCharsets.UTF_8));
                return true;
            }
            return false;
        });
        JsonNode t = twoPassesAfter("catalog and tag lists 404, manifests answer", switched);
        assertEquals(replicated, onB(), "every tag is still on B");
        assertFalse(t.path("lastReconciliation").path("errors").isEmpty(), t.toString());
    }

    @Test
    void onlyHeadAnswering404DeletesNoTag() throws Exception {
        replicateHonestly(false);
        Instant switched = Instant.now();
        proxy.rule(x -> {
            if (x.getRequestMethod().equals("HEAD")) {
                HostileRegistry.answer(x, 404, null, new byte[0]);
                return true;
            }
            return false;
        });
        JsonNode t = twoPassesAfter("only HEAD 404", switched);
        assertEquals(replicated, onB(), "every tag is still on B");
        assertFalse(t.path("lastReconciliation").path("errors").isEmpty(), t.toString());
    }

    @Test
    void aSourceRestoredFromAnOldBackupKeepsTheTargetWholeUntilAnOperatorApproves() throws Exception {
        replicateHonestly(false);
        BerthProcess backup = site("backup", Map.of());
        for (int i = 1; i <= 3; i++) {
            backup.oci().pushImage("team-a/app", "v" + i, TestImage.of("app " + i));
            backup.oci().pushImage("team-a/other", "v" + i, TestImage.of("other " + i));
        }
        Instant switched = Instant.now();
        proxy.behind(URI.create(backup.base() + "/")); // the source, restored from a backup of 6 of 11 tags
        JsonNode t = twoPassesAfter("a source restored from an old backup (6 of 11 tags)", switched);
        assertEquals(replicated, onB(), "every tag is still on B");
        assertEquals("held", t.path("state").asText(), t.toString());
        assertTrue(t.path("held").asText().startsWith("would delete 5 of the target's 11 tags"), t.toString());

        // the operator says so: one pass may delete beyond the budget, each delete on the source's evidence
        replicator.close();
        replicator = replicator(
                kafkaYaml(),
                proxy.uri().toString().replaceAll("/$", ""),
                targetYaml("site-b", b.base(), "deletes: true\n"),
                List.of(),
                "2s",
                List.of("--approve-deletes", "site-b"));
        await("the 5 tags the source no longer has deleted from B", () -> onB().size() == 6, Duration.ofSeconds(60));
        for (int i = 1; i <= 3; i++) {
            assertEquals(
                    Optional.ofNullable(replicated.get("team-a/app:v" + i)),
                    Optional.ofNullable(onB().get("team-a/app:v" + i)));
        }
        String log = replicator.output();
        for (String gone :
                List.of("team-a/app:v4", "team-a/app:v5", "team-a/app:v6", "team-a/other:v4", "team-a/other:v5")) {
            assertTrue(log.contains("deleted " + gone + " ("), "each delete logged: " + gone + "\n" + log);
        }
        // and each is a record on <group>.deletes
        List<String> records = new ArrayList<>();
        try (var consumer =
                EventStream.consumer(KafkaBroker.shared().bootstrapServers(), "audit-" + topic, "audit", 100)) {
            consumer.subscribe(List.of("g-" + topic + ".deletes"));
            await(
                    "5 delete records",
                    () -> {
                        consumer.poll(Duration.ofMillis(500))
                                .forEach(r ->
                                        records.add(r.key() + " " + new String(r.value(), StandardCharsets.UTF_8)));
                        return records.size() >= 5;
                    },
                    Duration.ofSeconds(60));
        }
        assertTrue(
                records.stream()
                        .allMatch(r -> r.startsWith("site-b {")
                                && r.contains("\"type\":\"io.berth" + ".replication.deleted\"")),
                records.toString());
        assertTrue(records.stream().anyMatch(r -> r.contains("\"deleted\":\"team-a/other:v5\"")), records.toString());
    }
}
