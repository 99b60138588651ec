package io.berth.core.auth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An access-control file read again when it changes, failing closed: what applies after an edit that
 * leaves entries out, an edit that cannot be read at all, and a file that goes away.
 */
class WatchedFileTest {
    static final List<String> CLOSED = List.of("closed");

    @TempDir
    Path dir;

    /** Lines of the file; a line starting with "bad" is left out; a file holding "explode" cannot be read. */
    static WatchedFile.Loaded<List<String>> parse(Path path) {
        try {
            List<String> kept = new ArrayList<>();
            List<String> leftOut = new ArrayList<>();
            for (String line : Files.readAllLines(path)) {
                if (line.equals("explode")) {
                    throw new IllegalArgumentException("not a list of names");
                }
                (line.startsWith("bad") ? leftOut : kept).add(line);
            }
            return new WatchedFile.Loaded<>(kept, leftOut);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    WatchedFile<List<String>> watch(Path file, long checkEveryNanos) {
        return new WatchedFile<>(file, "auth.test", WatchedFileTest::parse, CLOSED, "nobody is named", checkEveryNanos);
    }

    @Test
    void aFileThatIsMissingOrLeavesSomethingOutAtStartStopsTheStart() throws Exception {
        Path missing = dir.resolve("missing");
        assertEquals(
                "cannot read auth.test " + missing + ": no such file",
                assertThrows(IllegalArgumentException.class, () -> watch(missing, 0))
                        .getMessage());
        Path partial = dir.resolve("partial");
        Files.writeString(partial, "alice\nbad bob\n");
        assertEquals(
                "bad bob",
                assertThrows(IllegalArgumentException.class, () -> watch(partial, 0))
                        .getMessage());
    }

    @Test
    void anEditAppliesOnTheNextLookWithoutTheEntriesItCannotUse() throws Exception {
        Path file = dir.resolve("names");
        Files.writeString(file, "alice\n");
        WatchedFile<List<String>> watched = watch(file, 0);
        assertEquals(List.of("alice"), watched.get());
        assertEquals(WatchedFile.State.OK, watched.status().state());
        assertEquals(Optional.empty(), watched.problem());
        assertEquals("auth.test", watched.what());

        Files.writeString(file, "alice\ncarol\nbad dave\n");
        assertEquals(List.of("alice", "carol"), watched.get(), "the rest of the edit applies");
        WatchedFile.Status partial = watched.status();
        assertEquals(WatchedFile.State.PARTIAL, partial.state());
        assertEquals(List.of("bad dave"), partial.problems());
        assertEquals(
                Optional.of(file + ": 1 entry left out since " + partial.since() + " (bad dave)"), watched.problem());

        Files.writeString(file, "alice\nbad dave\nbad erin\n");
        WatchedFile.Status two = watched.status();
        assertEquals(
                Optional.of(file + ": 2 entries left out since " + two.since() + " (bad dave; …)"), watched.problem());

        Files.writeString(file, "erin\n");
        assertEquals(List.of("erin"), watched.get());
        assertEquals(WatchedFile.State.OK, watched.status().state(), "a clean edit clears the problem");
        assertEquals(List.of(), watched.status().problems());
    }

    @Test
    void aFileThatCannotBeReadGrantsNothingUntilItReadsAgain() throws Exception {
        Path file = dir.resolve("names");
        Files.writeString(file, "alice\n");
        WatchedFile<List<String>> watched = watch(file, 0);

        Files.writeString(file, "alice\nexplode\n");
        assertEquals(CLOSED, watched.get(), "not the last good value: the edit may have removed someone");
        WatchedFile.Status failed = watched.status();
        assertEquals(WatchedFile.State.FAILED, failed.state());
        assertEquals(
                Optional.of(file + ": not applied since " + failed.since() + ", nobody is named (not a list of names)"),
                watched.problem());

        Files.delete(file);
        assertEquals(CLOSED, watched.get());
        assertEquals(List.of("no such file or not readable"), watched.status().problems());
        WatchedFile.Status gone = watched.status();
        assertEquals(gone, watched.status(), "a file still gone is not failed again");

        Files.writeString(file, "bob\n");
        assertEquals(List.of("bob"), watched.get(), "back when it reads again");
        assertEquals(WatchedFile.State.OK, watched.status().state());

        Files.delete(file);
        assertEquals(CLOSED, watched.get(), "gone after it was good");
        assertEquals(WatchedFile.State.FAILED, watched.status().state());
    }

    @Test
    void theFileIsLookedAtAtMostOncePerInterval() throws Exception {
        Path file = dir.resolve("names");
        Files.writeString(file, "alice\n");
        WatchedFile<List<String>> watched = watch(file, Long.MAX_VALUE / 2);
        Files.writeString(file, "bob and more\n");
        assertEquals(List.of("alice"), watched.get(), "not looked at again within the interval");
        assertEquals(WatchedFile.State.OK, watched.status().state());
    }
}
