package io.berth.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.berth.launcher.process.BerthProcess;
import io.berth.testsupport.Command;
import io.berth.testsupport.Dockerd;
import io.berth.testsupport.FreePorts;
import io.berth.testsupport.TestServices;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.MatchResult;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Berth's image (launcher/pom.xml, profile image; docs/deploy.md), loaded once into the tests'
 * dockerd: run on a volume, pushed to and pulled from, stopped, run again on the same volume; its own
 * image stored in it, pulled back and run; {@code admin} and {@code health} from the image. It runs
 * as users do, {@code docker run -d -p PORT:5000 -v VOL:/var/lib/berth IMAGE} (on 127.0.0.1 only), on a dockerd with a
 * bridge of its own ({@link Dockerd#bridged()}: the tests' shared one has none, where {@code -p} is
 * ignored); clients inside the container's own network reach its loopback-only admin port.
 */
@Tag("process")
@Tag("services")
class ImageProcessTest {
    static final Path IMAGE_TAR = Path.of("target", "berth-image.tar");
    static Dockerd docker;
    static String image;
    static final List<String> CONTAINERS = new ArrayList<>();
    static final List<String> VOLUMES = new ArrayList<>();

    @BeforeAll
    static void load() {
        var d = Dockerd.bridged();
        TestServices.require(d.isPresent(), "dockerd with a bridge of its own (docker.io, root, the kernel's bridge)");
        docker = d.get();
        image = load(docker, ImageProcessTest.class);
    }

    private static final Map<String, String> LOADED = new HashMap<>();

    /** Loads the image the build made into the tests' shared dockerd (once per JVM); its name. */
    static String load(Class<?> by) {
        var d = Dockerd.shared();
        TestServices.require(d.isPresent(), "dockerd (Debian package docker.io)");
        return load(d.get(), by);
    }

    /** Loads the image the build made into {@code engine} (once per JVM and engine); its name. */
    static synchronized String load(Dockerd engine, Class<?> by) {
        if (LOADED.containsKey(engine.host())) {
            return LOADED.get(engine.host());
        }
        var d = Optional.of(engine);
        if (!Files.isRegularFile(IMAGE_TAR)) {
            throw new IllegalStateException("no " + IMAGE_TAR.toAbsolutePath() + ": the build makes it before the tests"
                    + " (launcher/pom.xml, profile image: not with -DskipTests)");
        }
        long start = System.nanoTime();
        Command loaded = ok(d.get().docker("load", "-i", IMAGE_TAR.toString()));
        String name = loaded.output()
                .lines()
                .filter(l -> l.startsWith("Loaded image: "))
                .findFirst()
                .orElseThrow(() -> new IllegalStateException(loaded.output()))
                .substring("Loaded image: ".length())
                .trim();
        long size = Long.parseLong(ok(d.get().docker("image", "inspect", "--format", "{{.Size}}", name))
                .output()
                .trim());
        System.out.printf(
                "image %s: %.1f MB uncompressed, docker load %d ms (%s)%n",
                name, size / 1e6, (System.nanoTime() - start) / 1_000_000, by.getSimpleName());
        LOADED.put(engine.host(), name);
        return name;
    }

    @AfterAll
    static void cleanUp() {
        for (String c : CONTAINERS) {
            docker.docker("rm", "-f", c);
        }
        for (String v : VOLUMES) {
            docker.docker("volume", "rm", "-f", v);
        }
    }

    @Test
    void runPushPullStopAndRunAgainOnTheSameVolume() throws Exception {
        String volume = "berth-data-" + System.nanoTime();
        VOLUMES.add(volume);
        int port = FreePorts.next();
        String token = "image-test-token";
        // the image's own defaults inside (port 5000, admin on the container's loopback at 5001)
        List<String> env = List.of("-e", "BERTH_ADMIN_TOKENS=" + token, "-e", "BERTH_HTTP_SHUTDOWN_GRACE=3s");
        String first = run(volume, port, env);
        long ready = untilReady(port);
        System.out.printf("docker run -p %d:5000 -> /readyz 200: %d ms%n", port, ready);
        String log = logLine(first, " serving http");
        assertTrue(log.contains("serving http://0.0.0.0:5000 (every address of this machine or container"), log);
        assertTrue(log.contains("blobs filesystem /var/lib/berth/"), log);
        assertTrue(ok(docker.docker("port", first, "5000")).output().contains(":" + port), "published on " + port);

        // not root: the kernel's view of the process dockerd started
        String pid = ok(docker.docker("inspect", "--format", "{{.State.Pid}}", first))
                .output()
                .trim();
        String status = Files.readString(Path.of("/proc", pid, "status"));
        String uid =
                status.lines().filter(l -> l.startsWith("Uid:")).findFirst().orElseThrow();
        assertEquals("65532", uid.split("\\s+")[1], uid);
        assertTrue(Files.readString(Path.of("/proc", pid, "cmdline")).startsWith("java"), "java is PID 1's program");
        // SQLite's library is loaded where the image holds it, not copied into the container's /tmp
        String changed = ok(docker.docker("diff", first)).output();
        assertFalse(changed.contains("/tmp/sqlite-"), changed);

        // the documented health check, run in the container as Docker's HEALTHCHECK would
        long check = System.nanoTime();
        ok(docker.docker("exec", first, "java", "-cp", "@/app/jib-classpath-file", "io.berth.launcher.Main", "health"));
        System.out.printf("docker exec ... berth health: %d ms%n", (System.nanoTime() - check) / 1_000_000);

        // Berth's own image pushed into Berth through the published port, pulled back, and run: the
        // pulled image, in the first one's network, checks its health
        String stored = "127.0.0.1:" + port + "/berth/berth:1";
        ok(docker.docker("tag", image, stored));
        ok(docker.docker("push", stored));
        ok(docker.docker("rmi", stored));
        ok(docker.docker("pull", stored));
        String beside = "container:" + first;
        Command health = docker.docker("run", "--rm", "--network", beside, stored, "health");
        assertEquals(0, health.exitCode(), health.output());
        Command down =
                docker.docker("run", "--rm", "--network", beside, stored, "health", "http://127.0.0.1:5999/readyz");
        assertEquals(1, down.exitCode(), "no server there: " + down.output());

        // berth admin from the image, against the running one's loopback-only admin port
        Command admin = docker.docker(
                "run",
                "--rm",
                "--network",
                beside,
                "-e",
                "BERTH_ADMIN_TOKEN=" + token,
                image,
                "admin",
                "--server",
                "127.0.0.1:5001",
                "tags",
                "list",
                "berth/berth");
        assertEquals(0, admin.exitCode(), admin.output());
        assertTrue(admin.output().contains("1"), admin.output());

        // docker stop: SIGTERM to java as PID 1, an ordered stop within the grace, exit code 0
        ok(docker.docker("stop", "--time", "30", first));
        assertEquals(
                "0",
                ok(docker.docker("inspect", "--format", "{{.State.ExitCode}}", first))
                        .output()
                        .trim());
        String stopped = ok(docker.docker("logs", first)).output();
        assertFalse(stopped.contains(token), "the admin token in the output:\n" + stopped);
        assertTrue(
                stopped.contains("/readyz answers 503 for 3000 ms before the listener closes")
                        && stopped.contains("berth: stopped"),
                stopped);
        ok(docker.docker("rm", first));

        // a new container on the same volume serves what the first stored
        String second = run(volume, port, env);
        untilReady(port);
        HttpResponse<String> tags = HttpClient.newHttpClient()
                .send(
                        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/v2/berth/berth/tags/list"))
                                .build(),
                        HttpResponse.BodyHandlers.ofString());
        assertEquals(200, tags.statusCode(), tags.body());
        assertTrue(tags.body().contains("\"1\""), tags.body());
        HttpResponse<Void> manifest = HttpClient.newHttpClient()
                .send(
                        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/v2/berth/berth/manifests/1"))
                                .method("HEAD", HttpRequest.BodyPublishers.noBody())
                                .header("Accept", "application/vnd.docker.distribution.manifest.v2+json")
                                .build(),
                        HttpResponse.BodyHandlers.discarding());
        assertEquals(200, manifest.statusCode());
        ok(docker.docker("stop", second));
        assertEquals(
                "0",
                ok(docker.docker("inspect", "--format", "{{.State.ExitCode}}", second))
                        .output()
                        .trim());
        docker.docker("rmi", stored);
    }

    @Test
    void imageSaysWhatItIs() {
        String labels = ok(docker.docker("image", "inspect", "--format", "{{json .Config.Labels}}", image))
                .output();
        for (String label : List.of(
                "org.opencontainers.image.version",
                "org.opencontainers.image.revision",
                "org.opencontainers.image.source")) {
            assertTrue(labels.contains("\"" + label + "\""), labels);
        }
        assertEquals(
                "65532:65532",
                ok(docker.docker("image", "inspect", "--format", "{{.Config.User}}", image))
                        .output()
                        .trim());
        // nothing of the image is the user's but /var/lib/berth, and nothing writable by all but /tmp
        String manifest = ok(Command.run("tar", "-xOf", IMAGE_TAR.toString(), "manifest.json"))
                .output();
        var layers = Pattern.compile("[0-9a-f]{64}\\.tar(\\.gz)?")
                .matcher(manifest)
                .results()
                .map(MatchResult::group)
                .distinct()
                .toList();
        assertTrue(layers.size() >= 3, manifest);
        List<String> writable = new ArrayList<>();
        for (String layer : layers) {
            String listing = ok(Command.run(
                            List.of(
                                    "bash",
                                    "-c",
                                    "tar -xOf \"$0\" \"$1\" | tar -tvz 2>/dev/null",
                                    IMAGE_TAR.toString(),
                                    layer),
                            Map.of(),
                            120))
                    .output();
            for (String entry : listing.lines().toList()) {
                String[] f = entry.split("\\s+");
                String path = f[f.length - 1].replaceFirst("^\\./", "");
                boolean theUsers = !f[1].equals("0/0") && !path.equals("var/lib/berth/");
                boolean everyones = f[0].charAt(8) == 'w' && f[0].charAt(0) != 'l' && !path.equals("tmp/");
                if (theUsers || everyones) {
                    writable.add(entry);
                }
            }
        }
        assertEquals(List.of(), writable, "writable by the user berth");
        String volumes = ok(docker.docker("image", "inspect", "--format", "{{json .Config.Volumes}}", image))
                .output();
        assertTrue(volumes.contains("/var/lib/berth"), volumes);
        // the image runs with bin/berth's JVM options (those that hold on any JDK and CPU)
        String entrypoint = ok(docker.docker("image", "inspect", "--format", "{{json .Config.Entrypoint}}", image))
                .output();
        for (String option : BerthProcess.defaultJvmOptions()) {
            assertTrue(entrypoint.contains("\"" + option + "\""), option + " missing from " + entrypoint);
        }
    }

    private static String run(String volume, int port, List<String> env) {
        List<String> args = new ArrayList<>(
                List.of("run", "-d", "-p", "127.0.0.1:" + port + ":5000", "-v", volume + ":/var/lib/berth"));
        args.addAll(env);
        args.add(image);
        String id = ok(docker.docker(args.toArray(String[]::new))).output().trim();
        CONTAINERS.add(id);
        return id;
    }

    /** Milliseconds until /readyz answers 200. */
    static long untilReady(int port) throws InterruptedException {
        long start = System.nanoTime();
        HttpClient client =
                HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1)).build();
        while (System.nanoTime() - start < Duration.ofSeconds(120).toNanos()) {
            try {
                if (client.send(
                                        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/readyz"))
                                                .timeout(Duration.ofSeconds(2))
                                                .build(),
                                        HttpResponse.BodyHandlers.discarding())
                                .statusCode()
                        == 200) {
                    return (System.nanoTime() - start) / 1_000_000;
                }
            } catch (IOException e) {
                // not listening yet
            }
            Thread.sleep(50);
        }
        throw new IllegalStateException("not ready on port " + port + " within 120 s");
    }

    /** The container's output once it holds {@code text} (the start-up line comes just after /readyz turns 200). */
    static String logLine(String container, String text) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        String log = "";
        while (System.nanoTime() < deadline) {
            log = ok(docker.docker("logs", container)).output();
            if (log.contains(text)) {
                return log;
            }
            Thread.sleep(100);
        }
        throw new IllegalStateException("no '" + text + "' in the output of " + container + ":\n" + log);
    }

    static Command ok(Command c) {
        assertEquals(0, c.exitCode(), c.output());
        return c;
    }
}
