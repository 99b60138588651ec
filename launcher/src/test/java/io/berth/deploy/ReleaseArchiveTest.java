package io.berth.deploy;

import static io.berth.deploy.ImageProcessTest.ok;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.berth.launcher.process.BerthProcess;
import io.berth.testsupport.Command;
import io.berth.testsupport.Dockerd;
import io.berth.testsupport.FreePorts;
import io.berth.testsupport.TestServices;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The release archive (target/berth-VERSION.tar.gz, launcher/src/image/make-release): unpacked in an
 * empty directory, {@code bin/berth serve} serves with no Maven (a {@code mvn} that fails is first on
 * the PATH) from another empty working directory; docker pushes and pulls through it; SIGTERM stops it
 * with exit code 0. deploy/berth.service, as shipped in it, passes {@code systemd-analyze verify}.
 */
@Tag("process")
@Tag("services")
class ReleaseArchiveTest {

    static Path archive() throws Exception {
        try (Stream<Path> files = Files.list(Path.of("target"))) {
            return files.filter(f -> f.getFileName().toString().matches("berth-.*\\.tar\\.gz"))
                    .findFirst()
                    .orElseThrow(
                            () -> new IllegalStateException("no target/berth-*.tar.gz: the build makes it before the"
                                    + " tests (launcher/pom.xml, profile image: not with -DskipTests)"));
        }
    }

    @Test
    void archiveServesFromAnEmptyDirectoryWithoutMaven(@TempDir Path tmp) throws Exception {
        Path unpacked = Files.createDirectories(tmp.resolve("opt"));
        ok(Command.run(
                "tar",
                "-C",
                unpacked.toString(),
                "-xzf",
                archive().toAbsolutePath().toString()));
        Path home;
        try (Stream<Path> dirs = Files.list(unpacked)) {
            home = dirs.findFirst().orElseThrow();
        }
        assertTrue(home.getFileName().toString().startsWith("berth-"), home.toString());
        for (String f : List.of(
                "bin/berth",
                "bin/java-env",
                "README.md",
                "docs/deploy.md",
                "deploy/berth.service",
                "deploy/compose.yaml",
                "launcher/target/launcher.jar",
                "launcher/target/native/org/sqlite/native/Linux/x86_64/libsqlitejdbc.so")) {
            assertTrue(Files.exists(home.resolve(f)), f + " in the archive");
        }
        assertFalse(Files.exists(home.resolve("pom.xml")), "no sources");
        // the very library of the driver the archive runs: an upgrade leaves no old one behind
        String library = "org/sqlite/native/Linux/x86_64/libsqlitejdbc.so";
        try (InputStream driver = ReleaseArchiveTest.class.getResourceAsStream("/" + library)) {
            assertArrayEquals(
                    driver.readAllBytes(),
                    Files.readAllBytes(home.resolve("launcher/target/native/" + library)),
                    "the archive's SQLite library is the driver's own");
        }
        try (Stream<Path> jars = Files.list(home.resolve("launcher/target/lib"))) {
            assertEquals(
                    List.of(),
                    jars.map(j -> j.getFileName().toString())
                            .filter(n -> n.startsWith("bcprov") || n.startsWith("picocli"))
                            .toList(),
                    "no jar the build no longer depends on");
        }

        Path noMaven = Files.createDirectories(tmp.resolve("no-maven"));
        Files.writeString(noMaven.resolve("mvn"), "#!/bin/sh\necho 'mvn was run' >&2\nexit 99\n");
        Files.setPosixFilePermissions(noMaven.resolve("mvn"), PosixFilePermissions.fromString("rwxr-xr-x"));
        Path work = Files.createDirectories(tmp.resolve("work"));
        int port = FreePorts.next();
        Path log = tmp.resolve("serve.log");
        ProcessBuilder pb = new ProcessBuilder(home.resolve("bin/berth").toString(), "serve")
                .directory(work.toFile())
                .redirectErrorStream(true)
                .redirectOutput(log.toFile());
        pb.environment().put("PATH", noMaven + ":" + System.getenv("PATH"));
        pb.environment().put("BERTH_HTTP_PORT", Integer.toString(port));
        pb.environment().put("BERTH_ADMIN_PORT", Integer.toString(FreePorts.next()));
        pb.environment().put("BERTH_HTTP_SHUTDOWN_GRACE", "1s");
        pb.environment().put("BERTH_AOT", "false"); // the cache is trained on the first serve: seconds not tested here
        // the default JVM options and SQLite's library as the archive holds it: nothing copied to the temporary
        // directory
        Path javaTmp = Files.createDirectories(tmp.resolve("java-tmp"));
        pb.environment()
                .put(
                        "BERTH_JAVA_OPTS",
                        String.join(" ", BerthProcess.defaultJvmOptions()) + " -Djava.io.tmpdir=" + javaTmp);
        long start = System.nanoTime();
        Process serve = pb.start();
        try {
            ImageProcessTest.untilReady(port);
            System.out.printf(
                    "release archive: bin/berth serve -> /readyz 200: %d ms%n",
                    (System.nanoTime() - start) / 1_000_000);
            String out = Files.readString(log);
            assertFalse(out.contains("mvn"), out);
            assertTrue(Files.isDirectory(work.resolve("data")), "data in the working directory: " + out);
            try (Stream<Path> copied = Files.list(javaTmp)) {
                assertEquals(
                        List.of(),
                        copied.filter(f -> f.getFileName().toString().startsWith("sqlite-"))
                                .toList(),
                        "SQLite's library loaded from the archive, not copied out of its jar");
            }

            var docker = Dockerd.shared();
            TestServices.require(docker.isPresent(), "dockerd (Debian package docker.io)");
            Path rootfs = Files.createDirectories(tmp.resolve("rootfs"));
            Files.writeString(rootfs.resolve("hello.txt"), "hello from the release archive\n");
            ok(Command.run(
                    "tar",
                    "-C",
                    rootfs.toString(),
                    "-cf",
                    tmp.resolve("rootfs.tar").toString(),
                    "."));
            String image = "127.0.0.1:" + port + "/release/hello:1";
            ok(docker.get().docker("import", tmp.resolve("rootfs.tar").toString(), image));
            ok(docker.get().docker("push", image));
            ok(docker.get().docker("rmi", image));
            ok(docker.get().docker("pull", image));
            ok(docker.get().docker("rmi", image));
        } finally {
            serve.destroy(); // SIGTERM to bin/berth, which exec'd java
            if (!serve.waitFor(Duration.ofSeconds(60).toSeconds(), TimeUnit.SECONDS)) {
                serve.destroyForcibly();
            }
        }
        assertEquals(0, serve.exitValue(), Files.readString(log));
    }

    @Test
    void systemdUnitIsValidAndHardened(@TempDir Path tmp) throws Exception {
        String unit = Files.readString(Path.of("..", "deploy", "berth.service"));
        for (String directive : List.of(
                "DynamicUser=yes",
                "StateDirectory=berth",
                "NoNewPrivileges=yes",
                "ProtectSystem=strict",
                "ExecStart=/opt/berth/bin/berth serve")) {
            assertTrue(unit.lines().anyMatch(l -> l.equals(directive)), directive + " in deploy/berth.service");
        }
        TestServices.require(Command.onPath("systemd-analyze"), "systemd-analyze (Debian package systemd)");
        // verified where the archive is unpacked, as /opt/berth would be
        Path opt = Files.createDirectories(tmp.resolve("opt"));
        ok(Command.run(
                "tar", "-C", opt.toString(), "-xzf", archive().toAbsolutePath().toString()));
        Path home;
        try (Stream<Path> dirs = Files.list(opt)) {
            home = dirs.findFirst().orElseThrow();
        }
        Path copy = tmp.resolve("berth.service");
        Files.writeString(
                copy, Files.readString(home.resolve("deploy/berth.service")).replace("/opt/berth/", home + "/"));
        Command verify = Command.run("systemd-analyze", "verify", copy.toString());
        assertEquals(0, verify.exitCode(), verify.output());
        assertEquals("", verify.output().strip(), "no warnings");
    }
}
