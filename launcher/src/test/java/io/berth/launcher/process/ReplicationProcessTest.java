package io.berth.launcher.process;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.berth.core.model.Digest;
import io.berth.core.model.MediaTypes;
import io.berth.http.OciLayouts;
import io.berth.proto.admin.v1.GetTagRequest;
import io.berth.testsupport.Command;
import io.berth.testsupport.Dockerd;
import io.berth.testsupport.FreePorts;
import io.berth.testsupport.JavaProcess;
import io.berth.testsupport.TestServices;
import io.berth.testsupport.oci.OciClient;
import io.berth.testsupport.oci.TestImage;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.springframework.security.crypto.bcrypt.BCryptPasswordEncoder;

/**
 * {@code berth replicate} as a process between {@code berth serve} sites (and CNCF Distribution), with a
 * real KRaft broker: pushes by docker and skopeo arrive with identical digests, filters hold, moves
 * and deletes follow, a stopped target and a killed replicator converge, content without events is
 * reconciled, a 1 GiB layer goes through a 128 MiB heap.
 */
@Tag("process")
class ReplicationProcessTest extends ReplicationFixture {

    @Test
    void pushesMovesAndDeletesReachEverySiteAsFilteredWithIdenticalDigests() throws Exception {
        var docker = Dockerd.shared();
        TestServices.require(docker.isPresent(), "dockerd (Debian package docker.io)");
        TestServices.require(Command.onPath("skopeo"), "skopeo (Debian package skopeo)");
        BerthProcess a = site("a", events());
        BerthProcess b = site("b", Map.of());
        BerthProcess c = site("c", Map.of("BERTH_MANIFESTS_ALLOW_SPARSE", "true"));
        JavaProcess replicator = replicator(
                a.base(), targetYaml("site-b", b.base(), """
                exclude: ["skip/**"]
                tags: "[^p].*"                   # not private-…
                deletes: true
                """) + targetYaml("site-c", c.base(), """
                repositories: ["multi/**"]
                platforms: [linux/amd64]
                deletes: true
                """), List.of(), "5s");
        String registry = "127.0.0.1:" + a.httpPort;
        String image = AdminProcessTest.image(dir, docker.get(), registry, "app/web:1", "one");
        Path layout = OciLayouts.twoPlatformIndex(dir.resolve("layout"), "multi");
        Command copy = Command.run(
                "skopeo",
                "copy",
                "--all",
                "--dest-tls-verify=false",
                "oci:" + layout + ":multi",
                "docker://" + registry + "/multi/app:1");
        assertEquals(0, copy.exitCode(), copy.output());
        String web = digest(a.base(), "app/web", "1").orElseThrow();
        String index = digest(a.base(), "multi/app", "1").orElseThrow();
        await(
                "app/web:1 on site B",
                () -> digest(b.base(), "app/web", "1").equals(Optional.of(web)),
                Duration.ofSeconds(60));
        await(
                "multi/app:1 on sites B and C",
                () -> digest(b.base(), "multi/app", "1").equals(Optional.of(index))
                        && digest(c.base(), "multi/app", "1").equals(Optional.of(index)),
                Duration.ofSeconds(60));
        JsonNode idx = JSON.readTree(HTTP.send(
                        HttpRequest.newBuilder(URI.create(a.base() + "/v2/multi/app/manifests/1"))
                                .header("Accept", "application/vnd.oci.image.index.v1+json")
                                .build(),
                        HttpResponse.BodyHandlers.ofString())
                .body());
        for (JsonNode m : idx.get("manifests")) {
            String child = m.get("digest").asText();
            boolean amd64 = m.path("platform").path("architecture").asText().equals("amd64");
            assertEquals(Optional.of(child), digest(b.base(), "multi/app", child), "B has every platform");
            assertEquals(amd64, digest(c.base(), "multi/app", child).isPresent(), "C only linux/amd64 (sparse)");
        }
        assertTrue(digest(c.base(), "app/web", "1").isEmpty(), "C takes only multi/**");

        // filtered out: a repository and a tag
        a.oci().pushImage("skip/app", "1", TestImage.of("skipped"));
        a.oci().pushImage("app/web", "private-1", TestImage.of("private"));
        // a tag move and a delete
        Digest moved = a.oci().pushImage("app/web", "1", TestImage.of("moved")).manifest();
        await(
                "the move on B",
                () -> digest(b.base(), "app/web", "1").equals(Optional.of(moved.toString())),
                Duration.ofSeconds(60));
        assertEquals(
                202,
                HTTP.send(
                                HttpRequest.newBuilder(URI.create(a.base() + "/v2/multi/app/manifests/1"))
                                        .DELETE()
                                        .build(),
                                HttpResponse.BodyHandlers.discarding())
                        .statusCode());
        await(
                "the tag delete on B and C",
                () -> digest(b.base(), "multi/app", "1").isEmpty()
                        && digest(c.base(), "multi/app", "1").isEmpty(),
                Duration.ofSeconds(60));
        assertTrue(digest(b.base(), "skip/app", "1").isEmpty(), "excluded repository");
        assertTrue(digest(b.base(), "app/web", "private-1").isEmpty(), "filtered tag");
        assertEquals(0, docker.get().docker("rmi", image).exitCode());

        // both targets report in sync once a reconciliation found nothing to do
        await(
                "both targets in sync",
                () -> {
                    try {
                        JsonNode s = status(replicator);
                        return s.get("targets").size() == 2
                                && s.get("targets").get(0).get("state").asText().equals("in-sync")
                                && s.get("targets").get(1).get("state").asText().equals("in-sync");
                    } catch (Exception e) {
                        return false;
                    }
                },
                Duration.ofSeconds(60));
        JsonNode s = status(replicator);
        assertTrue(s.get("targets").get(0).get("bytesCopied").asLong() > 0, s.toString());
        assertEquals(
                0,
                s.get("targets")
                        .get(0)
                        .get("lastReconciliation")
                        .get("differences")
                        .asInt(),
                s.toString());
        String metrics = HTTP.send(
                        HttpRequest.newBuilder(
                                        URI.create("http://127.0.0.1:" + statusPorts.get(replicator) + "/metrics"))
                                .build(),
                        HttpResponse.BodyHandlers.ofString())
                .body();
        assertTrue(metrics.contains("berth_replication_bytes_copied_total{target=\"site-b\"}"), metrics);
        assertTrue(metrics.contains("berth_replication_in_sync{target=\"site-c\"} 1.0"), metrics);
    }

    @Test
    void aTargetThatWasDownAndAReplicatorThatWasKilledConverge() throws Exception {
        BerthProcess a = site("a", events());
        int bPort = FreePorts.next();
        BerthProcess b = site("b", bPort, Map.of());
        // a second target that is dead all along: it must not hold B back
        String targets =
                targetYaml("site-b", b.base(), "deletes: true\n") + targetYaml("dead", "http://127.0.0.1:1", "");
        JavaProcess replicator = replicator(a.base(), targets, List.of(), "3s");
        Digest first =
                a.oci().pushImage("down/app", "0", TestImage.of("before")).manifest();
        long pushed0 = System.nanoTime();
        await(
                "the first image on B",
                () -> digest(b.base(), "down/app", "0").equals(Optional.of(first.toString())),
                Duration.ofSeconds(60));
        System.out.printf("the first image on B %.1f s after its push%n", (System.nanoTime() - pushed0) / 1e9);
        // B did not wait for the dead target, which never applies anything
        assertEquals(
                0, status(replicator).get("targets").get(1).get("eventsApplied").asLong());
        await(
                "the dead target's event parked",
                () -> {
                    try {
                        JsonNode dead = status(replicator).get("targets").get(1);
                        return dead.get("eventsParked").asLong() >= 1
                                && !dead.get("state").asText().equals("in-sync");
                    } catch (Exception e) {
                        return false;
                    }
                },
                Duration.ofSeconds(60));

        // B down while 20 images are pushed; no manual step when it is back
        b.close();
        List<Digest> pushed = new ArrayList<>();
        for (int i = 1; i <= 20; i++) {
            pushed.add(a.oci()
                    .pushImage("down/app", Integer.toString(i), TestImage.of("while down " + i))
                    .manifest());
        }
        await(
                "the replicator to notice",
                () -> {
                    try {
                        return !status(replicator)
                                .get("targets")
                                .get(0)
                                .get("state")
                                .asText()
                                .equals("in-sync");
                    } catch (Exception e) {
                        return false;
                    }
                },
                Duration.ofSeconds(30));
        BerthProcess back = site("b", bPort, Map.of());
        await(
                "all 20 on B",
                () -> {
                    for (int i = 1; i <= 20; i++) {
                        if (!digest(back.base(), "down/app", Integer.toString(i))
                                .equals(Optional.of(pushed.get(i - 1).toString()))) {
                            return false;
                        }
                    }
                    return true;
                },
                Duration.ofSeconds(90));

        // the replicator SIGKILLed while pushes go on, then started again
        Thread pusher = Thread.ofPlatform().start(() -> {
            for (int i = 0; i < 15; i++) {
                try {
                    a.oci().pushImage("kill/app", Integer.toString(i), TestImage.of("kill " + i));
                    Thread.sleep(50);
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            }
        });
        Thread.sleep(300);
        replicator.process().destroyForcibly().waitFor();
        pusher.join();
        JavaProcess again = replicator(a.base(), targets, List.of(), "3s");
        await(
                "every kill/app tag on B",
                () -> {
                    for (int i = 0; i < 15; i++) {
                        if (!digest(a.base(), "kill/app", Integer.toString(i))
                                .equals(digest(back.base(), "kill/app", Integer.toString(i)))) {
                            return false;
                        }
                    }
                    return true;
                },
                Duration.ofSeconds(90));
        await(
                "in sync",
                () -> {
                    try {
                        return status(again)
                                .get("targets")
                                .get(0)
                                .get("state")
                                .asText()
                                .equals("in-sync");
                    } catch (Exception e) {
                        return false;
                    }
                },
                Duration.ofSeconds(60));
        assertFalse(again.output().contains("Exception"), again.output());
    }

    @Test
    void aDeadTargetIsUnreachableUntilItAnswersThenInSyncAsSoonAsNothingIsPending() throws Exception {
        BerthProcess a = site("a", events());
        int bPort = FreePorts.next();
        String bUrl = "http://127.0.0.1:" + bPort;
        List<Digest> pushed = new ArrayList<>();
        pushed.add(
                a.oci().pushImage("dead/app", "v0", TestImage.of("dead 0")).manifest()); // for the first reconciliation
        // reconciling once an hour: in sync must not wait for the next reconciliation
        JavaProcess replicator = replicator(a.base(), targetYaml("site-b", bUrl, ""), List.of(), "1h");
        for (int i = 1; i < 3; i++) {
            pushed.add(a.oci()
                    .pushImage("dead/app", "v" + i, TestImage.of("dead " + i))
                    .manifest());
        }
        await(
                "the events parked",
                () -> target(replicator).get("lagEvents").asLong() >= 2
                        && target(replicator).get("eventsParked").asLong() >= 1,
                Duration.ofSeconds(60));
        // past the circuit's 10 s open state (half-open: one call let through): still unreachable
        long until = System.nanoTime() + Duration.ofSeconds(13).toNanos();
        while (System.nanoTime() < until) {
            JsonNode t = target(replicator);
            assertEquals("unreachable", t.get("state").asText(), t.toString());
            String health = get(statusPorts.get(replicator), "/healthz");
            assertTrue(health.startsWith("status: degraded") && health.contains("target site-b: unreachable"), health);
            Thread.sleep(500);
        }
        JsonNode t = target(replicator);
        assertTrue(t.get("lagSeconds").asDouble() >= 10, "the parked events' age: " + t);
        String where = "127.0.0.1:" + bPort + "/v2/";
        assertTrue(
                t.get("unreachable").asText().contains(where)
                        && t.get("unreachable").asText().endsWith(": connection refused"),
                t.toString());
        JsonNode errors = t.get("lastReconciliation").get("errors");
        assertTrue(
                errors.size() > 0
                        && errors.get(0).asText().contains(where)
                        && errors.get(0).asText().contains("connection refused"),
                "what, where and why: " + errors);
        JsonNode eventErrors = t.get("lastErrors");
        assertTrue(
                eventErrors.size() > 0
                        && eventErrors.get(0).asText().contains(where)
                        && eventErrors.get(0).asText().contains("connection refused"),
                "what, where and why: " + eventErrors);

        long back = System.nanoTime();
        BerthProcess b = site("b", bPort, Map.of());
        await("in sync", () -> target(replicator).get("state").asText().equals("in-sync"), Duration.ofSeconds(60));
        System.out.printf(
                "in sync %.1f s after the target was back (reconcile-interval 1h)%n", (System.nanoTime() - back) / 1e9);
        for (int i = 0; i < 3; i++) {
            assertEquals(Optional.of(pushed.get(i).toString()), digest(b.base(), "dead/app", "v" + i));
        }
        t = target(replicator);
        assertEquals(0, t.get("lagEvents").asLong(), t.toString());
        assertEquals(0.0, t.get("lagSeconds").asDouble(), t.toString());
        assertTrue(get(statusPorts.get(replicator), "/healthz").startsWith("status: ok"));
        String log = replicator.output();
        assertEquals(
                1,
                log.lines()
                        .filter(l -> l.contains(" WARN io.berth.oci.Reachability") && l.contains("site-b"))
                        .count(),
                "one WARN when it went away:\n" + log);
        assertEquals(
                1,
                log.lines()
                        .filter(l -> l.contains(" INFO io.berth.oci.Reachability")
                                && l.contains("site-b")
                                && l.contains("answers again"))
                        .count(),
                "one INFO when it was back:\n" + log);
    }

    JsonNode target(JavaProcess replicator) {
        try {
            return status(replicator).get("targets").get(0);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    static String get(int port, String path) throws Exception {
        return HTTP.send(
                        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                                .build(),
                        HttpResponse.BodyHandlers.ofString())
                .body();
    }

    @Test
    void withoutKafkaReplicationIsByReconciliationAlone() throws Exception {
        BerthProcess a = site("a", Map.of());
        BerthProcess b = site("b", Map.of());
        Digest before =
                a.oci().pushImage("nokafka/app", "1", TestImage.of("before")).manifest();
        JavaProcess replicator =
                replicator("", a.base(), targetYaml("site-b", b.base(), "deletes: true\n"), List.of(), "2s");
        assertTrue(replicator.output().contains("no kafka: by reconciliation alone"), replicator.output());
        Digest after =
                a.oci().pushImage("nokafka/app", "2", TestImage.of("after")).manifest();
        await(
                "both images on B",
                () -> digest(b.base(), "nokafka/app", "1").equals(Optional.of(before.toString()))
                        && digest(b.base(), "nokafka/app", "2").equals(Optional.of(after.toString())),
                Duration.ofSeconds(60));
        await("in sync", () -> target(replicator).get("state").asText().equals("in-sync"), Duration.ofSeconds(30));
    }

    @Test
    void pullsByTheReplicatorAreRecordedAsSuchAndAreNoUsersLastPull() throws Exception {
        BCryptPasswordEncoder bcrypt = new BCryptPasswordEncoder(4);
        Path users = Files.writeString(
                dir.resolve("users.htpasswd"),
                "replicator:" + bcrypt.encode("r-pw") + "\n" + "alice:" + bcrypt.encode("a-pw") + "\n");
        Map<String, String> env = new HashMap<>(events());
        env.putAll(Map.of(
                "BERTH_AUTH_TYPE",
                "htpasswd",
                "BERTH_AUTH_HTPASSWD_PATH",
                users.toString(),
                "BERTH_AUTH_REPLICATORS",
                "replicator",
                "BERTH_METADATA_PULL_FLUSH_INTERVAL",
                "200ms",
                "BERTH_ADMIN_TOKENS",
                "t0ken"));
        BerthProcess a = site("a", env);
        BerthProcess b = site("b", Map.of());
        // the replicator logs in as itself
        replicator(
                a.base() + "\n  source-username: replicator\n  source-password: r-pw",
                targetYaml("site-b", b.base(), ""),
                List.of(),
                "1h");
        String auth = "Basic " + Base64.getEncoder().encodeToString("alice:a-pw".getBytes());
        Digest image = pushAs(a.base(), auth, "pulled/app", "1");
        await(
                "the image on B",
                () -> digest(b.base(), "pulled/app", "1").equals(Optional.of(image.toString())),
                Duration.ofSeconds(60));
        Thread.sleep(1000); // past a pull flush
        var admin = a.admin("t0ken");
        var tag = GetTagRequest.newBuilder()
                .setRepository("pulled/app")
                .setTag("1")
                .build();
        assertEquals(0, admin.getTag(tag).getLastPulledEpochMillis(), "the replicator's copies are no pulls");
        String metrics = get(a.httpPort, "/metrics");
        assertTrue(
                metrics.lines()
                        .anyMatch(l ->
                                l.startsWith("berth_manifest_pulls_total{by=\"replication\"}") && !l.endsWith(" 0.0")),
                metrics);
        // a user's pull is one
        a.oci().withHeader("Authorization", auth).pullManifest("pulled/app", "1");
        await("alice's pull recorded", () -> admin.getTag(tag).getLastPulledEpochMillis() > 0, Duration.ofSeconds(30));
    }

    /** Pushes a small image with the given Authorization; returns its digest. */
    static Digest pushAs(String base, String auth, String repo, String tag) {
        return OciClient.of(base)
                .withHeader("Authorization", auth)
                .pushImage(repo, tag, TestImage.of(repo))
                .manifest();
    }

    @Test
    void aRegistryWithContentAndNoEventsIsCopiedByReconciliation() throws Exception {
        BerthProcess a = site("a", Map.of()); // events off: nothing will ever be published
        List<Digest> pushed = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            pushed.add(a.oci()
                    .pushImage("old/r" + (i % 2), "v" + i, TestImage.of("old " + i))
                    .manifest());
        }
        BerthProcess b = site("b", Map.of());
        replicator(a.base(), targetYaml("site-b", b.base(), ""), List.of(), "1h");
        await(
                "everything on B after the first reconciliation",
                () -> {
                    for (int i = 0; i < 5; i++) {
                        if (!digest(b.base(), "old/r" + (i % 2), "v" + i)
                                .equals(Optional.of(pushed.get(i).toString()))) {
                            return false;
                        }
                    }
                    return true;
                },
                Duration.ofSeconds(60));
    }

    @Test
    void cncfDistributionReceivesTheSameContent() throws Exception {
        TestServices.require(
                Files.isExecutable(Path.of("/usr/bin/docker-registry")),
                "docker-registry (Debian package docker-registry)");
        int port = FreePorts.next();
        Path root = Files.createDirectories(dir.resolve("distribution"));
        Path cfg = Files.writeString(
                dir.resolve("distribution.yml"),
                "version: 0.1\nlog: {level: error}\nstorage:\n"
                        + "  filesystem: {rootdirectory: " + root
                        + "}\n  delete: {enabled: true}\nhttp: {addr: 127.0.0.1:"
                        + port + "}\n");
        Process distribution = new ProcessBuilder("/usr/bin/docker-registry", "serve", cfg.toString())
                .redirectErrorStream(true)
                .redirectOutput(dir.resolve("distribution.log").toFile())
                .start();
        started.add(() -> distribution.destroyForcibly().waitFor());
        assertTrue(FreePorts.waitForListener(port, 30_000), "Distribution did not start");
        String target = "http://127.0.0.1:" + port;
        BerthProcess a = site("a", events());
        replicator(a.base(), targetYaml("distribution", target, ""), List.of(), "5s");
        Digest image = a.oci()
                .pushImage("to/distribution", "1", TestImage.of("for distribution"))
                .manifest();
        Path layout = OciLayouts.twoPlatformIndex(dir.resolve("layout"), "multi");
        if (Command.onPath("skopeo")) {
            Command copy = Command.run(
                    "skopeo",
                    "copy",
                    "--all",
                    "--dest-tls-verify=false",
                    "oci:" + layout + ":multi",
                    "docker://127.0.0.1:" + a.httpPort + "/to/multi:1");
            assertEquals(0, copy.exitCode(), copy.output());
        }
        await(
                "the image on Distribution",
                () -> digest(target, "to/distribution", "1").equals(Optional.of(image.toString())),
                Duration.ofSeconds(60));
        if (Command.onPath("skopeo")) {
            String index = digest(a.base(), "to/multi", "1").orElseThrow();
            await(
                    "the index on Distribution",
                    () -> digest(target, "to/multi", "1").equals(Optional.of(index)),
                    Duration.ofSeconds(60));
        }
    }

    @Test
    void aOneGibLayerCopiesThroughAReplicatorWith128MibOfHeap() throws Exception {
        long size = Long.getLong("berth.test.replicated-blob-bytes", 1L << 30);
        BerthProcess a = site("a", events());
        BerthProcess b = site("b", Map.of());
        JavaProcess replicator = replicator(a.base(), targetYaml("site-b", b.base(), ""), List.of("-Xmx128m"), "1h");
        Digest layer = pushGeneratedLayer(a.base(), "big/app", size);
        Digest c = a.oci().pushBlob("big/app", "{}".getBytes());
        byte[] manifest = ("{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
                        + "\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"digest\":\"" + c
                        + "\",\"size\":2},\"layers\":[{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar\",\"digest\":\""
                        + layer + "\",\"size\":" + size + "}]}")
                .getBytes();
        long t0 = System.nanoTime();
        String want = a.oci()
                .pushManifest("big/app", "1", MediaTypes.OCI_MANIFEST, manifest)
                .toString();
        await(
                "the image with its 1 GiB layer on B",
                () -> digest(b.base(), "big/app", "1").equals(Optional.of(want)),
                Duration.ofMinutes(5));
        double seconds = (System.nanoTime() - t0) / 1e9;
        System.out.printf(
                "replicated a %d MiB layer in %.1f s (%.0f MB/s) through -Xmx128m%n",
                size >> 20, seconds, size / 1e6 / seconds);
        HttpResponse<Void> head = HTTP.send(
                HttpRequest.newBuilder(URI.create(b.base() + "/v2/big/app/blobs/" + layer))
                        .method("HEAD", HttpRequest.BodyPublishers.noBody())
                        .build(),
                HttpResponse.BodyHandlers.discarding());
        assertEquals(200, head.statusCode());
        assertEquals(
                Long.toString(size), head.headers().firstValue("Content-Length").orElseThrow());
        assertTrue(replicator.process().isAlive(), "no OutOfMemoryError: " + replicator.output());
        assertFalse(replicator.output().contains("OutOfMemoryError"), replicator.output());
    }
}
