package io.berth.launcher.process;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.berth.core.error.ErrorCode;
import io.berth.core.model.MediaTypes;
import io.berth.proto.admin.v1.CreateRobotRequest;
import io.berth.proto.admin.v1.CreatedRobot;
import io.berth.proto.admin.v1.ListRobotsRequest;
import io.berth.testsupport.oci.OciClient;
import io.berth.testsupport.oci.OciResponse;
import io.berth.testsupport.oci.TestImage;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.springframework.security.crypto.bcrypt.BCrypt;

/**
 * No secret is written to a log at any level: {@code berth serve} at {@code log.level: debug}, with
 * every library asked to trace ({@code log.levels}), serves the token flow, basic logins (right and
 * wrong), the OAuth2 form, admin calls with a bootstrap token and with a user's basic credentials, a
 * robot created and then pushing and pulling, and requests carrying secrets in paths and query
 * strings; then every line of its log is searched for each password, the admin token, the issued
 * tokens, the Basic header values, and the robot secret — whole, and any 8 of its characters after
 * the prefix, as text or as the hex of a frame dump.
 */
@Tag("process")
class SecretsInLogsProcessTest {
    static final ObjectMapper JSON = new ObjectMapper();
    static final String ALICE = "Al1ce-debug-pass-4e1f";
    static final String ROOT = "R00t-debug-pass-7c2a";
    static final String ADMIN_TOKEN = "adm1n-token-9d8e7f6a";

    @TempDir
    Path dir;

    @ParameterizedTest
    @ValueSource(strings = {"text", "json"})
    void noSecretInAnyLogLineAtDebug(String format) throws Exception {
        Path users = dir.resolve("users.htpasswd");
        Files.writeString(
                users,
                "alice:" + BCrypt.hashpw(ALICE, BCrypt.gensalt(5)).replace("$2a$", "$2y$") + "\n" + "root:"
                        + BCrypt.hashpw(ROOT, BCrypt.gensalt(5)).replace("$2a$", "$2y$") + "\n");
        Path policy = dir.resolve("policy.yaml");
        Files.writeString(policy, """
                rules:
                  - repositories: ["**"]
                    subjects: [alice]
                    actions: [pull, push, delete]
                  - repositories: ["*"]
                    subjects: [root]
                    actions: [admin]
                """);
        List<String> secrets = new ArrayList<>(List.of(
                ALICE,
                ROOT,
                ADMIN_TOKEN,
                OciClient.basic("alice", ALICE),
                OciClient.basic("root", ROOT),
                OciClient.basic("alice", "wrong-" + ALICE)));
        String robotSecret;
        try (BerthProcess b = BerthProcess.start(
                dir.resolve("srv"),
                List.of(),
                Map.of(
                        "BERTH_LOG_LEVEL",
                        "debug",
                        "BERTH_LOG_FORMAT",
                        format,
                        // every library asked to trace: the wire loggers among them stay at INFO
                        "BERTH_LOG_LEVELS",
                        "io.helidon=trace,io.grpc=trace,io.netty=trace,org.apache.kafka=trace,"
                                + "okhttp3=trace,sun.net=trace,jdk=trace,javax=trace,io.minio=trace",
                        "BERTH_AUTH_TYPE",
                        "token",
                        "BERTH_AUTH_HTPASSWD_PATH",
                        users.toString(),
                        "BERTH_AUTH_POLICY",
                        policy.toString(),
                        "BERTH_ADMIN_TOKENS",
                        ADMIN_TOKEN))) {
            OciClient oci = b.oci();
            // the docker token flow: basic credentials for a token, then the token on /v2
            String token = oci.withBasic("alice", ALICE).token("berth", "repository:team/app:pull,push");
            secrets.add(token);
            oci.withBearer(token).get("/v2/").expect(200);
            oci.withBasic("alice", ALICE).get("/v2/").expect(200);
            oci.withBasic("alice", "wrong-" + ALICE).get("/v2/").expectError(401, ErrorCode.UNAUTHORIZED);
            pushAndPull(oci.withBearer(token), "team/app");
            // containerd's OAuth2 form
            OciResponse form = oci.send(
                            "POST",
                            "/auth/token",
                            ("grant_type=password&username=alice"
                                            + "&password=" + URLEncoder.encode(ALICE, StandardCharsets.UTF_8)
                                            + "&service=berth&scope="
                                            + "repository:team/app:pull")
                                    .getBytes(StandardCharsets.UTF_8),
                            "Content-Type",
                            "application/x-www-form-urlencoded")
                    .expect(200);
            secrets.add(JSON.readTree(form.body()).get("access_token").asText());

            // the admin API with the bootstrap token: a robot is created, its secret comes back once
            CreatedRobot created = b.admin(ADMIN_TOKEN)
                    .createRobot(CreateRobotRequest.newBuilder()
                            .setName("ci")
                            .addRepositories("team/**")
                            .addActions("pull")
                            .addActions("push")
                            .build());
            robotSecret = created.getSecret();
            assertTrue(robotSecret.startsWith("berth_"), robotSecret);
            secrets.add(robotSecret);
            secrets.add(OciClient.basic("robot:ci", robotSecret));
            // the admin API with a user's basic credentials (berth admin --user)
            BerthProcess.Result listed = BerthProcess.run(
                    dir,
                    Map.of("BERTH_ADMIN_USER", "root", "BERTH_ADMIN_PASSWORD", ROOT),
                    "admin",
                    "--server",
                    "127.0.0.1:" + b.adminPort,
                    "robots",
                    "list");
            assertEquals(0, listed.exitCode(), listed.output());
            assertEquals(
                    1,
                    b.admin(ADMIN_TOKEN)
                            .listRobots(ListRobotsRequest.getDefaultInstance())
                            .getRobotsCount());

            // the robot logs in like docker does and pushes and pulls
            OciClient robot = oci.withBasic("robot:ci", robotSecret);
            String robotToken = robot.token("berth", "repository:team/ci:pull,push");
            secrets.add(robotToken);
            pushAndPull(oci.withBearer(robotToken), "team/ci");
            robot.get("/v2/").expect(200);
            // secrets where they do not belong: in a path, in oddly named query parameters
            oci.get("/v2/team/" + robotSecret.toLowerCase(Locale.ROOT) + "/tags/list?x=" + robotSecret + "&password="
                    + ALICE);
            robot.get("/auth/token?service=berth&account=" + robotSecret);
            oci.withBearer(token + "x").get("/v2/team/app/tags/list");
            assertEquals(0, b.terminate());
        }
        List<String> lines = new ArrayList<>();
        try (Stream<Path> files = Files.walk(dir.resolve("srv"))) {
            for (Path f : files.filter(p -> p.getFileName().toString().startsWith("berth-"))
                    .toList()) {
                lines.addAll(Files.readAllLines(f, StandardCharsets.ISO_8859_1));
            }
        }
        assertTrue(lines.size() > 50, "the debug log has lines: " + lines.size());
        Set<String> needles = new LinkedHashSet<>(secrets);
        String body = robotSecret.substring("berth_".length());
        needles.add(HexFormat.of().formatHex(robotSecret.getBytes(StandardCharsets.US_ASCII)));
        for (int i = 0; i + 8 <= body.length(); i++) {
            String part = body.substring(i, i + 8);
            needles.add(part);
            needles.add(HexFormat.of().formatHex(part.getBytes(StandardCharsets.US_ASCII)));
        }
        needles.add("berth_" + body.substring(0, 8));
        needles.add(HexFormat.of().formatHex(("berth_" + body.substring(0, 2)).getBytes(StandardCharsets.US_ASCII)));
        List<String> found = new ArrayList<>();
        for (String line : lines) {
            String lower = line.toLowerCase(Locale.ROOT);
            for (String needle : needles) {
                if (line.contains(needle) || lower.contains(needle.toLowerCase(Locale.ROOT))) {
                    found.add(needle.length() > 12 ? needle.substring(0, 12) + "…" : needle);
                    found.add("   in: " + (line.length() > 300 ? line.substring(0, 300) : line));
                }
            }
        }
        assertEquals(List.of(), found);
        assertTrue(
                lines.stream().anyMatch(l -> l.contains("berth_REDACTED")),
                "the access line of the request " + "with the secret in its path shows the mask");
    }

    /** Pushes an image with each blob as POST then PUT, pulls its manifest and layer back. */
    static void pushAndPull(OciClient oci, String repo) {
        TestImage image = TestImage.of(
                ("{\"repo\":\"" + repo + "\"}").getBytes(StandardCharsets.UTF_8),
                ("layer of " + repo).getBytes(StandardCharsets.UTF_8));
        for (byte[] blob : image.blobs()) {
            oci.complete(oci.startUpload(repo), TestImage.sha256(blob), blob);
        }
        oci.pushManifest(repo, "1", MediaTypes.OCI_MANIFEST, image.manifest());
        oci.pullManifest(repo, "1");
        oci.pullBlob(repo, image.layerDigests().getFirst());
    }
}
