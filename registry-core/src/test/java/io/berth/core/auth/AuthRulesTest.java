package io.berth.core.auth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.security.crypto.bcrypt.BCrypt;

/** The rules of access control on their own: policy subjects and globs, htpasswd files, credentials. */
class AuthRulesTest {
    @TempDir
    Path dir;

    AccessPolicy policy(String yaml) throws Exception {
        Path f = dir.resolve("policy-" + System.nanoTime() + ".yaml");
        Files.writeString(f, yaml);
        return AccessPolicy.load(f);
    }

    @Test
    void subjectsNameUsersRobotsGroupsAnonymousAndEveryone() throws Exception {
        AccessPolicy p = policy("""
                groups:
                  release: [carol, "robot:ci"]
                rules:
                  - repositories: ["team-a/**"]
                    subjects: ["group:release"]
                    actions: [pull, push]
                  - repositories: ["team-a/*"]
                    subjects: ["user:ci"]
                    actions: [delete]
                  - repositories: ["public/**", "docs"]
                    subjects: [anonymous]
                    actions: [pull]
                  - repositories: ["**"]
                    subjects: [authenticated]
                    actions: [pull]
                  - repositories: ["*"]
                    subjects: [root]
                    actions: [admin]
                  - repositories: ["open/**"]
                    subjects: ["*"]
                    actions: ["*"]
                """);
        assertEquals(EnumSet.of(Action.PULL, Action.PUSH), p.granted(Principal.user("carol"), "team-a/x/y"));
        assertEquals(EnumSet.of(Action.PULL, Action.PUSH), p.granted(Principal.robot("ci"), "team-a/x"));
        // user:ci is the user ci, not the robot of that name
        assertEquals(EnumSet.of(Action.PULL, Action.DELETE), p.granted(Principal.user("ci"), "team-a/x"));
        assertEquals(EnumSet.of(Action.PULL), p.granted(Principal.user("ci"), "team-a/x/y"), "* stays within a level");
        assertEquals(EnumSet.of(Action.PULL), p.granted(Principal.ANONYMOUS, "public/a/b"));
        assertEquals(EnumSet.of(Action.PULL), p.granted(Principal.ANONYMOUS, "docs"));
        assertEquals(Set.of(), p.granted(Principal.ANONYMOUS, "docs/x"));
        assertEquals(Set.of(), p.granted(Principal.ANONYMOUS, "team-a/x"));
        assertEquals(EnumSet.of(Action.PULL, Action.ADMIN), p.granted(Principal.user("root"), AccessPolicy.EVERYTHING),
                "a rule for '*' grants admin");
        assertEquals(EnumSet.allOf(Action.class), p.granted(Principal.ANONYMOUS, "open/x"), "'*' is everyone, every action");
        assertFalse(p.granted(Principal.user("carol"), "team-a").contains(Action.ADMIN));
    }

    @Test
    void mistakesInAPolicyNameTheKey() {
        assertTrue(assertThrows(IllegalArgumentException.class, () -> policy("rules:\n  - subjects: [a]\n"
                + "    actions: [pull]\n")).getMessage().contains("rules[0].repositories"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> policy("rules:\n  - repositories: [a]\n"
                + "    subjects: [a]\n    actions: [fly]\n")).getMessage().contains("unknown action 'fly'"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> policy("rules:\n  - repositories: [a]\n"
                + "    subjects: [\"group:x\"]\n    actions: [pull]\n")).getMessage().contains("group 'x'"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> policy("rules: [\n")).getMessage()
                .contains("not valid YAML: line"));
        // a glob no repository name can match, or one that would quietly match the admin repository "*"
        String bad = assertThrows(IllegalArgumentException.class, () -> policy("rules:\n  - repositories: "
                + "[\"public/\"]\n    subjects: [anonymous]\n    actions: [pull]\n")).getMessage();
        assertTrue(bad.contains("rules[0].repositories") && bad.contains("empty component"), bad);
        bad = assertThrows(IllegalArgumentException.class, () -> policy("rules:\n  - repositories: "
                + "[\"?\"]\n    subjects: [alice]\n    actions: [admin]\n")).getMessage();
        assertTrue(bad.contains("rules[0].repositories '?' is not a repository glob"), bad);
    }

    @Test
    void starStarStandsForWholeComponents() throws Exception {
        AccessPolicy p = policy("""
                rules:
                  - repositories: ["**/public"]
                    subjects: [anonymous]
                    actions: [pull]
                """);
        assertEquals(EnumSet.of(Action.PULL), p.granted(Principal.ANONYMOUS, "team/public"));
        assertEquals(EnumSet.of(Action.PULL), p.granted(Principal.ANONYMOUS, "public"));
        assertEquals(Set.of(), p.granted(Principal.ANONYMOUS, "private/notpublic"));
        assertEquals(Set.of(), p.granted(Principal.ANONYMOUS, "publicity"));
        assertEquals(Set.of(), p.granted(Principal.ANONYMOUS, "public/x"));
    }

    @Test
    void htpasswdTakesBcryptOnlyAndVerifies() throws Exception {
        Path f = dir.resolve("users");
        Files.writeString(f, "# users\n\nalice:" + BCrypt.hashpw("secret", BCrypt.gensalt(4)).replace("$2a$", "$2y$")
                + "\n");
        Htpasswd h = Htpasswd.load(f);
        assertEquals(1, h.size());
        assertTrue(h.verify("alice", "secret"));
        assertTrue(h.verify("alice", "secret"), "remembered");
        assertFalse(h.verify("alice", "Secret"));
        assertFalse(h.verify("bob", "secret"));
        Files.writeString(f, "bob:{SHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g=\n");
        assertTrue(assertThrows(IllegalArgumentException.class, () -> Htpasswd.load(f)).getMessage()
                .contains("line 1 (user bob): only bcrypt"));
        Files.writeString(f, "robot:x:" + BCrypt.hashpw("s", BCrypt.gensalt(4)) + "\n");
        assertThrows(IllegalArgumentException.class, () -> Htpasswd.load(f));
    }

    @Test
    void basicCredentialsOfUsersAndRobots() {
        String robot = "Basic " + java.util.Base64.getEncoder().encodeToString("robot:ci:berth_a:b".getBytes());
        assertEquals(Optional.of(new AccessControl.Credentials("robot:ci", "berth_a:b")), AccessControl.basic(robot));
        String user = "basic " + java.util.Base64.getEncoder().encodeToString("alice:pa:ss".getBytes());
        assertEquals(Optional.of(new AccessControl.Credentials("alice", "pa:ss")), AccessControl.basic(user));
        assertEquals(Optional.empty(), AccessControl.basic("Basic !!!"));
        assertEquals(Optional.empty(), AccessControl.basic("Bearer x"));
        assertFalse(new AccessControl.Credentials("alice", "hunter2").toString().contains("hunter2"));
        assertEquals(Principal.robot("ci"), Principal.named("robot:ci"));
        assertEquals("robot:ci", Principal.robot("ci").subject());
    }

    @Test
    void failuresWaitLongerEachTimeUpToALimit() {
        LoginThrottle t = new LoginThrottle();
        assertEquals(200, t.failed("1.2.3.4", "bob"));
        assertEquals(400, t.failed("1.2.3.4", "bob"));
        assertEquals(800, t.failed("1.2.3.4", "bob"));
        assertEquals(200, t.failed("1.2.3.4", "alice"), "per user");
        assertEquals(200, t.failed("5.6.7.8", "bob"), "per client");
        for (int i = 0; i < 20; i++) {
            t.failed("1.2.3.4", "bob");
        }
        assertEquals(LoginThrottle.MAX_DELAY_MILLIS, t.failed("1.2.3.4", "bob"));
        t.succeeded("1.2.3.4", "bob");
        assertEquals(200, t.failed("1.2.3.4", "bob"));
    }
}
