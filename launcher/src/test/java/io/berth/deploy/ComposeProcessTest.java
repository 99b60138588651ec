package io.berth.deploy;

import static io.berth.deploy.ImageProcessTest.ok;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpServer;
import io.berth.testsupport.Command;
import io.berth.testsupport.Dockerd;
import io.berth.testsupport.FreePorts;
import io.berth.testsupport.KafkaBroker;
import io.berth.testsupport.Postgres;
import io.berth.testsupport.S3Endpoint;
import io.berth.testsupport.TestServices;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.yaml.snakeyaml.Yaml;

/**
 * deploy/compose.yaml: Debian's docker-compose validates it, and every Berth service in it runs from
 * the image with the settings the file gives it — environment, env files, command, mounted files,
 * health checks — as docker-compose resolves them. Kafka, PostgreSQL and MinIO images cannot be pulled
 * here: their addresses in the file are replaced by the tests' own Kafka, PostgreSQL and S3 endpoint,
 * and, with no bridge network, each service gets ports of its own on the host's network. A push to
 * {@code berth} (S3 + PostgreSQL) reaches the webhook endpoint through {@code webhooks} and site-b
 * through {@code replicate}.
 */
@Tag("process")
@Tag("services")
class ComposeProcessTest {
    static final Path DEPLOY = Path.of("..", "deploy");

    @Test
    void everyBerthServiceOfTheComposeFileRuns(@TempDir Path tmp) throws Exception {
        TestServices.require(Command.onPath("docker-compose"), "docker-compose (Debian package)");
        String image = ImageProcessTest.load(ComposeProcessTest.class);
        Dockerd docker = Dockerd.shared().orElseThrow();
        var pg = Postgres.shared();
        TestServices.require(pg.isPresent(), "PostgreSQL (Debian package postgresql)");

        // the deploy directory as an operator has it: env files made from their examples
        Path deploy = Files.createDirectories(tmp.resolve("deploy"));
        try (Stream<Path> files = Files.list(DEPLOY)) {
            for (Path f : files.toList()) {
                String name = f.getFileName().toString();
                Files.copy(f, deploy.resolve(name.endsWith(".env.example") ? name.replace(".example", "") : name));
            }
        }
        Command config = Command.run(
                List.of("docker-compose", "-f", deploy.resolve("compose.yaml").toString(), "config"),
                Map.of("BERTH_IMAGE", image),
                120);
        assertEquals(0, config.exitCode(), config.output());
        @SuppressWarnings("unchecked")
        Map<String, Map<String, Object>> services = (Map<String, Map<String, Object>>)
                new Yaml().<Map<String, Object>>load(config.output()).get("services");
        List<String> berth = services.keySet().stream()
                .filter(s -> image.equals(services.get(s).get("image")))
                .toList();
        assertEquals(
                List.of("berth", "replicate", "site-b", "webhooks"),
                berth.stream().sorted().toList());
        // a registry without authentication is published on this host's loopback only: as written,
        // anyone who reaches the port may push and delete
        for (String name : berth) {
            @SuppressWarnings("unchecked")
            Map<String, Object> env = (Map<String, Object>) services.get(name).getOrDefault("environment", Map.of());
            if (!String.valueOf(env.getOrDefault("BERTH_AUTH_TYPE", "none")).equals("none")) {
                continue;
            }
            @SuppressWarnings("unchecked")
            List<Object> ports = (List<Object>) services.get(name).getOrDefault("ports", List.of());
            for (Object port : ports) {
                boolean loopback = port instanceof Map<?, ?> m
                        ? "127.0.0.1".equals(m.get("host_ip"))
                        : String.valueOf(port).startsWith("127.0.0.1:");
                assertTrue(loopback, name + " publishes " + port + " beyond this host with auth none");
            }
        }

        // what stands in for the services that cannot run here
        KafkaBroker kafka = KafkaBroker.shared();
        S3Endpoint s3 = S3Endpoint.shared();
        List<String> hooks = new CopyOnWriteArrayList<>();
        HttpServer receiver = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        receiver.createContext("/", ex -> {
            hooks.add(new String(ex.getRequestBody().readAllBytes(), StandardCharsets.UTF_8));
            ex.sendResponseHeaders(204, -1);
            ex.close();
        });
        receiver.start();
        String run = Long.toString(System.nanoTime());
        int berthPort = FreePorts.next();
        int sitePort = FreePorts.next();
        int webhooksPort = FreePorts.next();
        int replicatePort = FreePorts.next();
        Map<String, String> addresses = new LinkedHashMap<>();
        addresses.put("kafka:9092", kafka.bootstrapServers());
        addresses.put("jdbc:postgresql://postgres:5432/berth", pg.get().newDatabase());
        addresses.put("http://minio:9000", s3.endpoint());
        addresses.put("http://berth:5000", "http://127.0.0.1:" + berthPort);
        addresses.put("http://site-b:5000", "http://127.0.0.1:" + sitePort);
        addresses.put(
                "http://hooks.example:8080/berth",
                "http://127.0.0.1:" + receiver.getAddress().getPort() + "/berth");
        addresses.put("127.0.0.1:5003", "127.0.0.1:" + webhooksPort);
        addresses.put("127.0.0.1:5002", "127.0.0.1:" + replicatePort);
        addresses.put("berth.events", "compose-" + run + ".events"); // a topic of its own on the shared broker
        // only what differs here: ports on the shared network, the tests' credentials, a prefix of its own
        Map<String, Map<String, String>> overrides = Map.of(
                "berth",
                        Map.of(
                                "BERTH_HTTP_PORT",
                                "" + berthPort,
                                "BERTH_ADMIN_PORT",
                                "" + FreePorts.next(),
                                "BERTH_METADATA_POSTGRES_USER",
                                Postgres.user(),
                                "BERTH_STORAGE_S3_ACCESS_KEY",
                                s3.accessKey(),
                                "BERTH_STORAGE_S3_SECRET_KEY",
                                s3.secretKey(),
                                "BERTH_STORAGE_S3_PREFIX",
                                "compose-" + run + "/",
                                "BERTH_HTTP_SHUTDOWN_GRACE",
                                "1s"),
                "site-b",
                        Map.of(
                                "BERTH_HTTP_PORT",
                                "" + sitePort,
                                "BERTH_ADMIN_PORT",
                                "" + FreePorts.next(),
                                "BERTH_HTTP_SHUTDOWN_GRACE",
                                "1s"),
                "webhooks", Map.of("BERTH_WEBHOOKS_HTTP_PORT", "" + webhooksPort),
                "replicate", Map.of("BERTH_REPLICATION_HTTP_PORT", "" + replicatePort));

        long t0 = System.nanoTime();
        Map<String, String> containers = new LinkedHashMap<>();
        List<String> volumes = new ArrayList<>();
        try {
            for (String name : List.of("site-b", "berth", "webhooks", "replicate")) { // depends_on's order
                Map<String, Object> service = services.get(name);
                List<String> args = new ArrayList<>(
                        List.of("run", "-d", "--network", "host", "--name", "compose-" + name + "-" + run));
                @SuppressWarnings("unchecked")
                Map<String, Object> env = (Map<String, Object>) service.getOrDefault("environment", Map.of());
                Map<String, String> resolved = new LinkedHashMap<>();
                env.forEach((k, v) -> resolved.put(k, replace(String.valueOf(v), addresses)));
                resolved.putAll(overrides.get(name));
                resolved.forEach((k, v) -> args.addAll(List.of("-e", k + "=" + v)));
                @SuppressWarnings("unchecked")
                List<String> mounts = (List<String>) service.getOrDefault("volumes", List.of());
                for (String mount : mounts) {
                    String[] parts = mount.split(":");
                    if (parts[0].startsWith("/")) { // a configuration file: with this run's addresses
                        Path copy = tmp.resolve(name + "-" + Path.of(parts[0]).getFileName());
                        Files.writeString(copy, replace(Files.readString(Path.of(parts[0])), addresses));
                        Files.setPosixFilePermissions(copy, PosixFilePermissions.fromString("rw-r--r--"));
                        args.addAll(List.of("-v", copy + ":" + parts[1] + ":ro"));
                    } else { // a named volume: one of this run's own
                        String volume = "compose-" + parts[0] + "-" + run;
                        volumes.add(volume);
                        args.addAll(List.of("-v", volume + ":" + parts[1]));
                    }
                }
                args.add(image);
                @SuppressWarnings("unchecked")
                List<String> command = (List<String>) service.get("command");
                args.addAll(command);
                containers.put(
                        name,
                        ok(docker.docker(args.toArray(String[]::new))).output().trim());
                if (name.equals("berth")) { // site-b and berth before those that depend on them
                    ImageProcessTest.untilReady(sitePort);
                    ImageProcessTest.untilReady(berthPort);
                }
            }
            System.out.printf("compose services started: %d ms%n", (System.nanoTime() - t0) / 1_000_000);
            Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rwxr-xr-x"));
            // each service's own health check, as compose.yaml gives it, passes once it is up (all at once)
            Map<String, Future<Command>> checks = new LinkedHashMap<>();
            try (var pool = Executors.newVirtualThreadPerTaskExecutor()) {
                for (String name : containers.keySet()) {
                    @SuppressWarnings("unchecked")
                    List<String> test =
                            ((Map<String, List<String>>) services.get(name).get("healthcheck")).get("test");
                    assertEquals("CMD", test.get(0));
                    List<String> exec = new ArrayList<>(List.of("exec", containers.get(name)));
                    test.subList(1, test.size()).forEach(a -> exec.add(replace(a, addresses)));
                    checks.put(name, pool.submit(() -> untilOk(docker, exec)));
                }
            }
            for (var check : checks.entrySet()) {
                Command health = check.getValue().get();
                assertEquals(
                        0,
                        health.exitCode(),
                        check.getKey() + ": " + health.output() + "\n"
                                + docker.docker("logs", containers.get(check.getKey()))
                                        .output());
            }
            System.out.printf("health checks passed: %d ms%n", (System.nanoTime() - t0) / 1_000_000);
            String log = ok(docker.docker("logs", containers.get("berth"))).output();
            assertTrue(log.contains("blobs s3") && log.contains("metadata postgres"), log);

            // a push to berth: delivered to the webhook endpoint, and copied to site-b
            Path rootfs = Files.createDirectories(tmp.resolve("rootfs"));
            Files.writeString(rootfs.resolve("hello.txt"), "hello from compose " + run + "\n");
            ok(Command.run(
                    "tar",
                    "-C",
                    rootfs.toString(),
                    "-cf",
                    tmp.resolve("rootfs.tar").toString(),
                    "."));
            String pushed = "127.0.0.1:" + berthPort + "/demo/compose:1";
            ok(docker.docker("import", tmp.resolve("rootfs.tar").toString(), pushed));
            ok(docker.docker("push", pushed));
            long deadline = System.nanoTime() + Duration.ofSeconds(90).toNanos();
            HttpClient http = HttpClient.newHttpClient();
            String siteTags = "";
            while (System.nanoTime() < deadline) {
                HttpResponse<String> r = http.send(
                        HttpRequest.newBuilder(
                                        URI.create("http://127.0.0.1:" + sitePort + "/v2/demo/compose/tags/list"))
                                .build(),
                        HttpResponse.BodyHandlers.ofString());
                siteTags = r.body();
                if (r.statusCode() == 200
                        && siteTags.contains("\"1\"")
                        && hooks.stream().anyMatch(h -> h.contains("demo/compose"))) {
                    break;
                }
                Thread.sleep(250);
            }
            assertTrue(
                    siteTags.contains("\"1\""),
                    "replicated to site-b: " + siteTags + "\n"
                            + docker.docker("logs", containers.get("replicate")).output());
            assertTrue(
                    hooks.stream().anyMatch(h -> h.contains("demo/compose")),
                    "webhook delivered: " + hooks + "\n"
                            + docker.docker("logs", containers.get("webhooks")).output());
            System.out.printf("push replicated and delivered: %d ms%n", (System.nanoTime() - t0) / 1_000_000);
            docker.docker("rmi", pushed);

            // docker stop: every service stops in order and exits 0
            for (String name : List.of("replicate", "webhooks", "berth", "site-b")) {
                ok(docker.docker("stop", "--time", "45", containers.get(name)));
                assertEquals(
                        "0",
                        ok(docker.docker("inspect", "--format", "{{.State.ExitCode}}", containers.get(name)))
                                .output()
                                .trim(),
                        name + ": "
                                + docker.docker("logs", containers.get(name)).output());
            }
            System.out.printf("all stopped: %d ms%n", (System.nanoTime() - t0) / 1_000_000);
            // no secret of the env files (nor the tests' S3 key) in any service's output, start to stop
            List<String> secrets = new ArrayList<>(List.of(s3.secretKey()));
            for (String file : List.of("berth.env", "postgres.env", "minio.env")) {
                Files.readAllLines(deploy.resolve(file)).stream()
                        .filter(l -> l.contains("=") && !l.startsWith("#"))
                        .map(l -> l.substring(l.indexOf('=') + 1))
                        .forEach(secrets::add);
            }
            for (var c : containers.entrySet()) {
                String output = ok(docker.docker("logs", c.getValue())).output();
                for (String secret : secrets) {
                    assertTrue(!output.contains(secret), c.getKey() + " printed a secret of its env files:\n" + output);
                }
            }
        } finally {
            receiver.stop(0);
            containers.values().forEach(c -> docker.docker("rm", "-f", c));
            volumes.forEach(v -> docker.docker("volume", "rm", "-f", v));
        }
    }

    private static String replace(String value, Map<String, String> addresses) {
        String out = value;
        for (var e : addresses.entrySet()) {
            out = out.replace(e.getKey(), e.getValue());
        }
        return out;
    }

    private static Command untilOk(Dockerd docker, List<String> args) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        Command c;
        do {
            c = docker.docker(args.toArray(String[]::new));
            if (c.exitCode() == 0) {
                return c;
            }
            Thread.sleep(500);
        } while (System.nanoTime() < deadline);
        return c;
    }
}
