package io.berth.core.auth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.berth.core.config.BerthConfig;
import io.berth.core.metadata.sqlite.SqliteMetadataStore;
import io.berth.core.model.Caller;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
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
        assertEquals(
                EnumSet.of(Action.PULL, Action.ADMIN),
                p.granted(Principal.user("root"), AccessPolicy.EVERYTHING),
                "a rule for '*' grants admin");
        assertEquals(
                EnumSet.allOf(Action.class), p.granted(Principal.ANONYMOUS, "open/x"), "'*' is everyone, every action");
        assertFalse(p.granted(Principal.user("carol"), "team-a").contains(Action.ADMIN));
    }

    @Test
    void robotsAreOnlyEverNamedNeverAuthenticatedOrEveryone() throws Exception {
        AccessPolicy p = policy("""
                groups:
                  release: [carol, "robot:rel"]
                rules:
                  - repositories: ["**"]
                    subjects: [authenticated]
                    actions: [pull, push, delete]
                  - repositories: ["open/**"]
                    subjects: ["*"]
                    actions: ["*"]
                  - repositories: ["team-a/**"]
                    subjects: ["robot:ci"]
                    actions: [push]
                  - repositories: ["rel/**"]
                    subjects: ["group:release"]
                    actions: [pull]
                """);
        Set<Action> write = EnumSet.of(Action.PULL, Action.PUSH, Action.DELETE);
        assertEquals(write, p.granted(Principal.user("alice"), "prod/app"));
        assertEquals(Set.of(), p.granted(Principal.robot("ci"), "prod/app"), "authenticated does not include robots");
        assertEquals(EnumSet.allOf(Action.class), p.granted(Principal.ANONYMOUS, "open/x"));
        assertEquals(Set.of(), p.granted(Principal.robot("ci"), "open/x"), "nor does '*'");
        assertEquals(EnumSet.of(Action.PUSH), p.granted(Principal.robot("ci"), "team-a/x"), "named");
        assertEquals(EnumSet.of(Action.PULL), p.granted(Principal.robot("rel"), "rel/x"), "listed in a group");
        assertEquals(Set.of(), p.granted(Principal.robot("rel"), "team-a/x"));
        assertEquals(
                Set.of(),
                AccessPolicy.authenticatedMayWrite().granted(Principal.robot("ci"), "prod/app"),
                "the default policy gives robots nothing");
        assertEquals(write, AccessPolicy.authenticatedMayWrite().granted(Principal.user("ci"), "prod/app"));
    }

    @Test
    void aRobotMayDoWhatItsGrantsSayPlusRulesNamingIt() throws Exception {
        Path users = dir.resolve("users");
        Files.writeString(users, "alice:" + BCrypt.hashpw("pw", BCrypt.gensalt(4)) + "\n");
        Path policyFile = dir.resolve("named.yaml");
        Files.writeString(policyFile, """
                rules:
                  - repositories: ["**"]
                    subjects: [authenticated]
                    actions: [pull, push, delete]
                  - repositories: ["team-a/**"]
                    subjects: ["robot:ci"]
                    actions: [push]
                """);
        try (SqliteMetadataStore metadata = new SqliteMetadataStore(dir.resolve("berth.db"))) {
            Robots robots = new Robots(metadata, Clock.systemUTC());
            robots.create("ci", List.of("ci/**"), List.of("pull"), "", Caller.internal("test"));
            for (boolean withPolicy : new boolean[] {false, true}) {
                Map<String, String> cfg =
                        new HashMap<>(Map.of("auth.type", "htpasswd", "auth.htpasswd.path", users.toString()));
                if (withPolicy) {
                    cfg.put("auth.policy", policyFile.toString());
                }
                AccessControl ac = AccessControl.from(BerthConfig.of(cfg), robots, Clock.systemUTC());
                Principal ci = Principal.robot("ci");
                assertEquals(EnumSet.of(Action.PULL), ac.granted(ci, "ci/tool"));
                assertEquals(Set.of(), ac.granted(ci, "prod/app"), "policy " + withPolicy);
                assertEquals(withPolicy ? EnumSet.of(Action.PUSH) : Set.of(), ac.granted(ci, "team-a/app"));
                assertEquals(
                        EnumSet.of(Action.PULL, Action.PUSH, Action.DELETE),
                        ac.granted(Principal.user("alice"), "prod/app"));
            }
        }
    }

    @Test
    void mistakesInAPolicyNameTheKey() {
        assertTrue(assertThrows(
                        IllegalArgumentException.class,
                        () -> policy("rules:\n  - subjects: [a]\n" + "    actions: [pull]\n"))
                .getMessage()
                .contains("rules[0].repositories"));
        assertTrue(assertThrows(
                        IllegalArgumentException.class,
                        () -> policy("rules:\n  - repositories: [a]\n" + "    subjects: [a]\n    actions: [fly]\n"))
                .getMessage()
                .contains("unknown action 'fly'"));
        assertTrue(assertThrows(
                        IllegalArgumentException.class,
                        () -> policy("rules:\n  - repositories: [a]\n"
                                + "    subjects: [\"group:x\"]\n    actions: [pull]\n"))
                .getMessage()
                .contains("group 'x'"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> policy("rules: [\n"))
                .getMessage()
                .contains("not valid YAML: line"));
        // a glob no repository name can match, or one that would quietly match the admin repository "*"
        String bad = assertThrows(
                        IllegalArgumentException.class,
                        () -> policy("rules:\n  - repositories: "
                                + "[\"public/\"]\n    subjects: [anonymous]\n    actions: [pull]\n"))
                .getMessage();
        assertTrue(bad.contains("rules[0].repositories") && bad.contains("empty component"), bad);
        bad = assertThrows(
                        IllegalArgumentException.class,
                        () -> policy("rules:\n  - repositories: "
                                + "[\"?\"]\n    subjects: [alice]\n    actions: [admin]\n"))
                .getMessage();
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
        Files.writeString(
                f,
                "# users\n\nalice:" + BCrypt.hashpw("secret", BCrypt.gensalt(4)).replace("$2a$", "$2y$") + "\n");
        Htpasswd h = Htpasswd.load(f);
        PasswordChecks checks = new PasswordChecks(1);
        assertEquals(1, h.size());
        assertFalse(h.remembered("1.2.3.4", "alice", "secret"));
        assertEquals(PasswordChecks.Result.MATCH, h.verify("1.2.3.4", "alice", "secret", checks));
        assertEquals(1, checks.checks());
        assertTrue(h.remembered("1.2.3.4", "alice", "secret"), "remembered for the address that proved it");
        assertEquals(PasswordChecks.Result.MATCH, h.verify("1.2.3.4", "alice", "secret", checks));
        assertEquals(1, checks.checks(), "no second bcrypt check");
        assertFalse(h.remembered("5.6.7.8", "alice", "secret"), "not for another address");
        assertFalse(h.remembered("1.2.3.4", "alice", "Secret"));
        assertEquals(PasswordChecks.Result.MISMATCH, h.verify("1.2.3.4", "alice", "Secret", checks));
        assertEquals(PasswordChecks.Result.MISMATCH, h.verify("1.2.3.4", "bob", "secret", checks));
        assertEquals(3, checks.checks(), "an unknown user costs a check too");
        Files.writeString(f, "bob:{SHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g=\n");
        assertTrue(assertThrows(IllegalArgumentException.class, () -> Htpasswd.load(f))
                .getMessage()
                .contains("line 1 (user bob): only bcrypt"));
        Files.writeString(f, "robot:x:" + BCrypt.hashpw("s", BCrypt.gensalt(4)) + "\n");
        assertThrows(IllegalArgumentException.class, () -> Htpasswd.load(f));
    }

    @Test
    void anUnknownUserIsCheckedAgainstAHashOfTheFilesUsualCost() throws Exception {
        Path f = dir.resolve("costs");
        Files.writeString(
                f,
                "a:" + BCrypt.hashpw("a", BCrypt.gensalt(6)) + "\nb:"
                        + BCrypt.hashpw("b", BCrypt.gensalt(6)).replace("$2a$", "$2y$") + "\nc:"
                        + BCrypt.hashpw("c", BCrypt.gensalt(4)) + "\n");
        Htpasswd h = Htpasswd.load(f);
        assertEquals(6, h.dummyCost(), "the cost most entries have");
        assertEquals(
                12,
                Htpasswd.typicalCost(
                        List.of("$2y$12$" + "x".repeat(53), "$2y$12$" + "y".repeat(53), "$2y$05$" + "z".repeat(53))));
        assertEquals(10, Htpasswd.typicalCost(List.of()), "an empty file: a cost like docker's docs use");
        // figures, not assertions: an unknown user against a known one, same cost
        PasswordChecks checks = new PasswordChecks(1);
        long known = 0;
        long unknown = 0;
        for (int i = 0; i < 20; i++) {
            long t = System.nanoTime();
            h.verify("1.1.1.1", "a", "wrong", checks);
            known += System.nanoTime() - t;
            t = System.nanoTime();
            h.verify("1.1.1.1", "nobody", "wrong", checks);
            unknown += System.nanoTime() - t;
        }
        System.out.printf(
                "cost-6 check: known user %.2f ms, unknown user %.2f ms (mean of 20)%n", known / 20e6, unknown / 20e6);
        assertEquals(40, checks.checks());
    }

    @Test
    void passwordChecksRunAtMostSoManyAtOnceAndTheRestAreBusy() throws Exception {
        String hash = BCrypt.hashpw("right", BCrypt.gensalt(10));
        PasswordChecks checks = new PasswordChecks(1);
        ExecutorService callers = Executors.newVirtualThreadPerTaskExecutor();
        List<Future<PasswordChecks.Result>> results = new ArrayList<>();
        for (int i = 0; i < 32; i++) {
            results.add(callers.submit(() -> checks.check("wrong", hash)));
        }
        Map<PasswordChecks.Result, Integer> count = new EnumMap<>(PasswordChecks.Result.class);
        for (var r : results) {
            count.merge(r.get(), 1, Integer::sum);
        }
        callers.shutdown();
        assertEquals(1, checks.peakConcurrent(), "one thread: one check at a time");
        assertTrue(
                count.getOrDefault(PasswordChecks.Result.BUSY, 0) >= 32 - 1 - PasswordChecks.QUEUE_PER_THREAD,
                count.toString());
        assertEquals(
                32 - count.getOrDefault(PasswordChecks.Result.BUSY, 0),
                count.getOrDefault(PasswordChecks.Result.MISMATCH, 0));
        assertEquals((long) count.getOrDefault(PasswordChecks.Result.BUSY, 0), checks.busy());
        assertEquals(PasswordChecks.Result.MATCH, checks.check("right", hash));
        assertEquals(PasswordChecks.Result.MISMATCH, checks.check("right", "not a bcrypt hash"));
    }

    @Test
    void basicCredentialsOfUsersAndRobots() {
        String robot = "Basic " + Base64.getEncoder().encodeToString("robot:ci:berth_a:b".getBytes());
        assertEquals(Optional.of(new AccessControl.Credentials("robot:ci", "berth_a:b")), AccessControl.basic(robot));
        String user = "basic " + Base64.getEncoder().encodeToString("alice:pa:ss".getBytes());
        assertEquals(Optional.of(new AccessControl.Credentials("alice", "pa:ss")), AccessControl.basic(user));
        assertEquals(Optional.empty(), AccessControl.basic("Basic !!!"));
        assertEquals(Optional.empty(), AccessControl.basic("Bearer x"));
        assertFalse(new AccessControl.Credentials("alice", "hunter2").toString().contains("hunter2"));
        assertEquals(Principal.robot("ci"), Principal.named("robot:ci"));
        assertEquals("robot:ci", Principal.robot("ci").subject());
    }

    @Test
    void theThrottleRefusesBeforeAnyCheckPerAddressAndPerUser() {
        long[] now = {0};
        LoginThrottle t = new LoginThrottle(new LoginLimits(3, 5, Duration.ofSeconds(1), 1), () -> now[0]);
        for (int i = 0; i < 3; i++) {
            assertEquals(Optional.empty(), t.reserve("1.2.3.4", "bob"), "attempt " + i);
        }
        LoginThrottle.Refusal address = t.reserve("1.2.3.4", "bob").orElseThrow();
        assertEquals("too many failed logins from this address", address.reason());
        assertEquals(1000, address.retryAfterMillis());
        assertTrue(t.addressRefusal("1.2.3.4").isPresent(), "the address is refused before anything is checked");
        assertTrue(t.reserve("1.2.3.4", "alice").isPresent(), "whatever user it tries");
        // from another address, bob's own allowance (5) is what is left of it
        assertEquals(Optional.empty(), t.reserve("5.6.7.8", "bob"));
        assertEquals(Optional.empty(), t.reserve("5.6.7.8", "bob"));
        assertEquals(
                "too many failed logins of this user",
                t.reserve("5.6.7.8", "bob").orElseThrow().reason());
        assertEquals(Optional.empty(), t.reserve("5.6.7.8", "carol"), "other users are not affected");
        assertTrue(t.addressRefusal("5.6.7.8").isPresent(), "three failures from 5.6.7.8 too");
        // right credentials give back what their check took
        t.refund("5.6.7.8", "bob");
        assertEquals(Optional.empty(), t.reserve("5.6.7.8", "bob"));
        // one failure is forgiven per refill interval
        now[0] += 500_000_000L;
        assertEquals(500, t.addressRefusal("1.2.3.4").orElseThrow().retryAfterMillis());
        now[0] += 500_000_000L;
        assertTrue(t.addressRefusal("1.2.3.4").isEmpty());
        assertEquals(Optional.empty(), t.reserve("1.2.3.4", "dave"));
        assertTrue(t.reserve("1.2.3.4", "dave").isPresent());
        // failures that are not logins (admin tokens) count against the address alone
        t.failed("9.9.9.9");
        t.failed("9.9.9.9");
        assertTrue(t.addressRefusal("9.9.9.9").isEmpty());
        t.failed("9.9.9.9");
        assertTrue(t.addressRefusal("9.9.9.9").isPresent());
    }

    @Test
    void theThrottleForgetsTheLeastRecentlyUsedBeyondItsSize() {
        Runtime rt = Runtime.getRuntime();
        System.gc();
        long before = rt.totalMemory() - rt.freeMemory();
        LoginThrottle t = new LoginThrottle(new LoginLimits(1, 1, Duration.ofMinutes(15), 1));
        for (int i = 0; i < 3 * LoginThrottle.MAX_TRACKED; i++) {
            // names at the cap (256 bytes): the largest a map entry can hold
            t.reserve("10.0." + (i >> 8) + "." + (i & 255), String.format("%-256d", i));
        }
        assertEquals(LoginThrottle.MAX_TRACKED, t.tracked()[0]);
        assertEquals(LoginThrottle.MAX_TRACKED, t.tracked()[1]);
        System.gc();
        System.out.printf(
                "the login throttle full (%d addresses, %d names of 256 bytes): about %d KiB of heap%n",
                t.tracked()[0], t.tracked()[1], (rt.totalMemory() - rt.freeMemory() - before) >> 10);
    }

    @Test
    void loginsAreCheckedOnlyWithinTheAllowanceAndNeverSleep() throws Exception {
        Path users = dir.resolve("login-users");
        Files.writeString(users, "alice:" + BCrypt.hashpw("alice-pw", BCrypt.gensalt(4)) + "\n");
        try (SqliteMetadataStore metadata = new SqliteMetadataStore(dir.resolve("login.db"))) {
            Robots robots = new Robots(metadata, Clock.systemUTC());
            AccessControl ac = AccessControl.from(
                    BerthConfig.of(Map.of(
                            "auth.type",
                            "htpasswd",
                            "auth.htpasswd.path",
                            users.toString(),
                            "auth.login.failures-per-address",
                            "10",
                            "auth.login.failures-per-user",
                            "1000",
                            "auth.login.failure-refill",
                            "1h")),
                    robots,
                    Clock.systemUTC());
            Map<String, Integer> outcomes = new TreeMap<>();
            for (int i = 0; i < 201; i++) {
                outcomes.merge(
                        ac.login(new AccessControl.Credentials("alice", "guess-" + i), "1.2.3.4")
                                .getClass()
                                .getSimpleName(),
                        1,
                        Integer::sum);
            }
            assertEquals(Map.of("Rejected", 10, "Throttled", 191), outcomes);
            assertEquals(10, ac.loginStats().passwordChecks(), "191 guesses cost no bcrypt check");
            // the right password from this address too: the address is refused before any check (unless this
            // address proved it lately: see LoginLimitsTest)
            assertTrue(
                    ac.login(new AccessControl.Credentials("alice", "alice-pw"), "1.2.3.4")
                            instanceof AccessControl.Throttled);
            // from elsewhere it works, and is then remembered for that address
            assertEquals(
                    new AccessControl.Accepted(Principal.user("alice")),
                    ac.login(new AccessControl.Credentials("alice", "alice-pw"), "5.6.7.8"));
            assertTrue(ac.remembered(new AccessControl.Credentials("alice", "alice-pw"), "5.6.7.8"));
            assertEquals(11, ac.loginStats().passwordChecks());
            // once 5.6.7.8 is refused too (guessed robot secrets from it), alice's proved password still
            // passes there, but the remembered credentials are no free oracle: each wrong look there costs one of
            // alice's allowance (1000 here, 10 of it taken above), then even the right one waits like any login of hers
            for (int i = 0; i < 10; i++) {
                ac.login(new AccessControl.Credentials("robot:ghost", "berth_guess" + i), "5.6.7.8");
            }
            assertEquals(
                    new AccessControl.Accepted(Principal.user("alice")),
                    ac.login(new AccessControl.Credentials("alice", "alice-pw"), "5.6.7.8"));
            int answered = 0;
            for (int i = 0; i < 1100; i++) {
                if (ac.login(new AccessControl.Credentials("alice", "oracle-" + i), "5.6.7.8")
                                instanceof AccessControl.Throttled t
                        && t.reason().contains("this address")) {
                    answered++;
                }
            }
            assertTrue(answered <= 990, "looks at alice's remembered credentials from a refused address: " + answered);
            assertTrue(
                    ac.login(new AccessControl.Credentials("alice", "alice-pw"), "5.6.7.8")
                            instanceof AccessControl.Throttled,
                    "alice's allowance is used up by the looks");
            // names too long to exist cost nothing and are not tracked
            int trackedUsers = ac.loginStats().trackedUsers();
            assertEquals(
                    new AccessControl.Rejected(),
                    ac.login(new AccessControl.Credentials("u".repeat(64 * 1024), "x"), "7.7.7.7"));
            assertEquals(
                    new AccessControl.Rejected(),
                    ac.login(new AccessControl.Credentials("robot:Not A Name", "x"), "7.7.7.7"));
            assertEquals(11, ac.loginStats().passwordChecks());
            assertEquals(trackedUsers, ac.loginStats().trackedUsers());
            // robot secrets: wrong ones count against the address, never against the robot's name
            String secret = robots.create("ci", List.of("ci/**"), List.of("pull"), "", Caller.internal("test"))
                    .secret();
            for (int i = 0; i < 50; i++) {
                ac.login(new AccessControl.Credentials("robot:ci", "berth_guess" + i), "10.0.0." + (i / 10));
            }
            assertTrue(
                    ac.login(new AccessControl.Credentials("robot:ci", "berth_guess-more"), "10.0.0.0")
                            instanceof AccessControl.Throttled,
                    "an address that guessed is refused");
            assertEquals(
                    new AccessControl.Accepted(Principal.robot("ci")),
                    ac.login(new AccessControl.Credentials("robot:ci", secret), "10.9.9.9"),
                    "the robot itself is not locked out by guesses from elsewhere");
            // nor from the address that guessed (a NAT it shares): its secret cannot be guessed, and one known
            // without reading the database costs nothing to compare
            assertEquals(
                    new AccessControl.Accepted(Principal.robot("ci")),
                    ac.login(new AccessControl.Credentials("robot:ci", secret), "10.0.0.0"));
            assertEquals(11, ac.loginStats().passwordChecks(), "no bcrypt for robots");
        }
    }
}
