package io.berth.core.registry;

import io.berth.core.files.OwnerOnly;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Set;

/**
 * An exclusive lock on a data location, held for the life of the process: a second {@code berth
 * serve} on the same blob root or metadata file refuses to start with one clear line naming the
 * process that holds it, instead of the two failing each other later (SQLITE_BUSY, the upload
 * janitor deleting the other's staging files). The lock file holds the owner's pid; the lock itself
 * is the operating system's, so it goes with the process, however the process ends.
 */
public final class DataLock implements AutoCloseable {
    private final FileChannel channel;
    private final FileLock lock;

    private DataLock(FileChannel channel, FileLock lock) {
        this.channel = channel;
        this.lock = lock;
    }

    /** Thrown when another process holds the lock. */
    public static final class HeldException extends IOException {
        private static final long serialVersionUID = 1L;

        HeldException(String message) {
            super(message);
        }
    }

    /**
     * Locks {@code lockFile} (created if needed) for {@code what} (e.g. "metadata database /x/berth.db").
     *
     * @throws HeldException when another process holds it
     */
    public static DataLock acquire(Path lockFile, String what) throws IOException {
        Path parent = lockFile.toAbsolutePath().getParent();
        if (parent != null) {
            OwnerOnly.createDirectories(parent);
        }
        FileChannel ch = FileChannel.open(
                lockFile,
                Set.of(StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE),
                OwnerOnly.file(lockFile));
        FileLock lock;
        try {
            lock = ch.tryLock();
        } catch (OverlappingFileLockException e) {
            lock = null; // held by this very process
        }
        if (lock == null) {
            String owner = owner(ch);
            ch.close();
            throw new HeldException(what + " is in use by another berth process"
                    + (owner.isEmpty() ? "" : " (pid " + owner + ")") + "; lock file " + lockFile);
        }
        byte[] pid = (ProcessHandle.current().pid() + "\n").getBytes(StandardCharsets.US_ASCII);
        ch.truncate(0);
        ch.write(ByteBuffer.wrap(pid), 0);
        ch.force(false);
        return new DataLock(ch, lock);
    }

    private static String owner(FileChannel ch) {
        try {
            ByteBuffer b = ByteBuffer.allocate(32);
            int n = ch.read(b, 0);
            return n <= 0 ? "" : new String(b.array(), 0, n, StandardCharsets.US_ASCII).strip();
        } catch (IOException e) {
            return "";
        }
    }

    @Override
    public void close() {
        try {
            lock.release();
            channel.close();
        } catch (IOException e) {
            // the process ends soon; the operating system releases the lock then
        }
    }
}
