package io.berth.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.Map;
import java.util.function.IntSupplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.security.crypto.bcrypt.BCrypt;

/**
 * Revocation never fails open: an edit of the htpasswd file or the policy that removes a user or a
 * grant takes effect even when another line of the same edit is wrong (that line is left out and
 * named), a file that cannot be read grants nothing until it reads again, and /healthz and /metrics
 * show a partial or unapplied file.
 */
class AuthFileReloadTest {
    static final String POLICY = """
            rules:
              - repositories: ["team-a/**"]
                subjects: [alice]
                actions: [pull, push]
              - repositories: ["team-b/**"]
                subjects: [bob]
                actions: [pull, push]
              - repositories: ["public/**"]
                subjects: [authenticated]
                actions: [pull, push]
            """;

    @TempDir
    Path dir;

    int bump;

    static String line(String user) {
        return user + ":" + BCrypt.hashpw("pw-" + user, BCrypt.gensalt(4)).replace("$2a$", "$2y$") + "\n";
    }

    /** Rewrites a file so that the next check sees a change whatever the clock's resolution. */
    void rewrite(Path file, String content) throws Exception {
        Files.writeString(file, content);
        Files.setLastModifiedTime(file, FileTime.from(Instant.now().plusSeconds(++bump * 5L)));
    }

    static int push(TestRegistry r, String user, String repo) {
        return r.send(
                        "POST",
                        "/v2/" + repo + "/blobs/uploads/",
                        null,
                        "Authorization",
                        TestRegistry.basic(user, "pw-" + user))
                .statusCode();
    }

    static void await(IntSupplier status, int want, String what) throws InterruptedException {
        long deadline = System.nanoTime() + 15_000_000_000L;
        int last;
        do {
            last = status.getAsInt();
            if (last == want) {
                return;
            }
            Thread.sleep(200);
        } while (System.nanoTime() < deadline);
        assertEquals(want, last, what);
    }

    static String text(TestRegistry r, String path) {
        return new String(r.get(path).body(), StandardCharsets.UTF_8);
    }

    @Test
    void editsThatRevokeApplyEvenWithABadLineAndUnreadableFilesGrantNothing() throws Exception {
        Path users = dir.resolve("htpasswd");
        Files.writeString(users, line("alice") + line("bob"));
        Path policy = dir.resolve("policy.yaml");
        Files.writeString(policy, POLICY);
        try (TestRegistry r = new TestRegistry(
                dir.resolve("data"),
                Map.of(
                        "auth.type",
                        "htpasswd",
                        "auth.htpasswd.path",
                        users.toString(),
                        "auth.policy",
                        policy.toString()))) {
            assertEquals(202, push(r, "alice", "team-a/app"));
            assertEquals(202, push(r, "bob", "team-b/app"));
            assertTrue(text(r, "/healthz").startsWith("status: ok"), text(r, "/healthz"));

            // bob removed, carol added in a scheme Berth refuses: bob loses access at once, carol's line is named
            rewrite(users, line("alice") + "carol:$apr1$abc$0123456789abcdefghijk.\n");
            await(() -> push(r, "bob", "team-b/app"), 401, "bob was removed from the htpasswd file");
            assertEquals(202, push(r, "alice", "team-a/app"), "the rest of the file applies");
            assertEquals(401, push(r, "carol", "public/x"));
            String health = text(r, "/healthz");
            assertTrue(
                    health.startsWith("status: degraded")
                            && health.contains("auth.htpasswd.path: degraded (")
                            && health.contains("1 entry left out")
                            && health.contains("line 2 (user carol): only bcrypt"),
                    health);
            String metrics = text(r, "/metrics");
            assertTrue(metrics.contains("berth_auth_file_entries_left_out{file=\"auth.htpasswd.path\"} 1.0"), metrics);
            assertTrue(metrics.contains("berth_auth_file_failed{file=\"auth.htpasswd.path\"} 0.0"), metrics);

            // the policy: alice's grant removed and a broken rule added in one edit — the removal applies
            rewrite(policy, POLICY.replace("subjects: [alice]", "subjects: [dave]") + """
                      - repositories: ["team-c/**"]
                        subjects: [alice]
                        actions: [pull, psuh]
                    """);
            await(() -> push(r, "alice", "team-a/app"), 403, "alice's grant was removed from the policy");
            assertEquals(202, push(r, "alice", "public/x"), "the other rules apply");
            assertEquals(403, push(r, "alice", "team-c/x"), "the broken rule is left out");
            health = text(r, "/healthz");
            assertTrue(
                    health.contains("auth.policy: degraded (")
                            && health.contains("rules[3]")
                            && health.contains("rule left out"),
                    health);
            assertTrue(text(r, "/metrics").contains("berth_auth_file_entries_left_out{file=\"auth.policy\"} 1.0"));

            // a policy that does not parse grants nothing (fail closed) until it does
            rewrite(policy, "rules: [ {repositories: [\"**\"], subjects: [alice]\n");
            await(() -> push(r, "alice", "public/x"), 403, "a policy that does not parse grants nothing");
            health = text(r, "/healthz");
            assertTrue(
                    health.contains("auth.policy: degraded (")
                            && health.contains("not applied since")
                            && health.contains("nothing is granted by it")
                            && health.contains("not valid YAML"),
                    health);
            assertTrue(text(r, "/metrics").contains("berth_auth_file_failed{file=\"auth.policy\"} 1.0"));
            rewrite(policy, POLICY);
            await(() -> push(r, "alice", "team-a/app"), 202, "the policy applies again");

            // an htpasswd file that is gone: nobody logs in with a password until it is back
            Files.delete(users);
            await(() -> push(r, "alice", "team-a/app"), 401, "no htpasswd file, no users");
            assertTrue(text(r, "/healthz").contains("no user can log in with a password"), text(r, "/healthz"));
            assertTrue(text(r, "/metrics").contains("berth_auth_file_failed{file=\"auth.htpasswd.path\"} 1.0"));
            rewrite(users, line("alice") + line("bob"));
            await(() -> push(r, "bob", "team-b/app"), 202, "the file is back");
            health = text(r, "/healthz");
            assertTrue(health.startsWith("status: ok"), health);
            assertTrue(health.contains("auth.htpasswd.path: ok") && health.contains("auth.policy: ok"), health);
        }
    }
}
