package io.berth.testsupport;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A PostgreSQL server for tests, from Debian's {@code postgresql} package: a cluster made with
 * initdb in a temporary directory (as the {@code postgres} user when running as root, which initdb
 * refuses), listening on a free loopback port, started once per test JVM and stopped when it exits.
 * Each caller gets a database of its own ({@link #newDatabase}).
 */
public final class Postgres {
    private static Postgres shared;
    private static final AtomicInteger DATABASES = new AtomicInteger();

    private final int port;
    private final Path bin;

    private Postgres(int port, Path bin) {
        this.port = port;
        this.bin = bin;
    }

    /** The shared server, or empty when PostgreSQL is not installed. */
    public static synchronized Optional<Postgres> shared() {
        if (shared == null) {
            shared = start();
        }
        return shared.port < 0 ? Optional.empty() : Optional.of(shared);
    }

    public int port() {
        return port;
    }

    /** A new, empty database; its JDBC URL. */
    public String newDatabase() {
        String name = "berth_" + ProcessHandle.current().pid() + "_" + DATABASES.incrementAndGet();
        Command c = run(List.of(
                bin.resolve("createdb").toString(),
                "-h",
                "127.0.0.1",
                "-p",
                Integer.toString(port),
                "-U",
                "postgres",
                name));
        if (c.exitCode() != 0) {
            throw new IllegalStateException("createdb failed: " + c.output());
        }
        return url(name);
    }

    public String url(String database) {
        return "jdbc:postgresql://127.0.0.1:" + port + "/" + database;
    }

    public static String user() {
        return "postgres";
    }

    private static Optional<Path> installed() {
        Path root = Path.of("/usr/lib/postgresql");
        if (!Files.isDirectory(root)) {
            return Optional.empty();
        }
        try (var versions = Files.list(root)) {
            return versions.map(v -> v.resolve("bin"))
                    .filter(b -> Files.isExecutable(b.resolve("initdb")))
                    .sorted()
                    .reduce((a, b) -> b);
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    private static boolean root() {
        return "root".equals(System.getProperty("user.name"));
    }

    /** Runs a PostgreSQL program, as the postgres user when this JVM is root. */
    private static Command run(List<String> cmd) {
        List<String> full = new ArrayList<>();
        if (root()) {
            full.addAll(List.of("runuser", "-u", "postgres", "--"));
        }
        full.addAll(cmd);
        return Command.run(full, Map.of(), 120);
    }

    private static Postgres start() {
        Optional<Path> bin = installed();
        if (bin.isEmpty()) {
            return new Postgres(-1, null);
        }
        try {
            Path dir = Files.createTempDirectory(Path.of("/tmp"), "berth-pg-");
            Path data = dir.resolve("data");
            if (root()) {
                Command.run("chown", "-R", "postgres", dir.toString());
            }
            // a locale that does not sort bytewise (ICU's en-US), as production databases have: paging must not
            // depend on it
            Command init = run(List.of(
                    bin.get().resolve("initdb").toString(),
                    "-D",
                    data.toString(),
                    "-U",
                    "postgres",
                    "--auth=trust",
                    "--encoding=UTF8",
                    "--locale=C.UTF-8",
                    "--locale-provider=icu",
                    "--icu-locale=en-US",
                    "--no-sync"));
            if (init.exitCode() != 0) {
                // a machine without that locale: the default one
                init = run(List.of(
                        bin.get().resolve("initdb").toString(),
                        "-D",
                        data.toString(),
                        "-U",
                        "postgres",
                        "--auth=trust",
                        "--encoding=UTF8",
                        "--no-sync"));
            }
            if (init.exitCode() != 0) {
                throw new IllegalStateException("initdb failed: " + init.output());
            }
            int port = FreePorts.next();
            Command start = run(List.of(
                    bin.get().resolve("pg_ctl").toString(),
                    "-D",
                    data.toString(),
                    "-l",
                    dir.resolve("postgres.log").toString(),
                    "-w",
                    "-o",
                    "-p " + port + " -k " + dir + " -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=300",
                    "start"));
            if (start.exitCode() != 0) {
                throw new IllegalStateException("pg_ctl start failed: " + start.output());
            }
            Path pgCtl = bin.get().resolve("pg_ctl");
            Runtime.getRuntime()
                    .addShutdownHook(new Thread(
                            () -> run(List.of(pgCtl.toString(), "-D", data.toString(), "stop", "-m", "immediate"))));
            return new Postgres(port, bin.get());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
