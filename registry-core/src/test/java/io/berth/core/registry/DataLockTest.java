package io.berth.core.registry;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** One berth per data location: a second one is refused with a line naming the holder, until the first lets go. */
class DataLockTest {
    @TempDir
    Path dir;

    @Test
    void aSecondHolderIsRefusedNamingTheProcessThatHoldsIt() throws Exception {
        Path lockFile = dir.resolve("data/berth.lock");
        long pid = ProcessHandle.current().pid();
        DataLock first = DataLock.acquire(lockFile, "blob root /data");
        try {
            assertEquals(pid + "\n", Files.readString(lockFile), "the holder's pid, for the refusal to name");
            DataLock.HeldException e =
                    assertThrows(DataLock.HeldException.class, () -> DataLock.acquire(lockFile, "blob root /data"));
            assertEquals(
                    "blob root /data is in use by another berth process (pid " + pid + "); lock file " + lockFile,
                    e.getMessage());
        } finally {
            first.close();
        }
        // let go: the next one takes it, and writes over a longer pid left behind
        Files.writeString(lockFile, "123456789012345\n");
        DataLock again = DataLock.acquire(lockFile, "blob root /data");
        assertEquals(pid + "\n", Files.readString(lockFile));
        again.close();
    }

    @Test
    void aHolderThatWroteNoPidIsRefusedWithoutOne() throws Exception {
        Path lockFile = dir.resolve("berth.lock");
        DataLock first = DataLock.acquire(lockFile, "metadata database x");
        try {
            Files.writeString(lockFile, "");
            assertEquals(
                    "metadata database x is in use by another berth process; lock file " + lockFile,
                    assertThrows(DataLock.HeldException.class, () -> DataLock.acquire(lockFile, "metadata database x"))
                            .getMessage());
        } finally {
            first.close();
        }
    }
}
