package io.berth.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.berth.core.auth.Action;
import io.berth.core.auth.PemKeys;
import io.berth.core.auth.Principal;
import io.berth.core.auth.Robots;
import io.berth.core.auth.TokenService;
import io.berth.core.model.Caller;
import io.berth.core.model.Digest;
import io.berth.core.model.RepositoryName;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.net.URLEncoder;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.spec.ECGenParameterSpec;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Base64;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.IntSupplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.security.crypto.bcrypt.BCrypt;

/**
 * Access control over /v2 and /auth/token, in htpasswd and token modes: a matrix of users ×
 * actions × repositories (every allowed call passes, every other one gets 401 or 403), catalog
 * filtering, mounts from forbidden repositories, bad tokens, robots, the rate limit.
 */
class AccessControlTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    static final String POLICY = """
            groups:
              devs: [alice, bob]
            rules:
              - repositories: ["team-a/**"]
                subjects: ["group:devs", "robot:ci-a"]
                actions: [pull, push, delete]
              - repositories: ["team-a/**"]
                subjects: ["carol"]
                actions: [pull]
              - repositories: ["public/**"]
                subjects: ["anonymous", "authenticated"]
                actions: [pull]
              - repositories: ["public/**"]
                subjects: ["user:alice"]
                actions: [push]
              - repositories: ["team-b/**"]
                subjects: ["dave"]
                actions: [pull, push]
            """;
    static final List<String> USERS = List.of("alice", "bob", "carol", "dave");
    static final List<String> REPOS = List.of("team-a/app", "public/base", "team-b/secret");
    /** Who may do what: user → repository → actions. */
    static final Map<String, Map<String, Set<Action>>> EXPECTED = Map.of(
            "", Map.of("public/base", EnumSet.of(Action.PULL)),
            "alice",
                    Map.of(
                            "team-a/app",
                            EnumSet.of(Action.PULL, Action.PUSH, Action.DELETE),
                            "public/base",
                            EnumSet.of(Action.PULL, Action.PUSH)),
            "bob",
                    Map.of(
                            "team-a/app",
                            EnumSet.of(Action.PULL, Action.PUSH, Action.DELETE),
                            "public/base",
                            EnumSet.of(Action.PULL)),
            "carol", Map.of("team-a/app", EnumSet.of(Action.PULL), "public/base", EnumSet.of(Action.PULL)),
            "dave",
                    Map.of(
                            "public/base",
                            EnumSet.of(Action.PULL),
                            "team-b/secret",
                            EnumSet.of(Action.PULL, Action.PUSH)));

    @TempDir
    static Path dir;

    static TestRegistry basic;
    static TestRegistry token;

    static Path writeUsers(Path dir) throws Exception {
        StringBuilder b = new StringBuilder("# test users\n");
        for (String u : USERS) {
            b.append(u)
                    .append(':')
                    .append(BCrypt.hashpw(password(u), BCrypt.gensalt(4)).replace("$2a$", "$2y$"))
                    .append('\n');
        }
        Path users = dir.resolve("htpasswd");
        Files.writeString(users, b);
        Files.writeString(dir.resolve("policy.yaml"), POLICY);
        return users;
    }

    static String password(String user) {
        return "pw-of-" + user + "-Secr3t";
    }

    @BeforeAll
    static void start() throws Exception {
        Path users = writeUsers(dir);
        basic = new TestRegistry(
                dir.resolve("basic"),
                Map.of(
                        "auth.type",
                        "htpasswd",
                        "auth.htpasswd.path",
                        users.toString(),
                        "auth.policy",
                        dir.resolve("policy.yaml").toString()));
        token = new TestRegistry(
                dir.resolve("token"),
                Map.of(
                        "auth.type",
                        "token",
                        "auth.htpasswd.path",
                        users.toString(),
                        "auth.policy",
                        dir.resolve("policy.yaml").toString(),
                        "auth.token.key-file",
                        dir.resolve("token/key.pem").toString(),
                        "auth.token.service",
                        "registry.test"));
        for (TestRegistry r : List.of(basic, token)) {
            r.authorizeWith(TestRegistry.basic("alice", password("alice")));
            r.pushImage("team-a/app", "v1", "a", "");
            r.pushImage("public/base", "v1", "p", "");
            r.authorizeWith(TestRegistry.basic("dave", password("dave")));
            r.pushImage("team-b/secret", "v1", "s", "");
            r.authorizeWith(null);
        }
    }

    @AfterAll
    static void stop() {
        basic.close();
        token.close();
    }

    private static boolean allowed(String user, String repo, Action a) {
        return EXPECTED.get(user).getOrDefault(repo, Set.of()).contains(a);
    }

    private static HttpResponse<byte[]> attempt(TestRegistry r, String repo, Action a, String authorization) {
        String[] h = authorization == null ? new String[0] : new String[] {"Authorization", authorization};
        return switch (a) {
            case PULL -> r.send("GET", "/v2/" + repo + "/manifests/v1", null, h);
            case PUSH -> r.send("POST", "/v2/" + repo + "/blobs/uploads/", null, h);
            case DELETE -> r.send("DELETE", "/v2/" + repo + "/manifests/sha256:" + "0".repeat(64), null, h);
            case ADMIN -> throw new IllegalArgumentException();
        };
    }

    private static int expectedSuccess(Action a) {
        return switch (a) {
            case PULL -> 200;
            case PUSH -> 202;
            default -> 404;
        };
    }

    @Test
    void basicAuthMatrix() throws Exception {
        List<String> failures = new ArrayList<>();
        for (String user : EXPECTED.keySet()) {
            String auth = user.isEmpty() ? null : TestRegistry.basic(user, password(user));
            for (String repo : REPOS) {
                for (Action a : List.of(Action.PULL, Action.PUSH, Action.DELETE)) {
                    HttpResponse<byte[]> r = attempt(basic, repo, a, auth);
                    int want = allowed(user, repo, a) ? expectedSuccess(a) : user.isEmpty() ? 401 : 403;
                    if (r.statusCode() != want) {
                        failures.add((user.isEmpty() ? "anonymous" : user) + " " + a + " " + repo + ": "
                                + r.statusCode() + " (want " + want + ")");
                    }
                    if (want == 401) {
                        assertEquals(
                                AccessGate.BASIC_REALM,
                                r.headers().firstValue("WWW-Authenticate").orElse(""));
                        assertEquals("UNAUTHORIZED", code(r));
                    }
                    if (want == 403) {
                        assertEquals("DENIED", code(r));
                        assertEquals(
                                "application/json",
                                r.headers().firstValue("Content-Type").orElse(""));
                    }
                }
            }
        }
        assertEquals(List.of(), failures);
        // listings need pull too: tags and referrers
        String dave = TestRegistry.basic("dave", password("dave"));
        assertEquals(
                403,
                basic.get("/v2/team-a/app/tags/list", "Authorization", dave).statusCode());
        assertEquals(
                403,
                basic.get("/v2/team-a/app/referrers/sha256:" + "0".repeat(64), "Authorization", dave)
                        .statusCode());
        assertEquals(
                200,
                basic.get("/v2/team-b/secret/referrers/sha256:" + "0".repeat(64), "Authorization", dave)
                        .statusCode());
        // /v2/ is the login check: 401 without or with wrong credentials, 200 with good ones
        assertEquals(401, basic.get("/v2/").statusCode());
        assertEquals(
                200,
                basic.get("/v2/", "Authorization", TestRegistry.basic("carol", password("carol")))
                        .statusCode());
        HttpResponse<byte[]> wrong = basic.get("/v2/", "Authorization", TestRegistry.basic("carol", "nope"));
        assertEquals(401, wrong.statusCode());
        assertEquals("UNAUTHORIZED", code(wrong));
        assertFalse(new String(wrong.body()).contains("nope"));
        assertEquals(
                401,
                basic.get("/v2/", "Authorization", TestRegistry.basic("mallory", "x"))
                        .statusCode());
        assertEquals(401, basic.get("/v2/", "Authorization", "Basic %%%").statusCode());
    }

    @Test
    void tokenFlowMatrix() throws Exception {
        List<String> failures = new ArrayList<>();
        for (String user : EXPECTED.keySet()) {
            for (String repo : REPOS) {
                String jwt = tokenFor(user, "repository:" + repo + ":pull,push,delete");
                JsonNode access = claims(jwt).get("access");
                Set<String> granted = new TreeSet<>();
                access.forEach(e -> e.get("actions").forEach(x -> granted.add(x.asText())));
                Set<String> want = new TreeSet<>();
                EXPECTED.get(user).getOrDefault(repo, Set.of()).forEach(x -> want.add(x.wire()));
                if (!granted.equals(want)) {
                    failures.add("token of " + user + " for " + repo + " grants " + granted + ", want " + want);
                }
                for (Action a : List.of(Action.PULL, Action.PUSH, Action.DELETE)) {
                    HttpResponse<byte[]> r = attempt(token, repo, a, "Bearer " + jwt);
                    int want2 = allowed(user, repo, a) ? expectedSuccess(a) : user.isEmpty() ? 401 : 403;
                    if (r.statusCode() != want2) {
                        failures.add((user.isEmpty() ? "anonymous" : user) + " " + a + " " + repo + ": "
                                + r.statusCode() + " (want " + want2 + ")");
                    }
                }
            }
        }
        assertEquals(List.of(), failures);
    }

    @Test
    void tokenChallengesNameRealmServiceAndScope() throws Exception {
        HttpResponse<byte[]> base = token.get("/v2/");
        assertEquals(401, base.statusCode());
        String realm = "http://127.0.0.1:" + token.port() + "/auth/token";
        assertEquals(
                "Bearer realm=\"" + realm + "\",service=\"registry.test\"",
                base.headers().firstValue("WWW-Authenticate").orElseThrow());
        assertEquals("UNAUTHORIZED", code(base));
        HttpResponse<byte[]> push = token.send("POST", "/v2/team-a/app/blobs/uploads/", null);
        assertEquals(
                "Bearer realm=\"" + realm + "\",service=\"registry.test\",scope=\"repository:team-a/app:pull,push\"",
                push.headers().firstValue("WWW-Authenticate").orElseThrow());
        HttpResponse<byte[]> del = token.send("DELETE", "/v2/team-a/app/manifests/v1", null);
        assertTrue(del.headers()
                .firstValue("WWW-Authenticate")
                .orElseThrow()
                .endsWith("scope=\"repository:team-a/app:delete\""));
        // HEAD gets the same status and challenge, and no body
        HttpResponse<byte[]> head = token.send("HEAD", "/v2/team-a/app/manifests/v1", null);
        assertEquals(401, head.statusCode());
        assertEquals(0, head.body().length);
        // anonymous pulls of public repositories need no token at all
        assertEquals(200, token.get("/v2/public/base/manifests/v1").statusCode());
        // a token without the scope → 401 asking for it; the user may push, so the client gets a better token
        String pullOnly = tokenFor("alice", "repository:team-a/app:pull");
        HttpResponse<byte[]> more =
                token.send("POST", "/v2/team-a/app/blobs/uploads/", null, "Authorization", "Bearer " + pullOnly);
        assertEquals(401, more.statusCode());
        assertTrue(
                more.headers().firstValue("WWW-Authenticate").orElseThrow().contains("error=\"insufficient_scope\""));
        // a scope for another repository does not carry over
        assertEquals(
                403,
                token.get("/v2/team-b/secret/manifests/v1", "Authorization", "Bearer " + pullOnly)
                        .statusCode());
        // a valid token of any scope passes /v2/ (docker login)
        assertEquals(
                200,
                token.get("/v2/", "Authorization", "Bearer " + tokenFor("carol", null))
                        .statusCode());
        // wrong credentials at the token endpoint: 401 UNAUTHORIZED, slowed down
        HttpResponse<byte[]> bad =
                token.get("/auth/token?service=registry.test", "Authorization", TestRegistry.basic("carol", "wrong"));
        assertEquals(401, bad.statusCode());
        assertEquals("UNAUTHORIZED", code(bad));
        assertEquals(400, token.get("/auth/token?service=elsewhere").statusCode());
        assertEquals(404, basic.get("/auth/token?service=registry.test").statusCode());
    }

    @Test
    void refusalsAreFramedExactlyOnOneKeepAliveConnection() throws Exception {
        // HEAD and GET refusals (401 with a challenge, 403) followed by allowed requests on the same socket:
        // every answer parses exactly, HEAD answers carry no body, the connection stays usable
        String carol = TestRegistry.basic("carol", password("carol"));
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), token.port())) {
            s.setSoTimeout(10_000);
            InputStream in = s.getInputStream();
            OutputStream out = s.getOutputStream();
            String host = "Host: 127.0.0.1:" + token.port() + "\r\n";
            SendfileTest.write(out, "HEAD /v2/team-a/app/manifests/v1 HTTP/1.1\r\n" + host + "\r\n");
            SendfileTest.Response head401 = SendfileTest.read(in, true);
            assertEquals("HTTP/1.1 401 Unauthorized", head401.status());
            assertTrue(head401.headers().get("www-authenticate").contains("scope=\"repository:team-a/app:pull\""));
            SendfileTest.write(out, "GET /v2/team-a/app/manifests/v1 HTTP/1.1\r\n" + host + "\r\n");
            SendfileTest.Response get401 = SendfileTest.read(in, false);
            assertEquals("HTTP/1.1 401 Unauthorized", get401.status());
            assertTrue(new String(get401.body(), StandardCharsets.UTF_8).contains("\"UNAUTHORIZED\""));
            SendfileTest.write(
                    out,
                    "HEAD /v2/team-b/secret/manifests/v1 HTTP/1.1\r\n" + host + "Authorization: " + carol + "\r\n\r\n");
            assertEquals("HTTP/1.1 403 Forbidden", SendfileTest.read(in, true).status());
            SendfileTest.write(
                    out,
                    "DELETE /v2/team-a/app/manifests/v1 HTTP/1.1\r\n" + host + "Authorization: " + carol + "\r\n\r\n");
            SendfileTest.Response get403 = SendfileTest.read(in, false);
            assertEquals("HTTP/1.1 403 Forbidden", get403.status());
            assertTrue(new String(get403.body(), StandardCharsets.UTF_8).contains("\"DENIED\""));
            SendfileTest.write(
                    out,
                    "GET /v2/team-a/app/manifests/v1 HTTP/1.1\r\n" + host + "Authorization: " + carol
                            + "\r\nAccept: application/vnd.oci.image.manifest.v1+json\r\n\r\n");
            assertEquals("HTTP/1.1 200 OK", SendfileTest.read(in, false).status());
        }
    }

    /**
     * skopeo {@code --no-creds} sends {@code Authorization: Basic Og==} (an empty name and password),
     * podman without a login {@code Basic } with nothing after it: no credentials, so anonymous — a
     * public repository pulls, a private one gets the 401 challenge (not "unsupported Authorization
     * header"), and the token endpoint issues an anonymous token.
     */
    @Test
    void emptyBasicCredentialsAreAnonymous() throws Exception {
        for (String empty : List.of("Basic Og==", "Basic ", "Basic", "basic  Og==  ")) {
            try (Socket s = new Socket(InetAddress.getLoopbackAddress(), basic.port())) {
                s.setSoTimeout(10_000);
                String head = "Host: 127.0.0.1:" + basic.port() + "\r\nAuthorization: " + empty + "\r\nAccept: "
                        + "application/vnd.oci.image.manifest.v1+json\r\n\r\n";
                SendfileTest.write(s.getOutputStream(), "GET /v2/public/base/manifests/v1 HTTP/1.1\r\n" + head);
                assertEquals(
                        "HTTP/1.1 200 OK",
                        SendfileTest.read(s.getInputStream(), false).status(),
                        empty);
                SendfileTest.write(s.getOutputStream(), "GET /v2/team-a/app/manifests/v1 HTTP/1.1\r\n" + head);
                SendfileTest.Response refused = SendfileTest.read(s.getInputStream(), false);
                assertEquals("HTTP/1.1 401 Unauthorized", refused.status(), empty);
                String body = new String(refused.body(), StandardCharsets.UTF_8);
                assertTrue(body.contains("authentication required"), empty + ": " + body);
                assertTrue(refused.headers().get("www-authenticate").startsWith("Basic realm="), empty);
            }
        }
        // the token flow: an anonymous token with the anonymous caller's grants
        HttpResponse<byte[]> issued = token.send(
                "GET",
                "/auth/token?service=registry.test&scope=repository:" + "public/base:pull",
                null,
                "Authorization",
                "Basic Og==");
        assertEquals(200, issued.statusCode(), new String(issued.body(), StandardCharsets.UTF_8));
        String jwt = JSON.readTree(issued.body()).get("token").asText();
        assertEquals(
                200,
                token.send(
                                "GET",
                                "/v2/public/base/manifests/v1",
                                null,
                                "Authorization",
                                "Bearer " + jwt,
                                "Accept",
                                "application/vnd.oci.image.manifest.v1+json")
                        .statusCode());
        assertEquals(
                401,
                token.send("GET", "/v2/team-a/app/manifests/v1", null, "Authorization", "Bearer " + jwt)
                        .statusCode());
    }

    @Test
    void oauthPostFormAsContainerdSendsIt() throws Exception {
        String form = "grant_type=password&service=registry.test&client_id=containerd&username=bob&password="
                + URLEncoder.encode(password("bob"), StandardCharsets.UTF_8) + "&scope="
                + URLEncoder.encode(
                        "repository:team-a/app:pull,push repository:public/base:pull", StandardCharsets.UTF_8);
        HttpResponse<byte[]> r = token.send(
                "POST",
                "/auth/token",
                form.getBytes(StandardCharsets.UTF_8),
                "Content-Type",
                "application/x-www-form-urlencoded");
        assertEquals(200, r.statusCode(), new String(r.body()));
        JsonNode body = JSON.readTree(r.body());
        assertTrue(body.get("expires_in").asLong() > 0);
        String jwt = body.get("access_token").asText();
        assertEquals("bob", claims(jwt).get("sub").asText());
        assertEquals(
                202,
                token.send("POST", "/v2/team-a/app/blobs/uploads/", null, "Authorization", "Bearer " + jwt)
                        .statusCode());
        assertEquals(
                200,
                token.get("/v2/public/base/manifests/v1", "Authorization", "Bearer " + jwt)
                        .statusCode());
        HttpResponse<byte[]> wrong = token.send(
                "POST",
                "/auth/token",
                "grant_type=password&username=bob&password=x".getBytes(StandardCharsets.UTF_8),
                "Content-Type",
                "application/x-www-form-urlencoded");
        assertEquals(401, wrong.statusCode());
        HttpResponse<byte[]> refresh = token.send(
                "POST",
                "/auth/token",
                "grant_type=refresh_token&refresh_token=x".getBytes(StandardCharsets.UTF_8),
                "Content-Type",
                "application/x-www-form-urlencoded");
        assertEquals(400, refresh.statusCode());
        assertEquals(
                "unsupported_grant_type",
                JSON.readTree(refresh.body()).get("error").asText());
    }

    @Test
    void badTokensAreRefused() throws Exception {
        KeyPair real = PemKeys.loadOrCreateEc(dir.resolve("token/key.pem"));
        KeyPairGenerator gen = KeyPairGenerator.getInstance("EC");
        gen.initialize(new ECGenParameterSpec("secp256r1"));
        KeyPair other = gen.generateKeyPair();
        Map<String, Set<Action>> grant = Map.of("team-a/app", EnumSet.of(Action.PULL));
        Clock past = Clock.fixed(Instant.now().minus(Duration.ofHours(1)), ZoneOffset.UTC);
        Map<String, String> bad = new LinkedHashMap<>();
        bad.put(
                "expired",
                TokenService.issuing(real, "berth", "registry.test", Duration.ofMinutes(5), past)
                        .issue(Principal.user("alice"), grant, false));
        bad.put(
                "forged",
                TokenService.issuing(other, "berth", "registry.test", Duration.ofMinutes(5), Clock.systemUTC())
                        .issue(Principal.user("alice"), grant, false));
        bad.put(
                "wrong audience",
                TokenService.issuing(real, "berth", "other-registry", Duration.ofMinutes(5), Clock.systemUTC())
                        .issue(Principal.user("alice"), grant, false));
        bad.put(
                "wrong issuer",
                TokenService.issuing(real, "mallory", "registry.test", Duration.ofMinutes(5), Clock.systemUTC())
                        .issue(Principal.user("alice"), grant, false));
        String good = tokenFor("carol", "repository:team-a/app:pull");
        String[] parts = good.split("\\.");
        String payload = new String(Base64.getUrlDecoder().decode(parts[1]), StandardCharsets.UTF_8)
                .replace("\"carol\"", "\"alice\"")
                .replace("[\"pull\"]", "[\"pull\",\"push\"]");
        bad.put(
                "tampered",
                parts[0] + "."
                        + Base64.getUrlEncoder()
                                .withoutPadding()
                                .encodeToString(payload.getBytes(StandardCharsets.UTF_8))
                        + "." + parts[2]);
        bad.put(
                "alg none",
                Base64.getUrlEncoder()
                                .withoutPadding()
                                .encodeToString("{\"alg\":\"none\"}".getBytes(StandardCharsets.UTF_8))
                        + "." + parts[1] + ".");
        bad.put("garbage", "not-a-token");
        for (Map.Entry<String, String> e : bad.entrySet()) {
            HttpResponse<byte[]> r =
                    token.get("/v2/team-a/app/manifests/v1", "Authorization", "Bearer " + e.getValue());
            assertEquals(401, r.statusCode(), e.getKey());
            assertTrue(
                    r.headers().firstValue("WWW-Authenticate").orElseThrow().contains("error=\"invalid_token\""),
                    e.getKey());
            assertEquals("UNAUTHORIZED", code(r), e.getKey());
        }
        // the real one of the same shape passes
        assertEquals(
                200,
                token.get("/v2/team-a/app/manifests/v1", "Authorization", "Bearer " + good)
                        .statusCode());
    }

    @Test
    void catalogListsOnlyWhatTheCallerMayPull() throws Exception {
        // htpasswd mode: the catalog needs credentials (docs/access.md), as /v2/ does
        HttpResponse<byte[]> anonymous = basic.get("/v2/_catalog?n=1");
        assertEquals(401, anonymous.statusCode());
        assertEquals(
                AccessGate.BASIC_REALM,
                anonymous.headers().firstValue("WWW-Authenticate").orElseThrow());
        assertEquals(
                "UNAUTHORIZED",
                JSON.readTree(anonymous.body()).get("errors").get(0).get("code").asText());
        assertEquals(
                List.of("public/base", "team-a/app"), catalog(basic, TestRegistry.basic("carol", password("carol"))));
        assertEquals(
                List.of("public/base", "team-b/secret"), catalog(basic, TestRegistry.basic("dave", password("dave"))));
        // paging still fills pages with visible names
        HttpResponse<byte[]> page = basic.get(
                "/v2/_catalog?n=1&last=public/base", "Authorization", TestRegistry.basic("dave", password("dave")));
        assertEquals(
                "[\"team-b/secret\"]",
                JSON.readTree(page.body()).get("repositories").toString());
        // token mode: the catalog scope, then the caller's own pull rights
        assertEquals(401, token.get("/v2/_catalog").statusCode());
        assertTrue(token.get("/v2/_catalog")
                .headers()
                .firstValue("WWW-Authenticate")
                .orElseThrow()
                .contains("scope=\"registry:catalog:*\""));
        assertEquals(List.of("public/base"), catalog(token, "Bearer " + tokenFor("", "registry:catalog:*")));
        assertEquals(
                List.of("public/base", "team-a/app"),
                catalog(token, "Bearer " + tokenFor("alice", "registry:catalog:*")));
    }

    @Test
    void mountNeedsPullOnTheSource() {
        String alice = TestRegistry.basic("alice", password("alice"));
        byte[] secretLayer = "layer of s".getBytes(StandardCharsets.UTF_8);
        byte[] publicLayer = "layer of p".getBytes(StandardCharsets.UTF_8);
        HttpResponse<byte[]> forbidden = basic.send(
                "POST",
                "/v2/team-a/app/blobs/uploads/?mount=" + TestRegistry.sha256(secretLayer) + "&from=team-b/secret",
                null,
                "Authorization",
                alice);
        assertEquals(202, forbidden.statusCode(), "falls back to an upload");
        HttpResponse<byte[]> noFrom = basic.send(
                "POST",
                "/v2/team-a/app/blobs/uploads/?mount=" + TestRegistry.sha256(secretLayer),
                null,
                "Authorization",
                alice);
        assertEquals(202, noFrom.statusCode(), "a digest alone reaches no repository");
        assertEquals(
                403,
                basic.send(
                                "HEAD",
                                "/v2/team-a/app/blobs/" + TestRegistry.sha256(secretLayer),
                                null,
                                "Authorization",
                                TestRegistry.basic("dave", password("dave")))
                        .statusCode());
        assertEquals(
                404,
                basic.send(
                                "HEAD",
                                "/v2/team-a/app/blobs/" + TestRegistry.sha256(secretLayer),
                                null,
                                "Authorization",
                                alice)
                        .statusCode());
        HttpResponse<byte[]> allowed = basic.send(
                "POST",
                "/v2/team-a/app/blobs/uploads/?mount=" + TestRegistry.sha256(publicLayer) + "&from=public/base",
                null,
                "Authorization",
                alice);
        assertEquals(201, allowed.statusCode());
    }

    @Test
    void robotAccountsPushUntilRevoked() throws Exception {
        Robots robots = basic.robots();
        Robots.Created ci = robots.create(
                "ci-a", List.of("team-b/**"), List.of("pull", "push"), "CI of team a", Caller.internal("test"));
        assertTrue(ci.secret().startsWith(Robots.SECRET_PREFIX));
        assertFalse(ci.robot().secretHash().contains(ci.secret()));
        String auth = TestRegistry.basic("robot:ci-a", ci.secret());
        basic.authorizeWith(auth);
        try {
            basic.pushImage("team-b/tool", "v1", "robot", "");
            basic.pushImage("team-a/from-robot", "v1", "robot2", ""); // granted by the policy's rule for robot:ci-a
        } finally {
            basic.authorizeWith(null);
        }
        assertEquals(403, attempt(basic, "public/base", Action.PUSH, auth).statusCode());
        assertEquals(
                401,
                attempt(basic, "team-b/tool", Action.PULL, TestRegistry.basic("robot:ci-a", "berth_wrong"))
                        .statusCode());
        robots.revoke("ci-a");
        assertEquals(401, attempt(basic, "team-b/tool", Action.PULL, auth).statusCode());
        // tag history records who pushed
        assertEquals(
                "robot:ci-a",
                basic.registry
                        .metadata()
                        .tags()
                        .history(RepositoryName.of("team-b/tool"), "v1")
                        .get(0)
                        .origin()
                        .actor());
    }

    @Test
    void wrongPasswordsAreAnsweredAtOnceAndTheRightOneStillWorks() {
        // (LoginLimitsTest: what happens when they go on)
        String wrong = TestRegistry.basic("bob", "guess");
        for (int i = 0; i < 3; i++) {
            HttpResponse<byte[]> r = basic.get("/v2/", "Authorization", wrong);
            assertEquals(401, r.statusCode());
            assertEquals("UNAUTHORIZED", code(r));
        }
        assertEquals(
                200,
                basic.get("/v2/", "Authorization", TestRegistry.basic("bob", password("bob")))
                        .statusCode());
    }

    @Test
    void rateLimitAnswers429WithRetryAfterThenLetsThrough() throws Exception {
        try (TestRegistry limited = new TestRegistry(
                dir.resolve("limited"), Map.of("http.rate-limit", "2", "http.rate-limit-burst", "5"))) {
            for (int i = 0; i < 5; i++) {
                assertEquals(200, limited.get("/v2/").statusCode(), "request " + i);
            }
            HttpResponse<byte[]> over = limited.get("/v2/");
            assertEquals(429, over.statusCode());
            assertEquals("TOOMANYREQUESTS", code(over));
            long retry = Long.parseLong(over.headers().firstValue("Retry-After").orElseThrow());
            assertTrue(retry >= 1 && retry <= 2, "Retry-After " + retry);
            Thread.sleep(retry * 1000);
            assertEquals(200, limited.get("/v2/").statusCode());
        }
    }

    @Test
    void policyFileIsReloadedWhenItChanges() throws Exception {
        Path dir2 = dir.resolve("reload");
        Files.createDirectories(dir2);
        Path users = writeUsers(dir2);
        Path policy = dir2.resolve("policy.yaml");
        try (TestRegistry r = new TestRegistry(
                dir2.resolve("data"),
                Map.of(
                        "auth.type",
                        "htpasswd",
                        "auth.htpasswd.path",
                        users.toString(),
                        "auth.policy",
                        policy.toString()))) {
            String carol = TestRegistry.basic("carol", password("carol"));
            assertEquals(403, attempt(r, "team-c/x", Action.PUSH, carol).statusCode());
            Files.writeString(policy, POLICY + """
                      - repositories: ["team-c/**"]
                        subjects: ["carol"]
                        actions: [push]
                    """);
            Files.setLastModifiedTime(policy, FileTime.from(Instant.now().plusSeconds(5)));
            awaitStatus(() -> attempt(r, "team-c/x", Action.PUSH, carol).statusCode(), 202);
            // a broken rule is left out, and the rest of the file applies: here nothing is left (fail closed,
            // AuthFileReloadTest)
            Files.writeString(policy, "rules: [ {repositories: [\"x\"], subjects: [], actions: [pull]} ]\n");
            Files.setLastModifiedTime(policy, FileTime.from(Instant.now().plusSeconds(10)));
            awaitStatus(() -> attempt(r, "team-c/x", Action.PUSH, carol).statusCode(), 403);
            // and the htpasswd file too: a new user can log in
            Files.writeString(
                    users, Files.readString(users) + "erin:" + BCrypt.hashpw("erin-pw", BCrypt.gensalt(4)) + "\n");
            Files.setLastModifiedTime(users, FileTime.from(Instant.now().plusSeconds(5)));
            awaitStatus(
                    () -> r.get("/v2/", "Authorization", TestRegistry.basic("erin", "erin-pw"))
                            .statusCode(),
                    200);
        }
    }

    @Test
    void aTokenForTheAdminApiOnlyWhenAskedForAndOnlyForAdmins() throws Exception {
        Path dir2 = Files.createDirectories(dir.resolve("admin-scope"));
        Path users = writeUsers(dir2);
        Path policy = dir2.resolve("policy.yaml");
        Files.writeString(policy, POLICY + """
                  - repositories: ["*"]
                    subjects: ["alice", "robot:ops"]
                    actions: [admin]
                """);
        try (TestRegistry r = new TestRegistry(
                dir2.resolve("data"),
                Map.of(
                        "auth.type",
                        "token",
                        "auth.htpasswd.path",
                        users.toString(),
                        "auth.policy",
                        policy.toString(),
                        "auth.token.key-file",
                        dir2.resolve("key.pem").toString()))) {
            TokenService tokens = r.server.access().tokens().orElseThrow();
            String ops = r.robots()
                    .create("ops", List.of("team-a/**"), List.of("pull"), "", Caller.internal("test"))
                    .secret();
            Map<String, String> callers = Map.of(
                    "alice",
                    TestRegistry.basic("alice", password("alice")),
                    "bob",
                    TestRegistry.basic("bob", password("bob")),
                    "robot:ops",
                    TestRegistry.basic("robot:ops", ops));
            for (Map.Entry<String, String> c : callers.entrySet()) {
                boolean mayAdminister = !c.getKey().equals("bob");
                String asked = adminScopeToken(r, c.getValue(), "registry:admin:*");
                assertEquals(mayAdminister, tokens.verify(asked).admin(), c.getKey() + " asking for it");
                assertEquals(
                        mayAdminister ? List.of("registry admin [\"*\"]") : List.of(),
                        registryClaims(asked),
                        c.getKey());
                // a pull token of the same caller is no admin credential
                String pull = adminScopeToken(r, c.getValue(), "repository:public/base:pull");
                assertFalse(tokens.verify(pull).admin(), c.getKey() + " asking for a pull");
                assertEquals(List.of(), registryClaims(pull));
                assertFalse(
                        tokens.verify(adminScopeToken(r, c.getValue(), "registry:admin:pull"))
                                .admin(),
                        "only registry:admin:*");
            }
            assertFalse(
                    tokens.verify(adminScopeToken(r, null, "registry:admin:*")).admin(), "anonymous");
        }
    }

    private static List<String> registryClaims(String jwt) throws Exception {
        List<String> out = new ArrayList<>();
        claims(jwt).get("access").forEach(e -> {
            if (e.get("type").asText().equals("registry")) {
                out.add("registry " + e.get("name").asText() + " " + e.get("actions"));
            }
        });
        return out;
    }

    private static String adminScopeToken(TestRegistry r, String authorization, String scope) throws Exception {
        String path = "/auth/token?service=berth&scope=" + URLEncoder.encode(scope, StandardCharsets.UTF_8);
        HttpResponse<byte[]> res = authorization == null ? r.get(path) : r.get(path, "Authorization", authorization);
        assertEquals(200, res.statusCode(), new String(res.body()));
        return JSON.readTree(res.body()).get("token").asText();
    }

    @Test
    void aStarStarGlobGrantsWholeComponentsOnly() throws Exception {
        // the review's finding: through a "**/public" pull rule an anonymous client read the tags, the
        // manifest and a private layer of private/notpublic
        Path dir2 = dir.resolve("globs");
        Files.createDirectories(dir2);
        Path users = writeUsers(dir2);
        Path policy = dir2.resolve("public.yaml");
        Files.writeString(policy, """
                rules:
                  - repositories: ["**/public"]
                    subjects: ["anonymous"]
                    actions: [pull]
                  - repositories: ["**"]
                    subjects: ["alice"]
                    actions: [pull, push]
                """);
        for (String mode : List.of("htpasswd", "token")) {
            try (TestRegistry r = new TestRegistry(
                    dir2.resolve("data-" + mode),
                    Map.of(
                            "auth.type",
                            mode,
                            "auth.htpasswd.path",
                            users.toString(),
                            "auth.policy",
                            policy.toString(),
                            "auth.token.key-file",
                            dir2.resolve(mode + "-key.pem").toString(),
                            "auth.token.service",
                            "registry.test"))) {
                r.authorizeWith(TestRegistry.basic("alice", password("alice")));
                Map<String, String> paths = new LinkedHashMap<>();
                for (String repo : List.of("private/notpublic", "publicity", "team/public", "public")) {
                    Digest layer = r.pushBlob(repo, ("private layer of " + repo).getBytes(StandardCharsets.UTF_8));
                    r.pushImage(repo, "v1", repo, "");
                    paths.put(repo + " tags", "/v2/" + repo + "/tags/list");
                    paths.put(repo + " manifest", "/v2/" + repo + "/manifests/v1");
                    paths.put(repo + " blob", "/v2/" + repo + "/blobs/" + layer);
                }
                r.authorizeWith(null);
                List<String> wrong = new ArrayList<>();
                for (Map.Entry<String, String> p : paths.entrySet()) {
                    String repo = p.getKey().substring(0, p.getKey().indexOf(' '));
                    String scope = "repository:" + repo + ":pull";
                    String[] auth = new String[0];
                    if (mode.equals("token")) {
                        HttpResponse<byte[]> t = r.get("/auth/token?service=registry.test&scope="
                                + URLEncoder.encode(scope, StandardCharsets.UTF_8));
                        auth = new String[] {
                            "Authorization",
                            "Bearer " + JSON.readTree(t.body()).get("token").asText()
                        };
                    }
                    int status = r.get(p.getValue(), auth).statusCode();
                    boolean granted = repo.equals("public") || repo.equals("team/public");
                    if (granted ? status != 200 : status != 401) {
                        wrong.add(mode + " anonymous " + p.getKey() + ": " + status);
                    }
                }
                assertEquals(List.of(), wrong);
            }
        }
    }

    @Test
    void anExternalIssuersTokensAreVerifiedWithItsPublicKey() throws Exception {
        Path issuerKey = dir.resolve("external/issuer.pem");
        KeyPair issuer = PemKeys.loadOrCreateEc(issuerKey); // holds the PUBLIC KEY block Berth is given
        try (TestRegistry r = new TestRegistry(
                dir.resolve("external/data"),
                Map.of(
                        "auth.type",
                        "token",
                        "auth.token.public-key",
                        issuerKey.toString(),
                        "auth.token.realm",
                        "https://auth.example.com/token",
                        "auth.token.issuer",
                        "corp-auth",
                        "auth.token.service",
                        "registry.corp"))) {
            HttpResponse<byte[]> challenge = r.get("/v2/");
            assertEquals(
                    "Bearer realm=\"https://auth.example.com/token\",service=\"registry.corp\"",
                    challenge.headers().firstValue("WWW-Authenticate").orElseThrow());
            assertEquals(404, r.get("/auth/token?service=registry.corp").statusCode(), "Berth issues none");
            TokenService corp = TokenService.issuing(
                    issuer, "corp-auth", "registry.corp", Duration.ofMinutes(5), Clock.systemUTC());
            String push =
                    corp.issue(Principal.user("ci"), Map.of("corp/app", EnumSet.of(Action.PULL, Action.PUSH)), false);
            assertEquals(
                    202,
                    r.send("POST", "/v2/corp/app/blobs/uploads/", null, "Authorization", "Bearer " + push)
                            .statusCode());
            // the external issuer's grants are all there is: no policy widens them
            assertEquals(
                    401,
                    r.send("POST", "/v2/corp/other/blobs/uploads/", null, "Authorization", "Bearer " + push)
                            .statusCode());
            String wrongIssuer = TokenService.issuing(
                            issuer, "someone-else", "registry.corp", Duration.ofMinutes(5), Clock.systemUTC())
                    .issue(Principal.user("ci"), Map.of("corp/app", EnumSet.of(Action.PULL)), false);
            assertEquals(
                    401,
                    r.get("/v2/corp/app/tags/list", "Authorization", "Bearer " + wrongIssuer)
                            .statusCode());
        }
    }

    private static void awaitStatus(IntSupplier status, int want) throws InterruptedException {
        long deadline = System.nanoTime() + 10_000_000_000L;
        int last;
        do {
            last = status.getAsInt();
            if (last == want) {
                return;
            }
            Thread.sleep(200);
        } while (System.nanoTime() < deadline);
        assertEquals(want, last);
    }

    private static List<String> catalog(TestRegistry r, String authorization) throws Exception {
        HttpResponse<byte[]> res =
                authorization == null ? r.get("/v2/_catalog") : r.get("/v2/_catalog", "Authorization", authorization);
        assertEquals(200, res.statusCode(), new String(res.body()));
        List<String> out = new ArrayList<>();
        // other tests of this class add repositories of their own; the matrix is about these
        JSON.readTree(res.body()).get("repositories").forEach(n -> out.add(n.asText()));
        return out.stream().filter(REPOS::contains).toList();
    }

    private static String tokenFor(String user, String scope) throws Exception {
        String path = "/auth/token?service=registry.test"
                + (scope == null ? "" : "&scope=" + URLEncoder.encode(scope, StandardCharsets.UTF_8));
        HttpResponse<byte[]> r = user.isEmpty()
                ? token.get(path)
                : token.get(path, "Authorization", TestRegistry.basic(user, password(user)));
        assertEquals(200, r.statusCode(), new String(r.body()));
        JsonNode body = JSON.readTree(r.body());
        assertEquals(body.get("token").asText(), body.get("access_token").asText());
        return body.get("token").asText();
    }

    static JsonNode claims(String jwt) throws Exception {
        return JSON.readTree(Base64.getUrlDecoder().decode(jwt.split("\\.")[1]));
    }

    private static String code(HttpResponse<byte[]> r) {
        try {
            return JSON.readTree(r.body()).get("errors").get(0).get("code").asText();
        } catch (Exception e) {
            return "no OCI error body: " + new String(r.body());
        }
    }
}
