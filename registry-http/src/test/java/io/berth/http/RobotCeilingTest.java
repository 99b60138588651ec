package io.berth.http;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.berth.core.auth.Robots;
import io.berth.core.model.Caller;
import java.net.URLEncoder;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.security.crypto.bcrypt.BCrypt;

/**
 * Robots have a ceiling: their own grants plus policy rules naming them, never the rules of every
 * authenticated caller or of everyone — without a policy (the default) and with one, with basic
 * credentials and with tokens of the token endpoint.
 */
class RobotCeilingTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String DIGEST_ZERO = "sha256:" + "0".repeat(64);

    @TempDir
    Path dir;

    private TestRegistry registry(String name, String mode, String policy) throws Exception {
        Path users = dir.resolve(name + ".htpasswd");
        Files.writeString(users, "alice:" + BCrypt.hashpw("alice-pw", BCrypt.gensalt(4)) + "\n");
        Map<String, String> settings = new LinkedHashMap<>(Map.of(
                "auth.type",
                mode,
                "auth.htpasswd.path",
                users.toString(),
                "auth.token.key-file",
                dir.resolve(name + "-key.pem").toString()));
        if (policy != null) {
            Path p = dir.resolve(name + "-policy.yaml");
            Files.writeString(p, policy);
            settings.put("auth.policy", p.toString());
        }
        TestRegistry r = new TestRegistry(dir.resolve(name), settings);
        r.authorizeWith(TestRegistry.basic("alice", "alice-pw"));
        for (String repo : List.of("ci/tool", "prod/app", "open/base", "named/app", "grouped/app")) {
            r.pushImage(repo, "v1", repo, "");
        }
        r.authorizeWith(null);
        return r;
    }

    /** Status of pull, push and delete on {@code repo} with {@code authorization}. */
    private static List<Integer> tryAll(TestRegistry r, String repo, String authorization) {
        return List.of(
                r.get("/v2/" + repo + "/manifests/v1", "Authorization", authorization)
                        .statusCode(),
                r.send("POST", "/v2/" + repo + "/blobs/uploads/", null, "Authorization", authorization)
                        .statusCode(),
                r.send("DELETE", "/v2/" + repo + "/manifests/" + DIGEST_ZERO, null, "Authorization", authorization)
                        .statusCode());
    }

    private static String robot(TestRegistry r, String name, List<String> repositories, List<String> actions) {
        Robots.Created c = r.robots().create(name, repositories, actions, "", Caller.internal("test"));
        return TestRegistry.basic("robot:" + name, c.secret());
    }

    @Test
    void withoutAPolicyARobotMayDoOnlyWhatItsGrantsSay() throws Exception {
        for (String mode : List.of("htpasswd", "token")) {
            try (TestRegistry r = registry("default-" + mode, mode, null)) {
                String ci = robot(r, "ci", List.of("ci/**"), List.of("pull"));
                List<String> failures = new ArrayList<>();
                // pull, push, delete; 404 is a delete that was allowed (no such manifest)
                expect(failures, mode + " ci/tool", List.of(200, 403, 403), tryAll(r, "ci/tool", ci));
                expect(failures, mode + " prod/app", List.of(403, 403, 403), tryAll(r, "prod/app", ci));
                // the user still may do everything (the default policy)
                expect(
                        failures,
                        mode + " alice prod/app",
                        List.of(200, 202, 404),
                        tryAll(r, "prod/app", TestRegistry.basic("alice", "alice-pw")));
                assertEquals(List.of(), failures);
                if (mode.equals("token")) {
                    // the token endpoint grants the robot nothing on prod/app, and a token shows it
                    String jwt = token(r, ci, "repository:prod/app:pull,push,delete repository:ci/tool:pull,push");
                    JsonNode access = AccessControlTest.claims(jwt).get("access");
                    assertEquals(
                            "[{\"type\":\"repository\",\"name\":\"prod/app\",\"actions\":[]},"
                                    + "{\"type\":\"repository\",\"name\":\"ci/tool\",\"actions\":[\"pull\"]}]",
                            access.toString());
                    assertEquals(List.of(403, 403, 403), tryAll(r, "prod/app", "Bearer " + jwt));
                    assertEquals(List.of(200, 403, 403), tryAll(r, "ci/tool", "Bearer " + jwt));
                }
                // the catalog lists what the robot may pull, no more
                HttpResponse<byte[]> catalog = r.get("/v2/_catalog", "Authorization", ci);
                assertEquals(
                        "[\"ci/tool\"]",
                        JSON.readTree(catalog.body()).get("repositories").toString(),
                        mode);
            }
        }
    }

    @Test
    void withAPolicyOnlyRulesNamingTheRobotAddToItsGrants() throws Exception {
        String policy = """
                groups:
                  release: [alice, "robot:ci"]
                rules:
                  - repositories: ["**"]
                    subjects: [authenticated]
                    actions: [pull, push, delete]
                  - repositories: ["open/**"]
                    subjects: ["*"]
                    actions: ["*"]
                  - repositories: ["named/**"]
                    subjects: ["robot:ci"]
                    actions: [push]
                  - repositories: ["grouped/**"]
                    subjects: ["group:release"]
                    actions: [pull, delete]
                """;
        for (String mode : List.of("htpasswd", "token")) {
            try (TestRegistry r = registry("policy-" + mode, mode, policy)) {
                String ci = robot(r, "ci", List.of("ci/**"), List.of("pull"));
                List<String> failures = new ArrayList<>();
                expect(failures, mode + " ci/tool", List.of(200, 403, 403), tryAll(r, "ci/tool", ci));
                expect(
                        failures,
                        mode + " prod/app (authenticated rule)",
                        List.of(403, 403, 403),
                        tryAll(r, "prod/app", ci));
                expect(failures, mode + " open/base ('*' rule)", List.of(403, 403, 403), tryAll(r, "open/base", ci));
                expect(
                        failures,
                        mode + " named/app (robot:ci rule)",
                        List.of(403, 202, 403),
                        tryAll(r, "named/app", ci));
                expect(
                        failures,
                        mode + " grouped/app (group listing robot:ci)",
                        List.of(200, 403, 404),
                        tryAll(r, "grouped/app", ci));
                // another robot is not named anywhere: its grants alone
                String other = robot(r, "other", List.of("prod/**"), List.of("pull"));
                expect(failures, mode + " other grouped/app", List.of(403, 403, 403), tryAll(r, "grouped/app", other));
                expect(failures, mode + " other prod/app", List.of(200, 403, 403), tryAll(r, "prod/app", other));
                assertEquals(List.of(), failures);
                if (mode.equals("token")) {
                    String jwt = token(r, ci, "repository:prod/app:pull,push,delete repository:named/app:push");
                    assertEquals(
                            "[{\"type\":\"repository\",\"name\":\"prod/app\",\"actions\":[]},"
                                    + "{\"type\":\"repository\",\"name\":\"named/app\",\"actions\":[\"push\"]}]",
                            AccessControlTest.claims(jwt).get("access").toString());
                }
            }
        }
    }

    private static void expect(List<String> failures, String what, List<Integer> want, List<Integer> got) {
        if (!want.equals(got)) {
            failures.add(what + ": pull, push, delete answered " + got + ", want " + want);
        }
    }

    private static String token(TestRegistry r, String authorization, String scopes) throws Exception {
        HttpResponse<byte[]> res = r.get(
                "/auth/token?service=berth&scope=" + URLEncoder.encode(scopes, StandardCharsets.UTF_8),
                "Authorization",
                authorization);
        assertEquals(200, res.statusCode(), new String(res.body(), StandardCharsets.UTF_8));
        return JSON.readTree(res.body()).get("token").asText();
    }
}
