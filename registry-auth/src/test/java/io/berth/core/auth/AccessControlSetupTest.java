package io.berth.core.auth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.berth.core.config.BerthConfig;
import io.berth.core.metadata.sqlite.SqliteMetadataStore;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPairGenerator;
import java.time.Clock;
import java.time.Duration;
import java.util.Base64;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.security.crypto.bcrypt.BCrypt;

/** The modes of access control as {@code auth.*} sets them up, and what each refuses to start with. */
class AccessControlSetupTest {
    @TempDir
    Path dir;

    SqliteMetadataStore metadata;
    Robots robots;
    Path users;

    @BeforeEach
    void open() throws Exception {
        metadata = new SqliteMetadataStore(dir.resolve("berth.db"));
        robots = new Robots(metadata, Clock.systemUTC());
        users = dir.resolve("users");
        Files.writeString(users, "alice:" + BCrypt.hashpw("alice-pw", BCrypt.gensalt(4)) + "\n");
    }

    @AfterEach
    void close() throws Exception {
        metadata.close();
    }

    AccessControl from(String... keysAndValues) {
        Map<String, String> cfg = new HashMap<>();
        for (int i = 0; i < keysAndValues.length; i += 2) {
            cfg.put(keysAndValues[i], keysAndValues[i + 1]);
        }
        // never ./data of the working directory, even when a mutant of PIT creates a key where none is asked for
        cfg.putIfAbsent(
                "auth.token.key-file", dir.resolve("default-token-key.pem").toString());
        return AccessControl.from(BerthConfig.of(cfg), robots, Clock.systemUTC());
    }

    String refusal(String... keysAndValues) {
        return assertThrows(IllegalArgumentException.class, () -> from(keysAndValues))
                .getMessage();
    }

    static String basic(String userAndPassword) {
        return "Basic " + Base64.getEncoder().encodeToString(userAndPassword.getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void withAccessControlOffAnyoneMayPullPushAndDeleteButNotAdminister() {
        for (AccessControl off : List.of(AccessControl.none(robots), from("auth.type", "none"))) {
            assertFalse(off.enabled());
            assertEquals(AccessControl.Mode.NONE, off.mode());
            assertEquals(
                    EnumSet.of(Action.PULL, Action.PUSH, Action.DELETE), off.granted(Principal.ANONYMOUS, "any/repo"));
            assertFalse(off.may(Principal.ANONYMOUS, AccessPolicy.EVERYTHING, Action.ADMIN));
            assertTrue(off.tokens().isEmpty());
            assertEquals(List.of(), off.files());
            assertEquals("auth none (anyone may push)", off.describe());
        }
    }

    @Test
    void aPasswordModeWithoutAFileOfUsersDoesNotStart() {
        assertEquals(
                "auth.type htpasswd needs auth.htpasswd.path (a file of users, htpasswd -B)",
                refusal("auth.type", "htpasswd"));
        assertEquals(
                "auth.type token needs auth.htpasswd.path (a file of users, htpasswd -B)",
                refusal(
                        "auth.type",
                        "token",
                        "auth.token.key-file",
                        dir.resolve("key.pem").toString()));
    }

    @Test
    void htpasswdModeNamesItsFilesAndLetsAuthenticatedUsersWriteByDefault() throws Exception {
        AccessControl ac = from("auth.type", "htpasswd", "auth.htpasswd.path", users.toString());
        assertTrue(ac.enabled());
        assertTrue(ac.tokens().isEmpty(), "no tokens without the token flow");
        assertEquals("auth htpasswd " + users + ", policy: authenticated users may pull, push, delete", ac.describe());
        assertEquals(List.of(users), ac.files().stream().map(WatchedFile::path).toList());
        assertEquals(EnumSet.of(Action.PULL, Action.PUSH, Action.DELETE), ac.granted(Principal.user("alice"), "a/b"));
        assertEquals(Set.of(), ac.granted(Principal.ANONYMOUS, "a/b"), "anonymous callers get nothing by default");

        Path policy = dir.resolve("policy.yaml");
        Files.writeString(policy, """
                rules:
                  - repositories: ["public/**"]
                    subjects: [anonymous]
                    actions: [pull]
                """);
        AccessControl withPolicy =
                from("auth.type", "htpasswd", "auth.htpasswd.path", users.toString(), "auth.policy", policy.toString());
        assertEquals("auth htpasswd " + users + ", policy " + policy, withPolicy.describe());
        assertEquals(
                List.of(users, policy),
                withPolicy.files().stream().map(WatchedFile::path).toList());
        assertEquals(EnumSet.of(Action.PULL), withPolicy.granted(Principal.ANONYMOUS, "public/x"));
        assertEquals(Set.of(), withPolicy.granted(Principal.user("alice"), "a/b"), "the policy replaces the default");
    }

    @Test
    void berthIssuesTokensWithTheConfiguredLifetimeServiceAndAKeyItCreates() throws Exception {
        Path key = dir.resolve("token-key.pem");
        AccessControl ac = from(
                "auth.type",
                "token",
                "auth.htpasswd.path",
                users.toString(),
                "auth.token.key-file",
                key.toString(),
                "auth.token.lifetime",
                "2m",
                "auth.token.service",
                "reg.example");
        TokenService tokens = ac.tokens().orElseThrow();
        assertTrue(tokens.issues());
        assertEquals(Duration.ofMinutes(2), tokens.lifetime());
        assertEquals("reg.example", tokens.service());
        assertTrue(Files.exists(key), "the signing key is created when absent");
        assertEquals(
                "auth token issued by /auth/token users " + users
                        + ", policy: authenticated users may pull, push, delete",
                ac.describe());
        assertEquals("", ac.realm());

        Path notAKey = dir.resolve("not-a-key.pem");
        Files.writeString(notAKey, "hello\n");
        assertTrue(refusal(
                        "auth.type",
                        "token",
                        "auth.htpasswd.path",
                        users.toString(),
                        "auth.token.key-file",
                        notAKey.toString())
                .startsWith("cannot use auth.token.key-file " + notAKey + ": "));
    }

    @Test
    void anExternalIssuerNeedsItsRealmAndAKeyThatReads() throws Exception {
        Path pub = dir.resolve("issuer.pem");
        byte[] der = KeyPairGenerator.getInstance("RSA")
                .generateKeyPair()
                .getPublic()
                .getEncoded();
        Files.writeString(
                pub,
                "-----BEGIN PUBLIC KEY-----\n" + Base64.getMimeEncoder().encodeToString(der)
                        + "\n-----END PUBLIC KEY-----\n");
        assertEquals(
                "auth.token.public-key (an external issuer) needs auth.token.realm, the issuer's token URL",
                refusal("auth.type", "token", "auth.token.public-key", pub.toString()));
        Path missing = dir.resolve("missing.pem");
        assertTrue(refusal(
                        "auth.type",
                        "token",
                        "auth.token.public-key",
                        missing.toString(),
                        "auth.token.realm",
                        "https://auth.example/token")
                .startsWith("cannot use auth.token.public-key " + missing + ": "));

        // no users of its own: logins go to the issuer
        AccessControl ac = from(
                "auth.type",
                "token",
                "auth.token.public-key",
                pub.toString(),
                "auth.token.realm",
                "https://auth.example/token");
        assertFalse(ac.tokens().orElseThrow().issues());
        assertEquals("https://auth.example/token", ac.realm());
        assertEquals(
                "auth token from https://auth.example/token, policy: authenticated users may pull, push, delete",
                ac.describe());
        assertEquals(List.of(), ac.files());
        assertEquals(
                new AccessControl.Rejected(),
                ac.login(new AccessControl.Credentials("alice", "alice-pw"), "1.2.3.4"),
                "no password is right without a file of users");
    }

    @Test
    void basicWithNothingInItIsAnonymousNotAFailedLogin() {
        assertTrue(AccessControl.emptyBasic("Basic Og=="), "skopeo --no-creds: ':'");
        assertTrue(AccessControl.emptyBasic("Basic"));
        assertTrue(AccessControl.emptyBasic("basic   "));
        assertTrue(AccessControl.emptyBasic("BASIC " + Base64.getEncoder().encodeToString(":".getBytes())));
        assertFalse(AccessControl.emptyBasic(basic("alice:pw")));
        assertFalse(AccessControl.emptyBasic(basic(":pw")));
        assertFalse(AccessControl.emptyBasic("Basic !!!"), "not base64: a malformed header, not an empty one");
        assertFalse(AccessControl.emptyBasic("Bearer abc"));
        assertFalse(AccessControl.emptyBasic("Basicx"));
        assertFalse(AccessControl.emptyBasic(null));
        assertTrue(AccessControl.basic(basic(":pw")).isEmpty(), "no user name: no credentials");
        assertTrue(AccessControl.basic(basic("alice")).isEmpty(), "no colon");
        assertTrue(AccessControl.basic(null).isEmpty());
    }

    @Test
    void retryAfterIsInWholeSecondsRoundedUpAndNeverZero() {
        assertEquals(1, new AccessControl.Throttled(0, "x").retryAfterSeconds());
        assertEquals(1, new AccessControl.Throttled(1, "x").retryAfterSeconds());
        assertEquals(1, new AccessControl.Throttled(1000, "x").retryAfterSeconds());
        assertEquals(2, new AccessControl.Throttled(1001, "x").retryAfterSeconds());
        assertEquals(60, new AccessControl.Throttled(60_000, "x").retryAfterSeconds());
    }

    @Test
    void wrongSecretsThatAreNoLoginsCountAgainstTheAddressAlone() {
        AccessControl ac = from(
                "auth.type",
                "htpasswd",
                "auth.htpasswd.path",
                users.toString(),
                "auth.login.failures-per-address",
                "2");
        assertTrue(ac.secretRefusal("1.2.3.4").isEmpty());
        ac.failedSecret("1.2.3.4");
        assertTrue(ac.secretRefusal("1.2.3.4").isEmpty());
        ac.failedSecret("1.2.3.4");
        AccessControl.Throttled t = ac.secretRefusal("1.2.3.4").orElseThrow();
        assertEquals("too many failed logins from this address", t.reason());
        assertEquals(1, ac.loginStats().throttled(), "each refusal is counted");
        assertTrue(ac.secretRefusal("5.6.7.8").isEmpty(), "another address is not affected");
        assertEquals(
                new AccessControl.Accepted(Principal.user("alice")),
                ac.login(new AccessControl.Credentials("alice", "alice-pw"), "5.6.7.8"));
        assertTrue(
                ac.login(new AccessControl.Credentials("alice", "alice-pw"), "1.2.3.4")
                        instanceof AccessControl.Throttled,
                "nor does a right password pass a refused address it never proved");
    }

    @Test
    void loginLimitsArePositiveAndPasswordChecksTakeHalfTheMachineUnlessSet() {
        Duration s = Duration.ofSeconds(1);
        for (Runnable bad : List.<Runnable>of(
                () -> new LoginLimits(0, 1, s, 1),
                () -> new LoginLimits(1, 0, s, 1),
                () -> new LoginLimits(1, 1, s, 0),
                () -> new LoginLimits(1, 1, Duration.ZERO, 1),
                () -> new LoginLimits(1, 1, s.negated(), 1))) {
            assertEquals(
                    "login limits must be positive",
                    assertThrows(IllegalArgumentException.class, bad::run).getMessage());
        }
        assertEquals(new LoginLimits(1, 1, s, 1), new LoginLimits(1, 1, s, 1), "the least of each is allowed");
        LoginLimits set = LoginLimits.from(BerthConfig.of(Map.of(
                "auth.login.max-concurrent",
                "3",
                "auth.login.failures-per-address",
                "7",
                "auth.login.failures-per-user",
                "9",
                "auth.login.failure-refill",
                "2m")));
        assertEquals(new LoginLimits(7, 9, Duration.ofMinutes(2), 3), set);
        assertEquals(
                Math.max(1, Runtime.getRuntime().availableProcessors() / 2),
                LoginLimits.defaults().maxConcurrentChecks());
    }
}
