package io.berth.launcher.process;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.berth.testsupport.oci.OciClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.security.crypto.bcrypt.BCrypt;

/**
 * Berth's data belongs to the account that runs it: on a real {@code berth serve} (token mode, so
 * that the signing key is made too) every directory of the data tree is 0700 and every file 0600 —
 * blobs, staged uploads, the SQLite database with its WAL, lock files, the key — whatever the
 * umask; and a tree left open by an older version is reported at start-up.
 */
@Tag("process")
class DataModesProcessTest {
    @TempDir
    Path dir;

    static List<String> wrongModes(Path data) throws Exception {
        List<String> wrong = new ArrayList<>();
        try (Stream<Path> all = Files.walk(data)) {
            for (Path p : all.toList()) {
                String mode = PosixFilePermissions.toString(Files.getPosixFilePermissions(p));
                String want = Files.isDirectory(p) ? "rwx------" : "rw-------";
                if (!mode.equals(want)) {
                    wrong.add(data.relativize(p) + " " + mode);
                }
            }
        }
        return wrong;
    }

    @Test
    void everyDirectoryIsOwnerOnlyAndEveryFileToo() throws Exception {
        Path users = dir.resolve("users");
        Files.writeString(
                users, "alice:" + BCrypt.hashpw("pw", BCrypt.gensalt(4)).replace("$2a$", "$2y$") + "\n");
        Path work = dir.resolve("srv");
        Map<String, String> env = Map.of("BERTH_AUTH_TYPE", "token", "BERTH_AUTH_HTPASSWD_PATH", users.toString());
        try (BerthProcess b = BerthProcess.start(work, List.of(), env)) {
            b.oci().get("/v2/"); // the token flow is set up
            OciClient alice = b.oci().withBasic("alice", "pw");
            OciClient oci = b.oci().withBearer(alice.token("berth", "repository:team/app:pull,push"));
            SecretsInLogsProcessTest.pushAndPull(oci, "team/app");
            // an upload left open: its staged file stays in uploads/
            oci.patch(oci.startUpload("team/app"), "some bytes".getBytes());
            Path data = work.resolve("data");
            for (String expected : List.of(
                    "berth.db",
                    "berth.db-wal",
                    "berth.db-shm",
                    "berth.db.lock",
                    "token-key.pem",
                    "blobs/berth.lock",
                    "blobs/blobs/sha256",
                    "blobs/uploads")) {
                assertTrue(Files.exists(data.resolve(expected)), expected);
            }
            try (Stream<Path> staged = Files.list(data.resolve("blobs/uploads"))) {
                assertTrue(staged.findAny().isPresent(), "a staged upload");
            }
            assertEquals(List.of(), wrongModes(data));
            assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(data)));
            assertTrue(!b.output().contains("data open to other local users"), b.output());
            assertEquals(0, b.terminate());
        }
        // a tree an older version left open is reported, naming each path; new data is still owner-only
        Path data = work.resolve("data");
        Files.setPosixFilePermissions(data.resolve("blobs"), PosixFilePermissions.fromString("rwxr-xr-x"));
        Files.setPosixFilePermissions(data.resolve("berth.db"), PosixFilePermissions.fromString("rw-r--r--"));
        // the token key is access control's, checked by the server with the stores' data: one line names all
        Files.setPosixFilePermissions(data.resolve("token-key.pem"), PosixFilePermissions.fromString("rw-r-----"));
        try (BerthProcess b = BerthProcess.start(work, List.of(), env)) {
            String warning = b.output()
                    .lines()
                    .filter(l -> l.contains("data open to other local users"))
                    .findFirst()
                    .orElseThrow(() -> new AssertionError(b.output()));
            assertTrue(
                    warning.contains(" WARN ")
                            && warning.contains(data.resolve("blobs") + " (rwxr-xr-x)")
                            && warning.contains(data.resolve("berth.db") + " (rw-r--r--)")
                            && warning.contains(data.resolve("token-key.pem") + " (rw-r-----)")
                            && warning.contains("chmod"),
                    warning);
            assertEquals(
                    1,
                    b.output()
                            .lines()
                            .filter(l -> l.contains("data open to other local users"))
                            .count());
            OciClient alice = b.oci().withBasic("alice", "pw");
            SecretsInLogsProcessTest.pushAndPull(
                    b.oci().withBearer(alice.token("berth", "repository:team/two:pull,push")), "team/two");
            // (SQLite gives a new -wal and -shm the database file's mode: the warning names that file)
            Files.setPosixFilePermissions(data.resolve("blobs"), PosixFilePermissions.fromString("rwx------"));
            assertEquals(List.of(), wrongModes(data.resolve("blobs")));
        }
    }
}
