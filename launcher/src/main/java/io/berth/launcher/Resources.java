package io.berth.launcher;

import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.util.ArrayDeque;
import java.util.Deque;

/**
 * What a process has opened, closed in the reverse order, each once: the one teardown of a start-up
 * that fails half-way and of an orderly stop alike. A failure to close one thing is logged and the
 * rest are still closed.
 */
final class Resources implements AutoCloseable {
    private static final Logger LOG = System.getLogger("berth");

    /** How one resource is closed. */
    @FunctionalInterface
    interface Closer {
        void close() throws Exception;
    }

    private record Entry(String what, Closer closer) {}

    private final Deque<Entry> opened = new ArrayDeque<>();

    /** Remembers {@code thing} (named {@code what} in a log line if closing fails) and returns it. */
    synchronized <T> T add(String what, T thing, Closer closer) {
        opened.push(new Entry(what, closer));
        return thing;
    }

    /** How many resources are open (for tests). */
    synchronized int size() {
        return opened.size();
    }

    @Override
    public synchronized void close() {
        // each closer starts uninterrupted (an interrupt would cut the waits of those after it short);
        // the interrupt is given back to the caller at the end
        boolean interrupted = Thread.interrupted();
        while (!opened.isEmpty()) {
            Entry e = opened.pop();
            try {
                e.closer().close();
            } catch (InterruptedException ex) {
                interrupted = true;
                LOG.log(Level.WARNING, "closing " + e.what() + ": interrupted");
            } catch (Exception ex) {
                LOG.log(Level.WARNING, "closing " + e.what() + ": " + ex.getMessage());
            }
            interrupted |= Thread.interrupted();
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }
}
