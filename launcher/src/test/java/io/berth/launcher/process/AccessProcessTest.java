package io.berth.launcher.process;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.berth.http.OciLayouts;
import io.berth.proto.admin.v1.CreateRobotRequest;
import io.berth.proto.admin.v1.RevokeRobotRequest;
import io.berth.testsupport.Command;
import io.berth.testsupport.Containerd;
import io.berth.testsupport.Dockerd;
import io.berth.testsupport.TestPki;
import io.berth.testsupport.TestServices;
import java.io.IOException;
import java.io.InputStream;
import java.math.BigInteger;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Stream;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Access control with real clients against {@code berth serve}: docker login, push and pull with
 * htpasswd, with the token flow and over TLS (docker trusting the test CA through certs.d); skopeo
 * with --creds; containerd's ctr --user; a robot account created, used and revoked with
 * {@code berth admin robots}; certificate reload; and no password in any log.
 */
@Tag("process")
class AccessProcessTest {
    static final String POLICY = """
            groups:
              devs: [alice]
            rules:
              - repositories: ["team-a/**"]
                subjects: ["group:devs"]
                actions: [pull, push, delete]
              - repositories: ["team-a/**"]
                subjects: [carol]
                actions: [pull]
              - repositories: ["public/**"]
                subjects: [anonymous, authenticated]
                actions: [pull]
              - repositories: ["public/**"]
                subjects: [alice]
                actions: [push]
              - repositories: ["*"]
                subjects: [root]
                actions: [admin]
            """;
    static final Map<String, String> PASSWORDS =
            Map.of("alice", "Al1ce-pass-7f3c", "carol", "Car0l-pass-91ab", "root", "R00t-pass-55d2");

    @TempDir
    static Path dir;

    static Path htpasswd;
    static Path policy;
    static final List<String> secrets = new ArrayList<>(PASSWORDS.values());
    static final List<BerthProcess> processes = new ArrayList<>();

    @BeforeAll
    static void files() throws Exception {
        TestServices.require(Command.onPath("htpasswd"), "htpasswd (Debian package apache2-utils)");
        htpasswd = dir.resolve("htpasswd");
        boolean first = true;
        for (Map.Entry<String, String> e : PASSWORDS.entrySet()) {
            List<String> cmd = new ArrayList<>(List.of("htpasswd", "-B", "-b"));
            if (first) {
                cmd.add("-c");
            }
            cmd.addAll(List.of(htpasswd.toString(), e.getKey(), e.getValue()));
            ok(Command.run(cmd, Map.of(), 60));
            first = false;
        }
        assertTrue(Files.readString(htpasswd).contains(":$2y$"), "htpasswd -B writes $2y$ bcrypt");
        policy = dir.resolve("policy.yaml");
        Files.writeString(policy, POLICY);
    }

    @AfterAll
    static void noSecretInAnyLog() throws IOException {
        processes.forEach(BerthProcess::close);
        List<String> found = new ArrayList<>();
        try (Stream<Path> files = Files.walk(dir)) {
            for (Path f : files.filter(Files::isRegularFile)
                    .filter(p -> p.getFileName().toString().startsWith("berth-"))
                    .toList()) {
                String log = Files.readString(f, StandardCharsets.ISO_8859_1);
                for (String secret : secrets) {
                    if (log.contains(secret)) {
                        found.add(f.getFileName() + " contains a secret");
                    }
                }
            }
        }
        // the server logs of every process (a CLI printing a robot's secret once is its purpose, not a log)
        assertEquals(List.of(), found);
    }

    static BerthProcess serve(String name, Map<String, String> env) {
        Map<String, String> e = new HashMap<>(Map.of(
                "BERTH_AUTH_HTPASSWD_PATH",
                htpasswd.toString(),
                "BERTH_AUTH_POLICY",
                policy.toString(),
                "BERTH_ADMIN_TOKENS",
                "boot-token"));
        e.putAll(env);
        BerthProcess p = BerthProcess.start(dir.resolve("srv-" + name), List.of(), e);
        processes.add(p);
        return p;
    }

    static void ok(Command r) {
        assertEquals(0, r.exitCode(), r.output());
    }

    static Dockerd docker() {
        var d = Dockerd.shared();
        TestServices.require(d.isPresent(), "dockerd (Debian package docker.io)");
        return d.get();
    }

    /** docker with its own credential store, so that logins of one test do not leak into another. */
    static Command docker(Path config, String... args) {
        return docker().docker(Map.of("DOCKER_CONFIG", config.toString()), args);
    }

    static Path tarball(String name, String content) throws IOException {
        Path root = Files.createDirectories(dir.resolve("rootfs-" + name));
        Files.writeString(root.resolve("hello.txt"), content);
        Path tar = dir.resolve(name + ".tar");
        ok(Command.run("tar", "-C", root.toString(), "-cf", tar.toString(), "hello.txt"));
        return tar;
    }

    /** The status of a token request for a pull of team-a/built-by-ci with these Basic credentials. */
    static int tokenStatus(BerthProcess b, String user, String password) throws Exception {
        HttpRequest request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + b.httpPort
                        + "/auth/token?service=berth&scope=repository:team-a/built-by-ci:pull"))
                .header(
                        "Authorization",
                        "Basic "
                                + Base64.getEncoder()
                                        .encodeToString((user + ":" + password).getBytes(StandardCharsets.UTF_8)))
                .build();
        try (HttpClient client = HttpClient.newHttpClient()) {
            return client.send(request, HttpResponse.BodyHandlers.discarding()).statusCode();
        }
    }

    static Command login(Path config, String registry, String user, String password) {
        return docker(config, "login", "-u", user, "-p", password, registry);
    }

    /** The docker login, push, pull and refusal sequence, the same for every kind of authentication. */
    static void dockerWorkflow(String registry, String tag, boolean anonymousDocker) throws IOException {
        Path config = Files.createDirectories(dir.resolve("docker-" + tag));
        Path alice = Files.createDirectories(dir.resolve("docker-" + tag + "-alice"));
        assertNotEquals(0, login(config, registry, "alice", "wrong-password").exitCode());
        ok(login(alice, registry, "alice", PASSWORDS.get("alice")));
        String image = registry + "/team-a/app:" + tag;
        ok(docker(alice, "import", tarball(tag, "hello " + tag).toString(), image));
        ok(docker(alice, "push", image));
        ok(docker(alice, "rmi", image));
        ok(docker(alice, "pull", image));
        String pub = registry + "/public/base:" + tag;
        ok(docker(alice, "tag", image, pub));
        ok(docker(alice, "push", pub));
        ok(docker(alice, "rmi", image, pub));
        // anonymous: the public image, not the team's. docker sends no credentials at all once /v2/ asked
        // for basic ones it lacks, so anonymous docker pulls need the token flow; other clients pull anonymously
        if (anonymousDocker) {
            ok(docker(config, "pull", pub));
        } else {
            ok(Command.run(
                    "curl", "-fsS", "-o", "/dev/null", "http://" + registry + "/v2/public/base/manifests/" + tag));
            assertEquals(
                    "401",
                    Command.run(
                                    "curl",
                                    "-sS",
                                    "-o",
                                    "/dev/null",
                                    "-w",
                                    "%{http_code}",
                                    "http://" + registry + "/v2/team-a/app/manifests/" + tag)
                            .output()
                            .trim());
        }
        Command anon = docker(config, "pull", image);
        assertNotEquals(0, anon.exitCode());
        assertTrue(
                anon.output().toLowerCase().contains("denied")
                        || anon.output().toLowerCase().contains("unauthorized")
                        || anon.output().contains("no basic auth credentials"),
                anon.output());
        // carol may pull the team's image but not push it
        ok(login(config, registry, "carol", PASSWORDS.get("carol")));
        ok(docker(config, "pull", image));
        String carols = registry + "/team-a/app:carol-" + tag;
        ok(docker(config, "tag", image, carols));
        Command refused = docker(config, "push", carols);
        assertNotEquals(0, refused.exitCode());
        assertTrue(refused.output().toLowerCase().contains("denied"), refused.output());
        ok(docker(config, "logout", registry));
        ok(docker(config, "rmi", image, carols));
        if (anonymousDocker) {
            ok(docker(config, "rmi", pub));
        }
    }

    @Test
    void dockerLoginPushPullWithHtpasswd() throws Exception {
        BerthProcess b = serve("htpasswd", Map.of("BERTH_AUTH_TYPE", "htpasswd"));
        assertTrue(b.output().contains("auth htpasswd"), b.output());
        dockerWorkflow("127.0.0.1:" + b.httpPort, "basic", false);
        assertTrue(
                b.output()
                        .lines()
                        .anyMatch(l ->
                                l.contains("PUT /v2/team-a/app/manifests/basic 201") && l.contains(" user=alice ")),
                "access lines name the user");
        // skopeo with --creds
        requireSkopeo();
        Path layout = OciLayouts.singleImage(dir.resolve("sk-basic"), "v1", "amd64", "basic");
        ok(skopeo(
                "copy",
                "--dest-tls-verify=false",
                "--dest-creds",
                "alice:" + PASSWORDS.get("alice"),
                "oci:" + layout + ":v1",
                "docker://127.0.0.1:" + b.httpPort + "/team-a/sk:1"));
        ok(skopeo(
                "inspect",
                "--tls-verify=false",
                "--creds",
                "carol:" + PASSWORDS.get("carol"),
                "docker://127.0.0.1:" + b.httpPort + "/team-a/sk:1"));
        assertNotEquals(
                0,
                skopeo(
                                "inspect",
                                "--tls-verify=false",
                                "--creds",
                                "carol:nope",
                                "docker://127.0.0.1:" + b.httpPort + "/team-a/sk:1")
                        .exitCode());
        // refused requests (carol's push, 403) name the user in the access log as the allowed ones do
        assertTrue(
                b.output()
                        .lines()
                        .anyMatch(l -> l.contains("berth.access") && l.contains(" 403 ") && l.contains(" user=carol ")),
                "a 403 names its user: " + b.output());

        // anonymous pulls where clients send empty Basic credentials: skopeo --no-creds ('Basic Og=='),
        // podman without a login; the public image pulls, the team's is refused as without credentials
        ok(skopeo(
                "inspect",
                "--raw",
                "--tls-verify=false",
                "--no-creds",
                "docker://127.0.0.1:" + b.httpPort + "/public/base:basic"));
        Command teamNoCreds = skopeo(
                "inspect",
                "--raw",
                "--tls-verify=false",
                "--no-creds",
                "docker://127.0.0.1:" + b.httpPort + "/team-a/sk:1");
        assertNotEquals(0, teamNoCreds.exitCode());
        assertFalse(teamNoCreds.output().contains("unsupported Authorization header"), teamNoCreds.output());
        TestServices.require(Command.onPath("podman"), "podman (Debian package podman)");
        Path podman = Files.createDirectories(dir.resolve("podman"));
        Files.writeString(podman.resolve("auth.json"), "{}");
        List<String> pm = List.of(
                "podman",
                "--root",
                podman.resolve("root").toString(),
                "--runroot",
                podman.resolve("run").toString(),
                "--storage-driver",
                "vfs");
        Function<String, Command> podmanPull = image -> {
            List<String> cmd = new ArrayList<>(pm);
            cmd.addAll(List.of(
                    "pull",
                    "--tls-verify=false",
                    "--authfile",
                    podman.resolve("auth.json").toString(),
                    "127.0.0.1:" + b.httpPort + "/" + image));
            return Command.run(cmd, Map.of(), 300);
        };
        ok(podmanPull.apply("public/base:basic"));
        Command podmanTeam = podmanPull.apply("team-a/sk:1");
        assertNotEquals(0, podmanTeam.exitCode());
        assertFalse(podmanTeam.output().contains("unsupported Authorization header"), podmanTeam.output());
    }

    @Test
    void dockerSkopeoAndCtrWithTheTokenFlow() throws Exception {
        BerthProcess b = serve("token", Map.of("BERTH_AUTH_TYPE", "token", "BERTH_AUTH_TOKEN_SERVICE", "berth-test"));
        assertTrue(b.output().contains("auth token issued by /auth/token"), b.output());
        assertTrue(
                Files.readString(dir.resolve("srv-token/data/token-key.pem")).contains("BEGIN PRIVATE KEY"),
                "the signing key is generated in the data directory");
        String registry = "127.0.0.1:" + b.httpPort;
        dockerWorkflow(registry, "token", true);
        requireSkopeo();
        Path layout = OciLayouts.twoPlatformIndex(dir.resolve("sk-token"), "multi");
        ok(skopeo(
                "copy",
                "--all",
                "--dest-tls-verify=false",
                "--dest-creds",
                "alice:" + PASSWORDS.get("alice"),
                "oci:" + layout + ":multi",
                "docker://" + registry + "/team-a/multi:1"));
        ok(skopeo(
                "inspect",
                "--raw",
                "--tls-verify=false",
                "--creds",
                "carol:" + PASSWORDS.get("carol"),
                "docker://" + registry + "/team-a/multi:1"));
        Command noCreds = skopeo(
                "inspect", "--raw", "--tls-verify=false", "--no-creds", "docker://" + registry + "/team-a/multi:1");
        assertNotEquals(0, noCreds.exitCode());
        // containerd: ctr --user, through the OAuth2 POST form of the token endpoint
        var containerd = Containerd.shared();
        TestServices.require(containerd.isPresent(), "containerd (Debian package containerd)");
        String source = registry + "/team-a/multi:1";
        String copy = registry + "/team-a/ctr-copy:1";
        ok(containerd
                .get()
                .ctr(
                        "images",
                        "pull",
                        "--plain-http",
                        "--all-platforms",
                        "--user",
                        "carol:" + PASSWORDS.get("carol"),
                        source));
        ok(containerd.get().ctr("images", "tag", "--force", source, copy));
        Command carolPush = containerd
                .get()
                .ctr("images", "push", "--plain-http", "--user", "carol:" + PASSWORDS.get("carol"), copy);
        assertNotEquals(0, carolPush.exitCode(), carolPush.output());
        ok(containerd.get().ctr("images", "push", "--plain-http", "--user", "alice:" + PASSWORDS.get("alice"), copy));
    }

    @Test
    void robotAccountFromTheCliPushesUntilRevoked() throws Exception {
        BerthProcess b = serve("robot", Map.of("BERTH_AUTH_TYPE", "token"));
        String registry = "127.0.0.1:" + b.httpPort;
        Map<String, String> root = Map.of("BERTH_ADMIN_USER", "root", "BERTH_ADMIN_PASSWORD", PASSWORDS.get("root"));
        BerthProcess.Result created = BerthProcess.run(
                dir,
                root,
                "admin",
                "--server",
                "127.0.0.1:" + b.adminPort,
                "robots",
                "create",
                "ci",
                "--repositories",
                "team-a/**",
                "--actions",
                "pull,push",
                "--description",
                "CI of team a");
        assertEquals(0, created.exitCode(), created.output());
        String secret = created.output()
                .lines()
                .filter(l -> l.startsWith("berth_"))
                .findFirst()
                .orElseThrow();
        secrets.add(secret);
        BerthProcess.Result list =
                BerthProcess.run(dir, root, "admin", "--server", "127.0.0.1:" + b.adminPort, "robots", "list");
        assertTrue(
                list.output().contains("ci")
                        && list.output().contains("team-a/**")
                        && !list.output().contains(secret),
                list.output());
        // carol has no admin action
        BerthProcess.Result denied = BerthProcess.run(
                dir,
                Map.of("BERTH_ADMIN_USER", "carol", "BERTH_ADMIN_PASSWORD", PASSWORDS.get("carol")),
                "admin",
                "--server",
                "127.0.0.1:" + b.adminPort,
                "robots",
                "list");
        assertEquals(1, denied.exitCode());
        assertTrue(denied.output().contains("PERMISSION_DENIED"), denied.output());

        // a CI script: login with the robot, push
        Path config = Files.createDirectories(dir.resolve("docker-robot"));
        ok(login(config, registry, "robot:ci", secret));
        String image = registry + "/team-a/built-by-ci:1";
        ok(docker(config, "import", tarball("robot", "built by ci").toString(), image));
        ok(docker(config, "push", image));
        Command elsewhere = docker(config, "push", registry + "/public/base:robot");
        assertNotEquals(0, elsewhere.exitCode());

        BerthProcess.Result revoked =
                BerthProcess.run(dir, root, "admin", "--server", "127.0.0.1:" + b.adminPort, "robots", "revoke", "ci");
        assertEquals(0, revoked.exitCode(), revoked.output());
        assertEquals(401, tokenStatus(b, "robot:ci", secret));

        // the admin API and the HTTP listener share the robot accounts: a revocation is seen at once, not when
        // the HTTP side's few seconds of cached lookups run out (revoked over gRPC, to be quicker than those)
        var admin = b.adminAs("Basic "
                + Base64.getEncoder()
                        .encodeToString(("root:" + PASSWORDS.get("root")).getBytes(StandardCharsets.UTF_8)));
        String quick = admin.createRobot(CreateRobotRequest.newBuilder()
                        .setName("quick")
                        .addRepositories("team-a/**")
                        .addActions("pull")
                        .build())
                .getSecret();
        secrets.add(quick);
        assertEquals(200, tokenStatus(b, "robot:quick", quick)); // its account is now cached by the HTTP side
        admin.revokeRobot(RevokeRobotRequest.newBuilder().setName("quick").build());
        assertEquals(401, tokenStatus(b, "robot:quick", quick));
        ok(docker(config, "rmi", image));
        ok(docker(config, "logout", registry));
        assertNotEquals(0, login(config, registry, "robot:ci", secret).exitCode());
    }

    @Test
    void tlsWithDockerTrustingTheTestCaAndCertificateReload() throws Exception {
        TestPki ca = TestPki.create(dir.resolve("pki"));
        Path pki = dir.resolve("pki");
        ca.server("server", "1001");
        BerthProcess b = serve(
                "tls",
                Map.of(
                        "BERTH_AUTH_TYPE",
                        "htpasswd",
                        "BERTH_HTTP_TLS_CERT",
                        pki.resolve("server.crt").toString(),
                        "BERTH_HTTP_TLS_KEY",
                        pki.resolve("server.key").toString()));
        assertTrue(b.output().contains("serving https://127.0.0.1:" + b.httpPort), b.output());
        String registry = "127.0.0.1:" + b.httpPort;
        // docker reads a registry's CA from certs.d/<host:port>/ca.crt (docs/access.md)
        Path certsD = Path.of("/etc/docker/certs.d", registry);
        Files.createDirectories(certsD);
        Files.copy(pki.resolve("ca.crt"), certsD.resolve("ca.crt"), StandardCopyOption.REPLACE_EXISTING);
        try {
            Path config = Files.createDirectories(dir.resolve("docker-tls"));
            ok(login(config, registry, "alice", PASSWORDS.get("alice")));
            String image = registry + "/team-a/tls:1";
            ok(docker(config, "import", tarball("tls", "over tls").toString(), image));
            ok(docker(config, "push", image));
            ok(docker(config, "rmi", image));
            ok(docker(config, "pull", image));
            ok(docker(config, "rmi", image));
        } finally {
            Command.run("rm", "-rf", certsD.toString());
        }
        // skopeo verifying the chain against the CA (no --tls-verify=false)
        requireSkopeo();
        Path certDir = Files.createDirectories(dir.resolve("skopeo-certs"));
        Files.copy(pki.resolve("ca.crt"), certDir.resolve("ca.crt"));
        ok(skopeo(
                "inspect",
                "--cert-dir",
                certDir.toString(),
                "--creds",
                "carol:" + PASSWORDS.get("carol"),
                "docker://" + registry + "/team-a/tls:1"));
        // plain HTTP is not served on the TLS port
        Command plain = Command.run("curl", "-sS", "-m", "5", "http://" + registry + "/v2/");
        assertFalse(plain.output().contains("\"errors\"") && plain.exitCode() == 0, plain.output());

        // a renewed certificate (new serial) is served without a restart
        assertEquals(new BigInteger("1001", 16), servedSerial(pki, b.httpPort));
        ca.server("server", "2002");
        long deadline = System.currentTimeMillis() + 20_000;
        BigInteger serial;
        do {
            Thread.sleep(300);
            serial = servedSerial(pki, b.httpPort);
        } while (!serial.equals(new BigInteger("2002", 16)) && System.currentTimeMillis() < deadline);
        assertEquals(new BigInteger("2002", 16), serial);
        assertTrue(b.output().contains("reloaded http.tls.cert"), b.output());
    }

    @Test
    void adminCliOverTlsWithTokensUsersAndClientCertificates() throws Exception {
        TestPki ca = TestPki.create(dir.resolve("admin-pki"));
        ca.server("admin", "ad01");
        ca.client("root-cli", "root");
        BerthProcess b = serve(
                "admin-tls",
                Map.of(
                        "BERTH_AUTH_TYPE",
                        "htpasswd",
                        "BERTH_ADMIN_TLS_CERT",
                        ca.cert("admin").toString(),
                        "BERTH_ADMIN_TLS_KEY",
                        ca.key("admin").toString(),
                        "BERTH_ADMIN_TLS_CLIENT_CA",
                        ca.ca().toString()));
        assertTrue(b.output().contains("admin gRPC (TLS) 127.0.0.1:" + b.adminPort), b.output());
        String server = "127.0.0.1:" + b.adminPort;
        BerthProcess.Result token = BerthProcess.run(
                dir,
                Map.of(),
                "admin",
                "--server",
                server,
                "--tls-ca",
                ca.ca().toString(),
                "--token",
                "boot-token",
                "info");
        assertEquals(0, token.exitCode(), token.output());
        BerthProcess.Result user = BerthProcess.run(
                dir,
                Map.of("BERTH_ADMIN_PASSWORD", PASSWORDS.get("root")),
                "admin",
                "--server",
                server,
                "--tls-ca",
                ca.ca().toString(),
                "--user",
                "root",
                "repos",
                "list");
        assertEquals(0, user.exitCode(), user.output());
        BerthProcess.Result cert = BerthProcess.run(
                dir,
                Map.of(),
                "admin",
                "--server",
                server,
                "--tls-ca",
                ca.ca().toString(),
                "--tls-cert",
                ca.cert("root-cli").toString(),
                "--tls-key",
                ca.key("root-cli").toString(),
                "robots",
                "list");
        assertEquals(0, cert.exitCode(), cert.output());
        BerthProcess.Result plain =
                BerthProcess.run(dir, Map.of(), "admin", "--server", server, "--token", "boot-token", "info");
        assertEquals(1, plain.exitCode(), plain.output());
        BerthProcess.Result wrong = BerthProcess.run(
                dir,
                Map.of("BERTH_ADMIN_PASSWORD", "not-it"),
                "admin",
                "--server",
                server,
                "--tls-ca",
                ca.ca().toString(),
                "--user",
                "root",
                "info");
        assertEquals(1, wrong.exitCode(), wrong.output());
        assertTrue(wrong.output().contains("UNAUTHENTICATED"), wrong.output());
    }

    static BigInteger servedSerial(Path pki, int port) throws Exception {
        KeyStore trust = KeyStore.getInstance(KeyStore.getDefaultType());
        trust.load(null, null);
        try (InputStream in = Files.newInputStream(pki.resolve("ca.crt"))) {
            trust.setCertificateEntry(
                    "ca", CertificateFactory.getInstance("X.509").generateCertificate(in));
        }
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(trust);
        SSLContext ctx = SSLContext.getInstance("TLS");
        ctx.init(null, tmf.getTrustManagers(), null);
        try (SSLSocket s = (SSLSocket) ctx.getSocketFactory().createSocket("127.0.0.1", port)) {
            s.startHandshake();
            return ((X509Certificate) s.getSession().getPeerCertificates()[0]).getSerialNumber();
        }
    }

    static void requireSkopeo() {
        RealClientsTest.requireSkopeo();
    }

    static Command skopeo(String... args) {
        return RealClientsTest.skopeo(args);
    }
}
