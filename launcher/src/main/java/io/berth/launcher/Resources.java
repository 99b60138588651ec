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

    private record Entry(String what, Closer closer) {
    }

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
        while (!opened.isEmpty()) {
            Entry e = opened.pop();
            try {
                e.closer().close();
            } catch (InterruptedException ex) {
                Thread.currentThread().interrupt();
                LOG.log(Level.WARNING, "closing " + e.what() + ": interrupted");
            } catch (Exception ex) {
                LOG.log(Level.WARNING, "closing " + e.what() + ": " + ex.getMessage());
            }
        }
    }
}
