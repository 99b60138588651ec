package io.berth.core.auth;

import java.io.IOException;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.Objects;
import java.util.function.Function;

/**
 * A file read into a value, read again when it changes (its modification time, size or inode):
 * at most once per {@code checkEveryNanos}, on the next {@link #get}. A file that no longer reads
 * keeps the previous value, with a warning saying why; so an operator's typo never locks everyone
 * out. The first read must succeed.
 */
public final class WatchedFile<T> {
    private static final Logger LOG = System.getLogger("berth.auth");

    private final Path path;
    private final String what;
    private final Function<Path, T> parser;
    private final long checkEveryNanos;
    private volatile T value;
    private volatile Object stamp;
    private volatile long checkedAt;

    /**
     * @param what   what the file is, for messages ({@code auth.htpasswd.path})
     * @param parser reads the file; throws {@link IllegalArgumentException} with one line saying why
     * @throws IllegalArgumentException when the file cannot be read now
     */
    public WatchedFile(Path path, String what, Function<Path, T> parser, long checkEveryNanos) {
        this.path = path;
        this.what = what;
        this.parser = parser;
        this.checkEveryNanos = checkEveryNanos;
        this.stamp = stamp();
        if (stamp == null) {
            throw new IllegalArgumentException("cannot read " + what + " " + path + ": no such file");
        }
        this.value = parser.apply(path);
        this.checkedAt = System.nanoTime();
    }

    public Path path() {
        return path;
    }

    /** The value of the file as last read successfully. */
    public T get() {
        long now = System.nanoTime();
        if (now - checkedAt >= checkEveryNanos) {
            refresh(now);
        }
        return value;
    }

    private synchronized void refresh(long now) {
        if (now - checkedAt < checkEveryNanos) {
            return;
        }
        checkedAt = now;
        Object current = stamp();
        if (Objects.equals(current, stamp)) {
            return;
        }
        if (current == null) {
            if (stamp != null) {
                LOG.log(Level.WARNING, what + " " + path + " is gone; keeping the last one read");
            }
            stamp = null;
            return;
        }
        try {
            value = parser.apply(path);
            stamp = current;
            LOG.log(Level.INFO, "reloaded " + what + " " + path);
        } catch (RuntimeException e) {
            stamp = current;
            LOG.log(Level.WARNING, "cannot reload " + what + " " + path + ", keeping the last one read: "
                    + e.getMessage());
        }
    }

    private Object stamp() {
        try {
            BasicFileAttributes a = Files.readAttributes(path, BasicFileAttributes.class);
            return java.util.List.of(a.lastModifiedTime().toMillis(), a.size(), String.valueOf(a.fileKey()));
        } catch (IOException e) {
            return null;
        }
    }
}
