package io.berth.http;

import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Aborts request bodies that stall: a read that has waited longer than {@code http.read-timeout}
 * for the next bytes is interrupted (socket reads of virtual threads are interruptible; the
 * connection closes). Helidon 4.5 applies no read timeout to server connections, so without this a
 * client that sends a little and then nothing holds its request, its upload slot and its buffers
 * forever.
 */
final class BodyWatchdog implements AutoCloseable {
    private final long timeoutNanos;
    private final Set<Watch> active = ConcurrentHashMap.newKeySet();
    private final ScheduledExecutorService ticker;

    BodyWatchdog(Duration timeout) {
        this.timeoutNanos = timeout.toNanos();
        this.ticker = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "berth-body-watchdog");
            t.setDaemon(true);
            return t;
        });
        long period = Math.max(50, Math.min(1000, timeout.toMillis() / 4));
        ticker.scheduleAtFixedRate(this::check, period, period, TimeUnit.MILLISECONDS);
    }

    Duration timeout() {
        return Duration.ofNanos(timeoutNanos);
    }

    /** One body being read. */
    final class Watch {
        private volatile Thread reader;
        private volatile long since;
        private volatile boolean fired;

        /** A read starts on the current thread. */
        void reading() {
            since = System.nanoTime();
            reader = Thread.currentThread();
            active.add(this);
        }

        /**
         * The read returned (or threw). True when the watchdog fired for it: the caller then treats
         * the read as timed out (the thread's interrupt is cleared here).
         */
        boolean done() {
            reader = null;
            active.remove(this);
            if (fired) {
                Thread.interrupted();
                return true;
            }
            return false;
        }

        private void checkStalled(long now) {
            Thread t = reader;
            if (t != null && !fired && now - since > timeoutNanos) {
                fired = true;
                t.interrupt();
            }
        }
    }

    Watch watch() {
        return new Watch();
    }

    private void check() {
        long now = System.nanoTime();
        for (Watch w : active) {
            w.checkStalled(now);
        }
    }

    @Override
    public void close() {
        ticker.shutdownNow();
    }
}
