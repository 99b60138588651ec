package io.berth.testsupport;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * A Docker engine for tests: the one {@code DOCKER_HOST} names when it answers, else a dockerd from
 * Debian's docker.io started once per test JVM (vfs storage, no bridge, loopback registries
 * insecure) and stopped by PID when the JVM exits. {@link #bridged()}: a second one whose containers
 * get a network of their own, so that {@code docker run -p PORT:5000} publishes a port as it does for
 * users (docker's userland proxy; no iptables rules are touched).
 */
public final class Dockerd implements AutoCloseable {
    private static Dockerd shared;
    private static Dockerd bridged;

    private final String host;
    /** Stops a daemon started by {@link #dedicated}; nothing for the shared ones, which live as long as the JVM. */
    private final Runnable stop;

    private Dockerd(String host) {
        this(host, () -> {});
    }

    private Dockerd(String host, Runnable stop) {
        this.host = host;
        this.stop = stop;
    }

    /** The shared engine, or empty when neither a running engine nor dockerd is available. */
    public static synchronized Optional<Dockerd> shared() {
        if (shared == null) {
            shared = start();
        }
        return shared.host == null ? Optional.empty() : Optional.of(shared);
    }

    /**
     * A dockerd of this JVM with a bridge of its own (made here with {@code ip link}, removed with the
     * daemon), or empty where no bridge can be made (not root, no bridge support in the kernel).
     */
    public static synchronized Optional<Dockerd> bridged() {
        if (bridged == null) {
            bridged = startBridged();
        }
        return bridged.host == null ? Optional.empty() : Optional.of(bridged);
    }

    /**
     * A dockerd of the caller's own with further daemon options ({@code --registry-mirror URL}: options
     * a shared engine cannot take without disturbing other tests), no bridge like the shared one;
     * {@link #close()} stops it. Empty where dockerd is not installed.
     */
    public static Optional<Dockerd> dedicated(String... options) {
        if (!Command.onPath("dockerd") || !Command.onPath("docker")) {
            return Optional.empty();
        }
        try {
            Path dir = Files.createTempDirectory(Path.of("/tmp"), "berth-dockerd-own-");
            return Optional.of(launch(dir, "--bridge=none", null, List.of(options)));
        } catch (IOException e) {
            throw new IllegalStateException("cannot start a dedicated dockerd: " + e.getMessage(), e);
        }
    }

    /** {@code unix:///…/docker.sock}. */
    public String host() {
        return host;
    }

    /** Runs the docker CLI against this engine. */
    public Command docker(String... args) {
        return docker(Map.of(), args);
    }

    /** Runs the docker CLI against this engine with extra environment ({@code DOCKER_CONFIG} for its own logins). */
    public Command docker(Map<String, String> env, String... args) {
        List<String> cmd = new ArrayList<>();
        cmd.add("docker");
        cmd.addAll(List.of(args));
        Map<String, String> e = new HashMap<>(env);
        e.put("DOCKER_HOST", host);
        return Command.run(cmd, e, 600);
    }

    private static Dockerd start() {
        String existing = System.getenv("DOCKER_HOST");
        if (existing != null && !existing.isBlank() && answers(existing)) {
            return new Dockerd(existing);
        }
        if (!Command.onPath("dockerd") || !Command.onPath("docker")) {
            return new Dockerd(null);
        }
        try {
            // DOCKER_HOST names a socket nobody serves (the build sets one for Testcontainers): serve it there
            Path dir = existing != null && existing.startsWith("unix://")
                    ? Files.createDirectories(
                            Path.of(existing.substring("unix://".length())).getParent())
                    : Files.createTempDirectory(Path.of("/tmp"), "berth-dockerd-");
            Dockerd d = launch(dir, "--bridge=none", null, List.of());
            // Testcontainers reads DOCKER_HOST from system properties as well as the environment
            System.setProperty("DOCKER_HOST", d.host);
            return d;
        } catch (IOException e) {
            throw new IllegalStateException("cannot start dockerd: " + e.getMessage(), e);
        }
    }

    private static Dockerd startBridged() {
        if (!Command.onPath("dockerd") || !Command.onPath("docker") || !Command.onPath("ip")) {
            return new Dockerd(null);
        }
        try {
            Path dir = Files.createTempDirectory(Path.of("/tmp"), "berth-dockerd-br-");
            // a name (at most 15 characters) and a /24 no other engine of this machine uses
            String bridge = "berth" + Long.toString(ProcessHandle.current().pid() % 1_000_000_000L, 36);
            String used = Command.run("ip", "-4", "addr").output();
            String subnet = null;
            for (int i = 0; i < 256 && subnet == null; i++) {
                int third = (int) ((ProcessHandle.current().pid() + i) % 256);
                if (!used.contains(" 10.213." + third + ".")) {
                    subnet = "10.213." + third;
                }
            }
            if (subnet == null) {
                return new Dockerd(null);
            }
            Command.run("ip", "link", "delete", bridge);
            if (Command.run("ip", "link", "add", bridge, "type", "bridge").exitCode() != 0
                    || Command.run("ip", "addr", "add", subnet + ".1/24", "dev", bridge)
                                    .exitCode()
                            != 0
                    || Command.run("ip", "link", "set", bridge, "up").exitCode() != 0) {
                Command.run("ip", "link", "delete", bridge);
                return new Dockerd(null);
            }
            return launch(dir, "--bridge=" + bridge, bridge, List.of());
        } catch (IOException e) {
            throw new IllegalStateException("cannot start a bridged dockerd: " + e.getMessage(), e);
        }
    }

    /**
     * Starts dockerd in {@code dir}; {@code bridge}: the device made for it, deleted when it stops;
     * {@code options}: further daemon options.
     */
    private static Dockerd launch(Path dir, String bridgeOption, String bridge, List<String> options) {
        try {
            String host = "unix://" + dir.resolve("docker.sock");
            Path pidFile = dir.resolve("dockerd.pid");
            List<String> command = new ArrayList<>(List.of(
                    "dockerd",
                    "--data-root",
                    dir.resolve("root").toString(),
                    "--exec-root",
                    dir.resolve("exec").toString(),
                    "--storage-driver=vfs",
                    "--iptables=false",
                    bridgeOption,
                    "--insecure-registry",
                    "127.0.0.0/8",
                    "--host",
                    host,
                    "--pidfile",
                    pidFile.toString()));
            command.addAll(options);
            ProcessBuilder pb = new ProcessBuilder(command)
                    .redirectErrorStream(true)
                    .redirectOutput(dir.resolve("dockerd.log").toFile());
            Process p = pb.start();
            Thread hook = new Thread(() -> stop(p, dir, bridge));
            Runtime.getRuntime().addShutdownHook(hook);
            long deadline = System.currentTimeMillis() + 60_000;
            while (System.currentTimeMillis() < deadline) {
                if (answers(host)) {
                    return options.isEmpty()
                            ? new Dockerd(host)
                            : new Dockerd(host, () -> {
                                if (Runtime.getRuntime().removeShutdownHook(hook)) {
                                    stop(p, dir, null);
                                    Command.run(List.of("rm", "-rf", dir.toString()), Map.of(), 120);
                                }
                            });
                }
                if (!p.isAlive()) {
                    break;
                }
                Thread.sleep(200);
            }
            p.destroyForcibly();
            throw new IllegalStateException("dockerd did not start:\n" + Files.readString(dir.resolve("dockerd.log")));
        } catch (IOException e) {
            throw new IllegalStateException("cannot start dockerd: " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted starting dockerd", e);
        }
    }

    /** Stops a {@link #dedicated} daemon and removes its directory; the shared ones stay. */
    @Override
    public void close() {
        stop.run();
    }

    private static boolean answers(String host) {
        return Command.run(
                                List.of("docker", "version", "--format", "{{.Server.Version}}"),
                                Map.of("DOCKER_HOST", host),
                                20)
                        .exitCode()
                == 0;
    }

    private static void stop(Process p, Path dir, String bridge) {
        p.destroy(); // SIGTERM: dockerd stops its containerd too
        try {
            if (!p.waitFor(20, TimeUnit.SECONDS)) {
                p.destroyForcibly();
            }
            Command.run(
                    List.of(
                            "rm",
                            "-rf",
                            dir.resolve("root").toString(),
                            dir.resolve("exec").toString()),
                    Map.of(),
                    120);
            if (bridge != null) { // a directory of this JVM's own: its log goes too
                Command.run("ip", "link", "delete", bridge);
                Command.run(List.of("rm", "-rf", dir.toString()), Map.of(), 120);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
