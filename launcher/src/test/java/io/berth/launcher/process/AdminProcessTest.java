package io.berth.launcher.process;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.berth.http.OciLayouts;
import io.berth.testsupport.Command;
import io.berth.testsupport.Dockerd;
import io.berth.testsupport.TestServices;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code berth admin}, every command, as a process against {@code berth serve} filled by real docker and
 * skopeo pushes; the results checked through real clients again where they show.
 */
@Tag("process")
class AdminProcessTest {
    static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    BerthProcess berth;

    /** Runs {@code berth admin ARGS} (the admin port and token first unless told otherwise). */
    BerthProcess.Result admin(String... args) throws InterruptedException {
        List<String> all = new ArrayList<>(List.of("admin", "--server", "127.0.0.1:" + berth.adminPort));
        all.addAll(List.of(args));
        return BerthProcess.run(dir, Map.of("BERTH_ADMIN_TOKEN", "s3cret"), all.toArray(String[]::new));
    }

    BerthProcess.Result ok(String... args) throws InterruptedException {
        BerthProcess.Result r = admin(args);
        assertEquals(0, r.exitCode(), String.join(" ", args) + ":\n" + r.output());
        return r;
    }

    JsonNode json(String... args) throws Exception {
        String out = ok(args).output();
        return JSON.readTree(out.substring(out.indexOf('{')));
    }

    static String image(Path dir, Dockerd docker, String registry, String name, String extra) throws Exception {
        Path root = Files.createDirectories(dir.resolve("rootfs-" + extra + "/bin"));
        Files.copy(Path.of("/bin/busybox"), root.resolve("busybox"));
        Files.writeString(root.resolve("extra"), extra);
        Path tar = dir.resolve("rootfs-" + extra + ".tar");
        assertEquals(
                0,
                Command.run("tar", "-C", root.getParent().toString(), "-cf", tar.toString(), ".")
                        .exitCode());
        String ref = registry + "/" + name;
        assertEquals(0, docker.docker("import", tar.toString(), ref).exitCode());
        Command push = docker.docker("push", ref);
        assertEquals(0, push.exitCode(), push.output());
        return ref;
    }

    @Test
    void everyCommandAgainstARegistryFilledByDockerAndSkopeo() throws Exception {
        var docker = Dockerd.shared();
        TestServices.require(docker.isPresent(), "dockerd (Debian package docker.io)");
        TestServices.require(Command.onPath("skopeo"), "skopeo (Debian package skopeo)");
        berth = BerthProcess.start(dir.resolve("berth"), List.of(), Map.of("BERTH_ADMIN_TOKENS", "s3cret,ro:viewer"));
        try {
            String registry = "127.0.0.1:" + berth.httpPort;
            image(dir, docker.get(), registry, "app/web:1", "one");
            image(dir, docker.get(), registry, "app/web:2", "two");
            Path layout = OciLayouts.twoPlatformIndex(dir.resolve("layout"), "multi");
            Command copy = Command.run(
                    "skopeo",
                    "copy",
                    "--all",
                    "--dest-tls-verify=false",
                    "oci:" + layout + ":multi",
                    "docker://" + registry + "/app/multi:1");
            assertEquals(0, copy.exitCode(), copy.output());

            // server and repositories
            assertTrue(ok("info").output().contains("REPOSITORIES"));
            JsonNode repos = json("repos", "list", "--json");
            assertEquals(List.of("app/multi", "app/web"), names(repos.get("repositories"), "name"));
            String web = ok("repos", "get", "app/web").output();
            assertTrue(web.contains("app/web") && web.contains("LAST PUSH"), web);

            // tags: list in push order, an index's platforms
            JsonNode tags = json("tags", "list", "app/web", "--sort", "pushed", "--json");
            assertEquals(List.of("2", "1"), names(tags.get("tags"), "name"));
            String d1 = tags.get("tags").get(1).get("digest").asText();
            String d2 = tags.get("tags").get(0).get("digest").asText();
            assertTrue(ok("tags", "get", "app/multi", "1").output().contains("platforms: linux/amd64, linux/arm64"));
            assertEquals(
                    List.of("1"),
                    names(
                            json("--json", "tags", "list", "app/web", "--filter", "1")
                                    .get("tags"),
                            "name"),
                    "options before the subcommand too");

            // --json: numbers as numbers, times in RFC 3339
            JsonNode first = tags.get("tags").get(1);
            assertTrue(first.get("size").isIntegralNumber(), first.toString());
            OffsetDateTime.parse(first.get("pushedAt").asText());
            assertTrue(first.has("lastPulledAt"), first.toString());
            assertTrue(json("info", "--json").get("repositoryCount").isIntegralNumber());

            // set by the digest as the table prints it, promote, history, restore
            String printed = ok("tags", "list", "app/web")
                    .output()
                    .lines()
                    .filter(l -> l.startsWith("1 "))
                    .findFirst()
                    .orElseThrow()
                    .split("\\s+")[1];
            assertEquals(d1.substring(0, "sha256:".length() + 12), printed, "the table's short digest");
            assertEquals(
                    d1,
                    json("tags", "set", "app/web", "stable", "--digest", printed, "--json")
                            .get("digest")
                            .asText(),
                    "the printed beginning names the manifest");
            BerthProcess.Result unknown = admin("tags", "set", "app/web", "x", "--digest", "sha256:000000000000");
            assertEquals(1, unknown.exitCode());
            assertTrue(
                    unknown.output()
                            .contains("NOT_FOUND: repository app/web has no manifest whose digest begins"
                                    + " with sha256:000000000000"),
                    unknown.output());
            ok("tags", "set", "prod/web", "1.0", "--digest", d1, "--from", "app/web");
            Command pull = docker.get().docker("pull", registry + "/prod/web:1.0");
            assertEquals(0, pull.exitCode(), "the promoted image pulls with docker: " + pull.output());
            ok("tags", "set", "app/web", "stable", "--digest", d2);
            JsonNode history = json("tags", "history", "app/web", "stable", "--json");
            assertEquals(2, history.get("versions").size());
            assertEquals("admin", history.get("versions").get(1).get("via").asText());
            assertTrue(ok("tags", "history", "app/web", "1").output().contains("v2"), "pushed through /v2");
            List<String> table =
                    ok("tags", "history", "app/web", "stable").output().lines().toList();
            assertEquals(
                    List.of("VERSION", "ACTION", "DIGEST", "PREVIOUS", "WHEN", "VIA", "ACTOR", "REQUEST"),
                    List.of(table.get(0).trim().split("\\s+")),
                    table.toString());
            List<String> movedRow = List.of(table.get(2).trim().split("\\s+"));
            assertEquals(
                    List.of("2", "MOVED", d2.substring(0, 19), d1.substring(0, 19)),
                    movedRow.subList(0, 4),
                    "the digest and the one before: " + table);
            assertEquals("admin", movedRow.get(5));
            assertEquals("-", movedRow.get(6), "an admin token names no user (AdminJsonTest shows a named actor)");
            JsonNode restored = json("tags", "restore", "app/web", "stable", "--version", "1", "--json");
            assertEquals(d1, restored.get("digest").asText());
            ok("tags", "delete", "app/web", "2");
            BerthProcess.Result again = admin("tags", "delete", "app/web", "2");
            assertEquals(1, again.exitCode());
            assertTrue(again.output().contains("NOT_FOUND"), again.output());

            // manifests: the image of tag 2 is untagged now
            JsonNode untagged = json("manifests", "list", "app/web", "--untagged", "--json");
            assertEquals(List.of(d2), names(untagged.get("manifests"), "digest"));

            // immutability, through docker too
            JsonNode rule = json("immutability", "add", "--repositories", "prod/**", "--tags", ".*", "--json");
            String ruleId = rule.get("id").asText();
            assertEquals(1, json("immutability", "list", "--json").get("rules").size());
            assertEquals(
                    0,
                    docker.get()
                            .docker("tag", registry + "/app/web:1", registry + "/prod/web:1.0")
                            .exitCode());
            Command moved = docker.get().docker("push", registry + "/prod/web:1.0");
            assertEquals(0, moved.exitCode(), "the same image again is no move: " + moved.output());
            String other = image(dir, docker.get(), registry, "app/web:3", "three");
            assertEquals(
                    0,
                    docker.get()
                            .docker("tag", other, registry + "/prod/web:1.0")
                            .exitCode());
            Command refused = docker.get().docker("push", registry + "/prod/web:1.0");
            assertNotEquals(0, refused.exitCode(), refused.output());
            assertTrue(refused.output().contains("immutable"), refused.output());
            BerthProcess.Result protectedDelete = admin("tags", "delete", "prod/web", "1.0");
            assertEquals(1, protectedDelete.exitCode());
            assertTrue(protectedDelete.output().contains("FAILED_PRECONDITION"), protectedDelete.output());
            ok("immutability", "delete", ruleId);

            // retention from a policy file
            Path policy = Files.writeString(dir.resolve("policy.yaml"), """
                    name: web-latest
                    repositories: [app/web]
                    rules:
                      - keep-last-pushed: 1
                      - keep-tags-matching: 'stable'
                    untagged: keep
                    """);
            assertTrue(
                    ok("retention", "apply", "-f", policy.toString()).output().contains("created retention policy"));
            assertTrue(ok("retention", "list").output().contains("web-latest"));
            assertTrue(ok("retention", "get", "web-latest").output().contains("keep-last-pushed: 1"));
            JsonNode plan = json("retention", "dry-run", "web-latest", "--json");
            assertEquals(List.of("1"), deleted(plan), "3 is the newest, stable is kept by name");
            assertTrue(ok("retention", "dry-run", "web-latest").output().contains("kept by keep-tags-matching"));
            BerthProcess.Result viewerDry = admin("retention", "dry-run", "web-latest", "--token", "viewer");
            assertEquals(0, viewerDry.exitCode(), viewerDry.output());
            assertTrue(
                    viewerDry.output().contains("Not stored (a read-only token): no plan to run."), viewerDry.output());
            JsonNode run = json(
                    "retention",
                    "run",
                    "web-latest",
                    "--plan",
                    plan.get("planId").asText(),
                    "--json");
            assertEquals(List.of("1"), names(run.get("tagsDeleted"), "tag"));
            ok("retention", "delete", "web-latest");
            Path bad = Files.writeString(dir.resolve("bad.yaml"), "name: x\nrepositories: [a]\nrules: []\n");
            BerthProcess.Result refusedPolicy = admin("retention", "apply", "-f", bad.toString());
            assertEquals(2, refusedPolicy.exitCode());
            assertTrue(refusedPolicy.output().contains("rules must list at least one rule"), refusedPolicy.output());

            // garbage collection
            JsonNode dry = json("gc", "run", "--dry-run", "--grace", "0s", "--untagged", "--json");
            assertEquals("SUCCEEDED", dry.get("state").asText());
            assertTrue(dry.get("manifestsDeleted").asLong() >= 1, dry.toString());
            JsonNode gc = json("gc", "run", "--grace", "0s", "--untagged", "--json");
            assertEquals(
                    dry.get("manifestsDeleted").asLong(),
                    gc.get("manifestsDeleted").asLong());
            assertTrue(gc.get("blobsDeleted").asLong() >= 1, gc.toString());
            assertEquals(
                    gc.get("id").asText(),
                    json("gc", "status", "--json").get("id").asText());
            assertTrue(ok("gc", "status", "--follow").output().contains("succeeded"));
            Command stillPulls = docker.get().docker("pull", registry + "/app/web:stable");
            assertEquals(0, stillPulls.exitCode(), stillPulls.output());

            // delete a repository
            ok("repos", "delete", "app/multi");
            assertEquals(1, admin("repos", "get", "app/multi").exitCode());

            // tokens and usage
            BerthProcess.Result noToken = BerthProcess.run(
                    dir, Map.of(), "admin", "--server", "127.0.0.1:" + berth.adminPort, "repos", "list");
            assertEquals(1, noToken.exitCode());
            assertTrue(noToken.output().contains("UNAUTHENTICATED"), noToken.output());
            BerthProcess.Result onTheCommandLine = admin("--token", "viewer", "repos", "list");
            assertEquals(0, onTheCommandLine.exitCode());
            assertTrue(
                    onTheCommandLine
                                    .output()
                                    .contains("berth: warning: a token given with --token is visible to "
                                            + "other local users")
                            && onTheCommandLine.output().contains("BERTH_ADMIN_TOKEN"),
                    onTheCommandLine.output());
            assertTrue(!admin("repos", "list").output().contains("warning"), "BERTH_ADMIN_TOKEN: no warning");
            BerthProcess.Result readOnly = admin("tags", "delete", "app/web", "3", "--token", "viewer");
            assertEquals(1, readOnly.exitCode());
            assertTrue(readOnly.output().contains("PERMISSION_DENIED"), readOnly.output());
            BerthProcess.Result usage = admin("tags", "set", "app/web", "x");
            assertEquals(2, usage.exitCode());
            assertTrue(usage.output().contains("--digest"), usage.output());
            BerthProcess.Result unreachable = BerthProcess.run(
                    dir, Map.of("BERTH_ADMIN_TOKEN", "s3cret"), "admin", "--server", "127.0.0.1:1", "info");
            assertEquals(1, unreachable.exitCode());
            assertTrue(
                    unreachable.output().contains("cannot reach the admin API at 127.0.0.1:1"), unreachable.output());
            assertFalse(unreachable.output().contains("\tat "), "no stack trace");
        } finally {
            berth.close();
        }
    }

    static List<String> names(JsonNode array, String field) {
        List<String> out = new ArrayList<>();
        if (array != null) {
            array.forEach(n -> out.add(n.get(field).asText()));
        }
        return out;
    }

    static List<String> deleted(JsonNode plan) {
        List<String> out = new ArrayList<>();
        plan.get("tags").forEach(t -> {
            if (!t.get("keep").asBoolean()) {
                out.add(t.get("tag").asText());
            }
        });
        return out;
    }
}
