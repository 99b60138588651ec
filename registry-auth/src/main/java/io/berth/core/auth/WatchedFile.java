package io.berth.core.auth;

import java.io.IOException;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Instant;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Function;

/**
 * An access-control file (users, policy) read into a value, read again when it changes (its
 * modification time, size or inode): at most once per {@code checkEveryNanos}, on the next
 * {@link #get}. It fails closed, because an edit that removes a user or a grant must take effect
 * even when another part of the same edit is wrong:
 * <ul>
 * <li>entries the parser cannot accept (a line in a refused hash scheme, a rule that does not
 * parse) are left out and each is named in the log; the rest applies ({@link State#PARTIAL});</li>
 * <li>a file that cannot be read or parsed as a whole (gone, unreadable, not YAML) is replaced by
 * the parser's closed value — no users, no grants — until it reads again ({@link State#FAILED}).</li>
 * </ul>
 * {@link #status} and {@link #problem} say which, for {@code /healthz} and {@code /metrics}. The first read, at start-up,
 * must succeed without leaving anything out: a mistake then stops the start with one line.
 */
public final class WatchedFile<T> {
    private static final Logger LOG = System.getLogger("berth.auth");

    /** What a read gives: the value, and one line per entry left out of it. */
    public record Loaded<T>(T value, List<String> leftOut) {
        public Loaded {
            leftOut = List.copyOf(leftOut);
        }
    }

    /** How the file in force was read. */
    public enum State {
        OK,
        PARTIAL,
        FAILED
    }

    /**
     * The file's state for operators.
     *
     * @param what     the key naming the file ({@code auth.htpasswd.path})
     * @param problems entries left out (PARTIAL), or why nothing applies (FAILED); empty when OK
     * @param since    when the file in force was read (or failed to read)
     */
    public record Status(String what, Path path, State state, List<String> problems, Instant since) {
        public Status {
            problems = List.copyOf(problems);
        }
    }

    private final Path path;
    private final String what;
    private final Function<Path, Loaded<T>> parser;
    private final T closed;
    private final String closedMeaning;
    private final long checkEveryNanos;
    private volatile T value;
    private volatile Status status;
    private volatile Object stamp;
    private volatile long checkedAt;

    /**
     * @param what          what the file is, for messages ({@code auth.htpasswd.path})
     * @param parser        reads the file, leaving out entries it cannot accept; throws
     *                      {@link IllegalArgumentException} with one line when the file cannot be read as a whole
     * @param closed        the value in force while the file cannot be read (nobody may log in, nothing is granted)
     * @param closedMeaning what that means, for /healthz ({@code nobody can log in with a password})
     * @throws IllegalArgumentException when the file cannot be read now, or leaves something out
     */
    public WatchedFile(
            Path path,
            String what,
            Function<Path, Loaded<T>> parser,
            T closed,
            String closedMeaning,
            long checkEveryNanos) {
        this.path = path;
        this.what = what;
        this.parser = parser;
        this.closed = closed;
        this.closedMeaning = closedMeaning;
        this.checkEveryNanos = checkEveryNanos;
        this.stamp = stamp();
        if (stamp == null) {
            throw new IllegalArgumentException("cannot read " + what + " " + path + ": no such file");
        }
        Loaded<T> first = parser.apply(path);
        if (!first.leftOut().isEmpty()) {
            throw new IllegalArgumentException(first.leftOut().get(0));
        }
        this.value = first.value();
        this.status = new Status(what, path, State.OK, List.of(), Instant.now());
        this.checkedAt = System.nanoTime();
    }

    public Path path() {
        return path;
    }

    /** The key naming the file ({@code auth.htpasswd.path}, {@code auth.policy}). */
    public String what() {
        return what;
    }

    /** The value in force: the file as last read, without what it left out, or the closed value. */
    public T get() {
        long now = System.nanoTime();
        if (now - checkedAt >= checkEveryNanos) {
            refresh(now);
        }
        return value;
    }

    /** How the file in force was read (looks at the file first, as {@link #get} does). */
    public Status status() {
        get();
        return status;
    }

    /** {@link Status#problem}, worded with what the closed value means. */
    public Optional<String> problem() {
        Status s = status();
        return switch (s.state()) {
            case OK -> Optional.empty();
            case PARTIAL ->
                Optional.of(s.path() + ": " + s.problems().size() + " entr"
                        + (s.problems().size() == 1 ? "y" : "ies") + " left out since " + s.since() + " ("
                        + s.problems().get(0) + (s.problems().size() > 1 ? "; …" : "") + ")");
            case FAILED ->
                Optional.of(s.path() + ": not applied since " + s.since() + ", " + closedMeaning + " ("
                        + s.problems().get(0) + ")");
        };
    }

    private synchronized void refresh(long now) {
        if (now - checkedAt < checkEveryNanos) {
            return;
        }
        checkedAt = now;
        Object current = stamp();
        if (current != null && Objects.equals(current, stamp)) {
            return;
        }
        if (current == null) {
            if (status.state() != State.FAILED || stamp != null) {
                fail("no such file or not readable");
            }
            stamp = null;
            return;
        }
        stamp = current;
        Loaded<T> loaded;
        try {
            loaded = parser.apply(path);
        } catch (RuntimeException e) {
            fail(e.getMessage());
            return;
        }
        value = loaded.value();
        if (loaded.leftOut().isEmpty()) {
            status = new Status(what, path, State.OK, List.of(), Instant.now());
            LOG.log(Level.INFO, "reloaded " + what + " " + path);
            return;
        }
        status = new Status(what, path, State.PARTIAL, loaded.leftOut(), Instant.now());
        for (String line : loaded.leftOut()) {
            LOG.log(Level.WARNING, "reloaded " + what + " " + path + " without an entry it cannot use: " + line);
        }
        LOG.log(
                Level.WARNING,
                "reloaded " + what + " " + path + ": " + loaded.leftOut().size() + " entr"
                        + (loaded.leftOut().size() == 1 ? "y" : "ies") + " left out, the rest applies");
    }

    private void fail(String why) {
        value = closed;
        status = new Status(what, path, State.FAILED, List.of(why), Instant.now());
        LOG.log(
                Level.ERROR,
                "cannot reload " + what + " " + path + ": " + why + "; until it reads again " + closedMeaning);
    }

    private Object stamp() {
        try {
            BasicFileAttributes a = Files.readAttributes(path, BasicFileAttributes.class);
            if (!Files.isReadable(path)) {
                return null;
            }
            return List.of(a.lastModifiedTime().toMillis(), a.size(), String.valueOf(a.fileKey()));
        } catch (IOException e) {
            return null;
        }
    }
}
