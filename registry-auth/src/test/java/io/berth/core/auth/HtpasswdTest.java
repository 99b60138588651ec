package io.berth.core.auth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.security.crypto.bcrypt.BCrypt;

/** An htpasswd file edited by hand: which lines count, and what a wrong line costs its user. */
class HtpasswdTest {
    @TempDir
    Path dir;

    static String bcrypt(String password) {
        return BCrypt.hashpw(password, BCrypt.gensalt(4));
    }

    @Test
    void aWrongLineIsLeftOutNamedAndLocksOutOnlyItsUser() throws Exception {
        Path f = dir.resolve("users");
        String alice = bcrypt("alice-pw");
        Files.writeString(
                f,
                String.join(
                        "\n",
                        "  # comment",
                        "alice:" + alice,
                        "no colon here",
                        ":" + bcrypt("x"),
                        "bob:" + bcrypt("bob-pw"),
                        "bob:$apr1$abc$abcdefghijklmnopqrstuv",
                        "carol:" + bcrypt("carol-pw").substring(0, 59),
                        "dave:" + bcrypt("dave-pw").replace("$2a$", "$2b$"),
                        ""));
        WatchedFile.Loaded<Htpasswd> read = Htpasswd.read(f);
        assertEquals(
                List.of(
                        "htpasswd file " + f + " line 3: expected <user>:<bcrypt hash>",
                        "htpasswd file " + f + " line 4: expected <user>:<bcrypt hash>",
                        "htpasswd file " + f + " line 6 (user bob): only bcrypt entries are accepted (htpasswd -B)",
                        "htpasswd file " + f + " line 7 (user carol): only bcrypt entries are accepted (htpasswd -B)"),
                read.leftOut());
        Htpasswd users = read.value();
        assertEquals(2, users.size(), "alice and dave ($2b$); bob has a refused line besides his good one");
        PasswordChecks checks = new PasswordChecks(1);
        assertEquals(PasswordChecks.Result.MATCH, users.verify("1.1.1.1", "alice", "alice-pw", checks));
        assertEquals(PasswordChecks.Result.MATCH, users.verify("1.1.1.1", "dave", "dave-pw", checks));
        assertEquals(
                PasswordChecks.Result.MISMATCH,
                users.verify("1.1.1.1", "bob", "bob-pw", checks),
                "a user with a refused line cannot log in, whatever other lines say");
        assertEquals(
                "htpasswd file " + f + " line 3: expected <user>:<bcrypt hash>",
                assertThrows(IllegalArgumentException.class, () -> Htpasswd.load(f))
                        .getMessage(),
                "at start-up the first wrong line stops the start");
        Path missing = dir.resolve("missing");
        assertEquals(
                "cannot read htpasswd file " + missing + ": no such file",
                assertThrows(IllegalArgumentException.class, () -> Htpasswd.read(missing))
                        .getMessage());
    }

    @Test
    void robotNamesAreReservedAndLeftOutWithoutRefusingAnyoneElse() throws Exception {
        Path f = dir.resolve("users");
        Files.writeString(
                f,
                "robot:ci:" + bcrypt("stolen") + "\nrobot:" + bcrypt("robot-pw") + "\nrobotics:" + bcrypt("r-pw")
                        + "\n");
        WatchedFile.Loaded<Htpasswd> read = Htpasswd.read(f);
        String reserved = ": the user name robot and names starting with 'robot:' are reserved for robot accounts";
        assertEquals(
                List.of("htpasswd file " + f + " line 1" + reserved, "htpasswd file " + f + " line 2" + reserved),
                read.leftOut(),
                "each named for what it is, not as a user robot with a bad hash");
        PasswordChecks checks = new PasswordChecks(1);
        assertEquals(1, read.value().size());
        assertEquals(PasswordChecks.Result.MATCH, read.value().verify("1.1.1.1", "robotics", "r-pw", checks));
        assertEquals(PasswordChecks.Result.MISMATCH, read.value().verify("1.1.1.1", "robot", "robot-pw", checks));
        assertEquals(PasswordChecks.Result.MISMATCH, read.value().verify("1.1.1.1", "robot:ci", "stolen", checks));
    }

    @Test
    void anAddressThatProvedAPasswordIsKnownToHaveProvedItWithoutSayingWhichOne() throws Exception {
        Path f = dir.resolve("users");
        Files.writeString(f, "alice:" + bcrypt("alice-pw") + "\n");
        Htpasswd users = Htpasswd.load(f);
        PasswordChecks checks = new PasswordChecks(1);
        assertFalse(users.provedLately("1.1.1.1", "alice"));
        assertEquals(PasswordChecks.Result.MISMATCH, users.verify("1.1.1.1", "alice", "wrong", checks));
        assertFalse(users.provedLately("1.1.1.1", "alice"), "a wrong password proves nothing");
        assertEquals(PasswordChecks.Result.MATCH, users.verify("1.1.1.1", "alice", "alice-pw", checks));
        assertTrue(users.provedLately("1.1.1.1", "alice"));
        assertFalse(users.provedLately("2.2.2.2", "alice"), "only the address that proved it");
        assertFalse(users.provedLately("1.1.1.1", "bob"));
        assertFalse(users.remembered("1.1.1.1", "bob", "alice-pw"), "no such user: nothing remembered");
        assertEquals(0, Htpasswd.nobody().size());
        assertTrue(
                Htpasswd.nobody().verify("1.1.1.1", "alice", "alice-pw", checks) == PasswordChecks.Result.MISMATCH,
                "nobody can log in while the file cannot be read");
    }
}
