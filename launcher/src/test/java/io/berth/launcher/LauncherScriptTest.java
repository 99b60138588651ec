package io.berth.launcher;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.berth.testsupport.Command;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code bin/berth} rebuilds only when the build's inputs changed: it never walks a data directory
 * (a registry with 200 000 blobs made every start slow), and it says what it runs.
 */
class LauncherScriptTest {
    @TempDir
    Path home;

    @Test
    void stalenessLooksAtSourcesOnlyAndSaysWhatItRuns() throws Exception {
        Path repo = Path.of("..").toAbsolutePath().normalize();
        Files.createDirectories(home.resolve("bin"));
        Files.copy(repo.resolve("bin/berth"), home.resolve("bin/berth"));
        Files.copy(repo.resolve("bin/java-env"), home.resolve("bin/java-env"));
        Files.writeString(home.resolve("pom.xml"), "<project/>");
        Path source = Files.createDirectories(home.resolve("registry-core/src/main/java"))
                .resolve("A.java");
        Files.writeString(home.resolve("registry-core/pom.xml"), "<project/>");
        Files.writeString(source, "class A {}");
        Path jar = Files.createDirectories(home.resolve("launcher/target")).resolve("launcher.jar");
        Files.writeString(jar, "not really a jar");
        // data beside the sources, newer than the jar, with files that look like sources
        Path data = Files.createDirectories(home.resolve("data/blobs/sha256/ab"));
        Files.writeString(data.resolve("Looks.java"), "class Looks {}");
        Instant t = Instant.now();
        Files.setLastModifiedTime(home.resolve("pom.xml"), FileTime.from(t.minusSeconds(30)));
        Files.setLastModifiedTime(home.resolve("registry-core/pom.xml"), FileTime.from(t.minusSeconds(30)));
        Files.setLastModifiedTime(source, FileTime.from(t.minusSeconds(30)));
        Files.setLastModifiedTime(jar, FileTime.from(t.minusSeconds(20)));
        Files.setLastModifiedTime(data.resolve("Looks.java"), FileTime.from(t));
        // a stand-in for mvn that only says it ran
        Path fakeBin = Files.createDirectories(home.resolve("fake-bin"));
        Path mvn = fakeBin.resolve("mvn");
        Files.writeString(mvn, "#!/bin/sh\necho MVN-RAN \"$@\"\n");
        Files.setPosixFilePermissions(mvn, PosixFilePermissions.fromString("rwxr-xr-x"));
        Map<String, String> env = Map.of("PATH", fakeBin + ":" + System.getenv("PATH"));

        Command fresh = Command.run(List.of(home.resolve("bin/berth").toString(), "--version"), env, 60);
        assertFalse(fresh.output().contains("MVN-RAN"), fresh.output());
        assertFalse(fresh.output().contains("running 'mvn install'"), fresh.output());

        Files.setLastModifiedTime(source, FileTime.from(Instant.now()));
        Command stale = Command.run(List.of(home.resolve("bin/berth").toString(), "--version"), env, 60);
        assertTrue(
                stale.output().contains("sources changed since the last build: running 'mvn install'"), stale.output());
        assertTrue(stale.output().contains("MVN-RAN -q -B -Dstyle.color=never install -DskipTests"), stale.output());
        assertFalse(stale.output().contains("\\u001b["), "no colour escape codes");
    }

    /**
     * A release archive unpacked by root and run by another user: the AOT cache cannot be written
     * beside the jars, so no start spends seconds training one in vain. A stand-in java records
     * how it is run; the user is nobody (setpriv).
     */
    @Test
    void noAotTrainingWhereTheCacheCannotBeWritten() throws Exception {
        Assumptions.assumeTrue(
                Command.onPath("setpriv") && "root".equals(System.getProperty("user.name")),
                "root and setpriv, to run as another user");
        Path repo = Path.of("..").toAbsolutePath().normalize();
        Files.createDirectories(home.resolve("bin"));
        Files.copy(repo.resolve("bin/berth"), home.resolve("bin/berth"));
        Files.copy(repo.resolve("bin/java-env"), home.resolve("bin/java-env"));
        Files.writeString(
                Files.createDirectories(home.resolve("launcher/target")).resolve("launcher.jar"), "a jar");
        Path calls = Files.createDirectories(home.resolve("calls"));
        Path jdk = Files.createDirectories(home.resolve("jdk/bin"));
        Files.writeString(home.resolve("jdk/release"), "JAVA_VERSION=\"25.0.1\"\n");
        Files.writeString(jdk.resolve("java"), "#!/bin/sh\necho \"$@\" >>" + calls.resolve("java.log") + "\n");
        Files.writeString(jdk.resolve("javac"), "#!/bin/sh\n");
        Path tmp = Files.createDirectories(home.resolve("tmp"));
        for (Path p : List.of(
                home,
                home.resolve("bin"),
                home.resolve("launcher"),
                home.resolve("launcher/target"),
                home.resolve("jdk"),
                jdk)) {
            Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rwxr-xr-x"));
        }
        for (Path p : List.of(
                home.resolve("bin/berth"), home.resolve("bin/java-env"), jdk.resolve("java"), jdk.resolve("javac"))) {
            Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rwxr-xr-x"));
        }
        Files.setPosixFilePermissions(calls, PosixFilePermissions.fromString("rwxrwxrwx"));
        Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rwxrwxrwx"));
        // the temporary directory JUnit made is root's alone: let nobody through to the files
        Files.setPosixFilePermissions(home, PosixFilePermissions.fromString("rwxr-xr-x"));

        Command serve = Command.run(
                List.of(
                        "setpriv",
                        "--reuid=65534",
                        "--regid=65534",
                        "--clear-groups",
                        home.resolve("bin/berth").toString(),
                        "serve"),
                Map.of("JAVA_HOME", home.resolve("jdk").toString(), "TMPDIR", tmp.toString(), "HOME", tmp.toString()),
                60);
        String log = Files.readString(calls.resolve("java.log"));
        assertFalse(log.contains("AOTMode=record"), "trained a cache it cannot keep:\n" + log + serve.output());
        assertTrue(log.contains("io.berth.launcher.Main serve"), log + serve.output());
    }

    /**
     * bin/berth points sqlite-jdbc at the library the build unpacked; without it the driver copies
     * itself into the temporary directory and runs {@code uname} at every start. The unpacking kept
     * its markers outside the directory the build cleans, so every build after the first left it empty.
     */
    @Test
    void everyBuildLeavesTheSqliteLibraryWhereBinBerthLooks() throws Exception {
        String arch = switch (System.getProperty("os.arch")) {
            case "amd64", "x86_64" -> "x86_64";
            case "aarch64", "arm64" -> "aarch64";
            default -> "";
        };
        Assumptions.assumeFalse(arch.isEmpty(), "no unpacked library for this architecture");
        Path library = Path.of("target/native/org/sqlite/native/Linux", arch, "libsqlitejdbc.so");
        assertTrue(Files.size(library) > 0, library + " is empty");
        String script = Files.readString(Path.of("..", "bin", "berth"));
        assertTrue(script.contains("launcher/target/native/org/sqlite/native/Linux/"), "bin/berth looks elsewhere");
    }
}
