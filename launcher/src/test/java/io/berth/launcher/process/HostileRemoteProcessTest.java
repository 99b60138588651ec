package io.berth.launcher.process;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.sun.net.httpserver.HttpExchange;
import io.berth.core.model.Digest;
import io.berth.core.model.MediaTypes;
import io.berth.events.DistributionEvent;
import io.berth.events.EventCodec;
import io.berth.events.RegistryEvent;
import io.berth.eventstream.EventStream;
import io.berth.testsupport.HostileRegistry;
import io.berth.testsupport.JavaProcess;
import io.berth.testsupport.KafkaBroker;
import io.berth.testsupport.oci.TestImage;
import java.io.IOException;
import java.io.OutputStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Issue 30, points 2 to 5 and 7, with real processes: {@code berth serve} sites, {@code berth
 * replicate} (160 MiB of heap, as in the issue) and a {@link HostileRegistry} playing the remote that
 * lies, floods, trickles or points elsewhere. Each prints how long the replicator took to a clear
 * failure and its heap then.
 */
@Tag("process")
class HostileRemoteProcessTest extends ReplicationFixture {
    static final List<String> HEAP = List.of("-Xmx160m");
    BerthProcess a;
    BerthProcess b;
    HostileRegistry source;
    JavaProcess replicator;

    JsonNode target() {
        try {
            return status(replicator).get("targets").get(0);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    String healthz() throws Exception {
        return ReplicationProcessTest.get(statusPorts.get(replicator), "/healthz");
    }

    long heapMiB() throws Exception {
        String metrics = ReplicationProcessTest.get(statusPorts.get(replicator), "/metrics");
        return (long) metrics.lines()
                        .filter(l -> l.startsWith("jvm_memory_used_bytes{area=\"heap\""))
                        .mapToDouble(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1)))
                        .sum()
                >> 20;
    }

    /**
     * Waits until a reconciliation reports an error containing {@code expected}; prints the time to it
     * and the heap; the replicator must still be alive and not failed.
     */
    String awaitError(String what, String expected) throws Exception {
        long start = System.nanoTime();
        Instant since = Instant.now();
        String[] found = new String[1];
        await(
                what + ": an error saying " + expected,
                () -> {
                    if (!replicator.process().isAlive()) {
                        return true;
                    }
                    JsonNode r = target().path("lastReconciliation");
                    // a reconciliation that ended after the remote turned hostile (it may have begun before)
                    if (!r.has("at")
                            || Instant.parse(r.get("at").asText())
                                    .plusMillis(r.path("durationMillis").asLong())
                                    .isBefore(since)) {
                        return false;
                    }
                    for (JsonNode e : r.path("errors")) {
                        if (e.asText().contains(expected)) {
                            found[0] = e.asText();
                            return true;
                        }
                    }
                    return false;
                },
                Duration.ofSeconds(90));
        assertTrue(replicator.process().isAlive(), replicator.output());
        String health = healthz();
        System.out.printf(
                "[hostile remote, processes] %s: clear failure after %d ms, replicator heap %d MiB: %s%n",
                what, (System.nanoTime() - start) / 1_000_000, heapMiB(), found[0]);
        assertFalse(health.contains("failed"), health);
        return found[0];
    }

    void sites() throws Exception {
        a = site("a", Map.of());
        b = site("b", Map.of());
        source = new HostileRegistry(URI.create(a.base() + "/"));
        started.add(source);
    }

    String sourceUrl() {
        return source.uri().toString().replaceAll("/$", "");
    }

    @Test
    void namesWithDotsInTheSourcesCatalogNeverLeaveThePrefix() throws Exception {
        sites();
        Digest v1 = a.oci().pushImage("team-a/app", "v1", TestImage.of("app 1")).manifest();
        Digest local = b.oci()
                .pushImage("local/app", "keep", TestImage.of("only on the target"))
                .manifest();
        source.rule(x -> {
            String p = x.getRequestURI().getPath();
            if (p.equals("/v2/_catalog")) {
                HostileRegistry.answer(
                        x,
                        200,
                        "application/json",
                        ("{\"repositories\":[\"team-a/app\","
                                        + "\"team-a/../../local/app\",\"team-a/../../evil/app\"]}")
                                .getBytes(StandardCharsets.UTF_8));
                return true;
            }
            // what a collapsed URL reaches (/local/app/…, /evil/app/…) is the source's team-a/app
            if (p.startsWith("/evil/app/") || p.startsWith("/local/app/")) {
                String q = x.getRequestURI().getRawQuery();
                HostileRegistry.answer(
                        x,
                        307,
                        null,
                        new byte[0],
                        "Location",
                        "/v2/team-a/app/" + p.substring(p.indexOf("/app/") + 5) + (q == null ? "" : "?" + q));
                return true;
            }
            return false;
        });
        replicator = replicator("", sourceUrl(), targetYaml("site-b", b.base(), """
                repositories: ["team-a/**"]
                prefix: mirror/
                deletes: true
                """), HEAP, "2s");
        await(
                "mirror/team-a/app:v1 on B",
                () -> digest(b.base(), "mirror/team-a/app", "v1").equals(Optional.of(v1.toString())),
                Duration.ofSeconds(60));
        Thread.sleep(4000); // two more reconciliations
        assertEquals(
                Optional.of(local.toString()),
                digest(b.base(), "local/app", "keep"),
                "a repository only on the target, outside the prefix, is untouched");
        assertEquals(Optional.empty(), digest(b.base(), "evil/app", "v1"), "nothing is created outside the prefix");
        awaitError("catalog names with ..", "team-a/../../local/app");
    }

    @Test
    void forgedEventsOnlyTriggerARecheckAgainstTheSource() throws Exception {
        a = site("a", events());
        b = site("b", Map.of());
        Digest local = b.oci()
                .pushImage("local/app", "keep", TestImage.of("only on the target"))
                .manifest();
        replicator = replicator(a.base(), targetYaml("site-b", b.base(), """
                repositories: ["team-a/**"]
                prefix: mirror/
                deletes: true
                """), HEAP, "1h");
        Digest v1 = a.oci().pushImage("team-a/app", "v1", TestImage.of("app 1")).manifest();
        a.oci().pushImage("team-b/secret", "v1", TestImage.of("filtered out"));
        await(
                "mirror/team-a/app:v1 on B",
                () -> digest(b.base(), "mirror/team-a/app", "v1").equals(Optional.of(v1.toString())),
                Duration.ofSeconds(60));
        try (Producer<String, byte[]> forger =
                EventStream.producer(KafkaBroker.shared().bootstrapServers(), "forger", Map.of())) {
            for (RegistryEvent e : List.of(
                    forged("io.berth.repository.deleted", "team-a/../../local/app", null),
                    forged("io.berth.tag.created", "team-a/../team-b/secret", "v1"),
                    forged("io.berth.tag.deleted", "team-a/app", "v1"),
                    forged("io.berth.repository.deleted", "team-a/app", null))) {
                forger.send(new ProducerRecord<>(topic, e.repository(), EventCodec.encode(e)))
                        .get();
            }
        }
        // an honest event after the forged ones: once it is applied, so are they
        Digest v2 = a.oci().pushImage("team-a/app", "v2", TestImage.of("app 2")).manifest();
        await(
                "mirror/team-a/app:v2 on B",
                () -> digest(b.base(), "mirror/team-a/app", "v2").equals(Optional.of(v2.toString())),
                Duration.ofSeconds(60));
        Thread.sleep(2000); // the forged events of other repositories, in their queues
        assertEquals(Optional.of(local.toString()), digest(b.base(), "local/app", "keep"));
        assertEquals(Optional.empty(), digest(b.base(), "mirror/team-b/secret", "v1"), "filtered out: not copied");
        assertEquals(
                Optional.of(v1.toString()),
                digest(b.base(), "mirror/team-a/app", "v1"),
                "a delete the source does not confirm is not made");
        assertTrue(replicator.output().contains("not a repository name"), replicator.output());
    }

    static RegistryEvent forged(String type, String repository, String tag) {
        String id = "forged-" + System.nanoTime();
        return new RegistryEvent(
                "1.0",
                id,
                "//registry.test:5000",
                type,
                "2026-01-01T00:00:00Z",
                repository + (tag == null ? "" : ":" + tag),
                "application/json",
                "1",
                repository,
                new DistributionEvent(
                        id,
                        "2026-01-01T00:00:00Z",
                        type.endsWith("deleted") ? "delete" : "push",
                        new DistributionEvent.Target(null, null, null, null, repository, null, tag, null),
                        null,
                        null,
                        null));
    }

    /** Writes {@code chunk} forever (until the client goes): a body without end. */
    static void endless(HttpExchange x, String type) throws IOException {
        x.getResponseHeaders().set("Content-Type", type);
        x.sendResponseHeaders(200, 0);
        byte[] chunk = "{\"x\":\"".concat("a".repeat(65_000)).getBytes(StandardCharsets.UTF_8);
        OutputStream out = x.getResponseBody();
        for (long sent = 0; sent < (2L << 30); sent += chunk.length) {
            out.write(chunk);
        }
    }

    @Test
    void unboundedAnswersEndInAClearErrorNotAnOutOfMemoryError() throws Exception {
        sites();
        a.oci().pushImage("team-a/app", "v1", TestImage.of("app 1"));
        // 1. a Link header that loops
        source.rule(x -> {
            if (x.getRequestURI().getPath().equals("/v2/_catalog")) {
                HostileRegistry.answer(
                        x,
                        200,
                        "application/json",
                        "{\"repositories\":[\"team-a/app\"]}".getBytes(StandardCharsets.UTF_8),
                        "Link",
                        "</v2/_catalog?n=1000&last=team-a/app>; rel=\"next\"");
                return true;
            }
            return false;
        });
        replicator = replicator("", sourceUrl(), targetYaml("site-b", b.base(), "deletes: true\n"), HEAP, "2s");
        awaitError("a Link header that loops", "a loop");
        // 2. a manifest without end
        source.rules.clear();
        source.rule(x -> {
            if (x.getRequestMethod().equals("GET")
                    && x.getRequestURI().getPath().contains("/manifests/")) {
                endless(x, "application/vnd.oci.image.manifest.v1+json");
                return true;
            }
            return false;
        });
        awaitError("a manifest without end", "over the limit");
        // 3. a token response without end
        source.rules.clear();
        source.rule(x -> {
            if (x.getRequestURI().getPath().equals("/token")) {
                endless(x, "application/json");
                return true;
            }
            String auth = x.getRequestHeaders().getFirst("Authorization");
            if (auth == null || !auth.startsWith("Bearer ")) {
                HostileRegistry.answer(
                        x,
                        401,
                        "application/json",
                        "{}".getBytes(StandardCharsets.UTF_8),
                        "WWW-Authenticate",
                        "Bearer realm=\"" + source.uri() + "token\",service=\"s\"");
                return true;
            }
            return false;
        });
        awaitError("a token response without end", "token response is over the limit");
        assertTrue(healthz().startsWith("status: "), healthz());
    }

    @Test
    void aTricklingSourceEndsInAClearFailureWithinTheTimeoutAndShowsInHealthz() throws Exception {
        sites();
        a.oci().pushImage("team-a/app", "v1", TestImage.of("app 1"));
        source.rule(x -> {
            if (x.getRequestMethod().equals("GET")
                    && x.getRequestURI().getPath().contains("/manifests/")) {
                x.getResponseHeaders().set("Content-Type", "application/vnd.oci.image.manifest.v1+json");
                x.sendResponseHeaders(200, 1000);
                OutputStream out = x.getResponseBody();
                for (int i = 0; i < 1000; i++) {
                    out.write('{');
                    out.flush();
                    try {
                        Thread.sleep(500);
                    } catch (InterruptedException e) {
                        return true;
                    }
                }
                return true;
            }
            return false;
        });
        replicator = replicator("  timeout: 3s\n", sourceUrl(), targetYaml("site-b", b.base(), ""), HEAP, "2s");
        awaitError("a manifest trickling a byte every 500 ms", "no complete answer within 3");
        String health = healthz();
        assertTrue(health.contains("status: degraded") && health.contains("source: stuck: GET"), health);
    }

    @Test
    void credentialsGoOnlyToTheConfiguredOriginAndBasicOnlyAfterAChallenge() throws Exception {
        sites();
        a.oci().pushImage("team-a/app", "v1", TestImage.of("app 1"));
        try (HostileRegistry elsewhere = new HostileRegistry(null);
                HostileRegistry targetProxy = new HostileRegistry(URI.create(b.base() + "/"))) {
            HostileRegistry.Rule basic = x -> {
                if (x.getRequestHeaders().getFirst("Authorization") == null) {
                    HostileRegistry.answer(
                            x,
                            401,
                            "application/json",
                            "{}".getBytes(StandardCharsets.UTF_8),
                            "WWW-Authenticate",
                            "Basic realm=\"registry\"");
                    return true;
                }
                return false;
            };
            source.rule(basic);
            targetProxy.rule(basic);
            // 1. the target's upload Location names another address (a metadata service)
            targetProxy.rule(x -> {
                if (x.getRequestMethod().equals("POST")
                        && x.getRequestURI().getPath().endsWith("/blobs/uploads/")) {
                    HostileRegistry.answer(
                            x,
                            202,
                            null,
                            new byte[0],
                            "Location",
                            elsewhere.uri() + "latest/meta-data/iam/security-credentials/x");
                    return true;
                }
                return false;
            });
            replicator = replicator(
                    "  source-username: reader\n  source-password: source-pw\n",
                    sourceUrl(),
                    targetYaml("site-b", targetProxy.uri().toString().replaceAll("/$", ""), """
                            username: writer
                            password: target-pw
                            """),
                    HEAP,
                    "2s");
            await(
                    "an upload started",
                    () -> !targetProxy.seen("/v2/team-a/app/blobs/uploads/").isEmpty(),
                    Duration.ofSeconds(60));
            Thread.sleep(2000);
            assertTrue(elsewhere.seen.isEmpty(), "neither bytes nor credentials elsewhere: " + elsewhere.seen);
            assertNull(source.seen.get(0).authorization(), "no credentials before the source asked");
            assertNull(targetProxy.seen.get(0).authorization(), "no credentials before the target asked");
            awaitError("an upload Location elsewhere", "upload Location");
            // 2. the source's Link names another address
            source.rules.add(x -> {
                if (x.getRequestURI().getPath().equals("/v2/_catalog")) {
                    HostileRegistry.answer(
                            x,
                            200,
                            "application/json",
                            "{\"repositories\":[\"team-a/app\"]}".getBytes(StandardCharsets.UTF_8),
                            "Link",
                            "<" + elsewhere.uri() + "v2/_catalog?last=x>; rel=\"next\"");
                    return true;
                }
                return false;
            });
            awaitError("a Link elsewhere", "Link");
            // 3. the source's token realm is elsewhere
            source.rules.clear();
            source.rule(x -> {
                String auth = x.getRequestHeaders().getFirst("Authorization");
                if (auth == null || !auth.startsWith("Bearer ")) {
                    HostileRegistry.answer(
                            x,
                            401,
                            "application/json",
                            "{}".getBytes(StandardCharsets.UTF_8),
                            "WWW-Authenticate",
                            "Bearer realm=\"" + elsewhere.uri() + "token\",service=\"s\"");
                    return true;
                }
                return false;
            });
            await(
                    "a token asked of the realm elsewhere",
                    () -> !elsewhere.seen("/token").isEmpty(),
                    Duration.ofSeconds(30));
            for (HostileRegistry.Seen s : elsewhere.seen) {
                assertNull(s.authorization(), "no credentials elsewhere: " + s);
                assertTrue(s.uri().startsWith("/token"), "nothing but the token asked elsewhere: " + s);
            }
            System.out.printf(
                    "[hostile remote, processes] elsewhere saw %d requests, none with credentials; heap %d " + "MiB%n",
                    elsewhere.seen.size(), heapMiB());
        }
    }

    @Test
    void credentialsInAUrlAreRefusedAtStartWithOneLine() throws Exception {
        Path config = Files.writeString(dir.resolve("replication.yaml"), """
                replication:
                  source: http://reader:s3cret-pw@127.0.0.1:1
                  targets:
                    - name: site-b
                      url: http://127.0.0.1:2
                """);
        BerthProcess.Result r = BerthProcess.run(dir, Map.of(), "replicate", "--config", config.toString());
        assertEquals(2, r.exitCode(), r.output());
        assertTrue(r.output().contains("carries credentials in the URL"), r.output());
        assertFalse(r.output().contains("s3cret-pw"), r.output());
    }

    @Test
    void aTagIsWrittenOnlyWithTheBytesOfTheDigestTheSourceAdvertised() throws Exception {
        sites();
        Digest v1 = a.oci().pushImage("team-a/app", "v1", TestImage.of("app 1")).manifest();
        Digest v2 = a.oci().pushImage("team-a/app", "v2", TestImage.of("app 2")).manifest();
        replicator = replicator("", sourceUrl(), targetYaml("site-b", b.base(), ""), HEAP, "2s");
        await(
                "v1 and v2 on B",
                () -> digest(b.base(), "team-a/app", "v2").equals(Optional.of(v2.toString())),
                Duration.ofSeconds(60));
        byte[] otherBytes = a.oci().pullManifest("team-a/app", "v2").bytes();
        // the source tags v1's manifest "latest", and answers v1's digest with v2's bytes
        byte[] v1Bytes = a.oci().pullManifest("team-a/app", "v1").bytes();
        source.rule(x -> {
            String p = x.getRequestURI().getPath();
            if (x.getRequestMethod().equals("GET")
                    && (p.endsWith("/manifests/" + v1) || p.endsWith("/manifests/latest"))) {
                HostileRegistry.answer(
                        x, 200, MediaTypes.OCI_MANIFEST, otherBytes, "Docker-Content-Digest", v1.toString());
                return true;
            }
            return false;
        });
        a.oci().pushManifest("team-a/app", "latest", MediaTypes.OCI_MANIFEST, v1Bytes);
        Thread.sleep(5000); // two reconciliations
        assertFalse(
                digest(b.base(), "team-a/app", "latest").equals(Optional.of(v2.toString())),
                "never the bytes of another digest under the tag");
        awaitError("manifest bytes that are not the advertised digest", "has bytes of digest");
    }
}
