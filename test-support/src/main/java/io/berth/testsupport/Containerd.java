package io.berth.testsupport;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * A containerd daemon for tests (Debian's containerd, which docker.io depends on), started once per
 * test JVM on a socket in a temporary directory and stopped when the JVM exits; {@link #ctr} drives
 * it with containerd's own client, a Go HTTP client as strict about framing as docker's.
 */
public final class Containerd {
    private static Containerd shared;

    private final Path socket;

    private Containerd(Path socket) {
        this.socket = socket;
    }

    /** The shared daemon, or empty when containerd is not installed. */
    public static synchronized Optional<Containerd> shared() {
        if (shared == null) {
            shared = start();
        }
        return shared.socket == null ? Optional.empty() : Optional.of(shared);
    }

    /** Runs {@code ctr -a <socket> <args>}. */
    public Command ctr(String... args) {
        List<String> cmd = new ArrayList<>(List.of("ctr", "-a", socket.toString()));
        cmd.addAll(List.of(args));
        return Command.run(cmd, Map.of(), 600);
    }

    private static Containerd start() {
        if (!Command.onPath("containerd") || !Command.onPath("ctr")) {
            return new Containerd(null);
        }
        try {
            Path dir = Files.createTempDirectory(Path.of("/tmp"), "berth-containerd-");
            Path socket = dir.resolve("containerd.sock");
            Process p = new ProcessBuilder(
                            "containerd",
                            "--root",
                            dir.resolve("root").toString(),
                            "--state",
                            dir.resolve("state").toString(),
                            "--address",
                            socket.toString())
                    .redirectErrorStream(true)
                    .redirectOutput(dir.resolve("containerd.log").toFile())
                    .start();
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                p.destroy();
                try {
                    if (!p.waitFor(20, TimeUnit.SECONDS)) {
                        p.destroyForcibly();
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                Command.run(List.of("rm", "-rf", dir.toString()), Map.of(), 120);
            }));
            Containerd c = new Containerd(socket);
            long deadline = System.currentTimeMillis() + 60_000;
            while (System.currentTimeMillis() < deadline) {
                if (Files.exists(socket) && c.ctr("version").exitCode() == 0) {
                    return c;
                }
                if (!p.isAlive()) {
                    break;
                }
                Thread.sleep(200);
            }
            p.destroyForcibly();
            throw new IllegalStateException(
                    "containerd did not start:\n" + Files.readString(dir.resolve("containerd.log")));
        } catch (IOException e) {
            throw new IllegalStateException("cannot start containerd: " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted starting containerd", e);
        }
    }
}
