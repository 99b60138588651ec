package io.berth.launcher;

import java.util.concurrent.CountDownLatch;
import sun.misc.Signal;

/**
 * Waiting for SIGTERM or SIGINT, the way every long-running command stops. A command listens from
 * the moment it begins ({@link #listen}), so a signal that arrives while it is still starting neither
 * kills the process half-started (the JVM's default answer, exit status 143) nor is lost: the command
 * finishes starting and then stops in order.
 */
final class Signals {
    private final CountDownLatch stop = new CountDownLatch(1);
    private volatile String failure;

    private Signals() {
    }

    /** Starts listening for SIGTERM and SIGINT. */
    static Signals listen() {
        Signals signals = new Signals();
        Signal.handle(new Signal("TERM"), s -> signals.stop.countDown());
        Signal.handle(new Signal("INT"), s -> signals.stop.countDown());
        return signals;
    }

    /**
     * Stops the command as a signal would, because part of it failed for good: {@link #failure} says
     * why, and the command exits non-zero so that its supervisor starts it again.
     */
    void fail(String why) {
        failure = why;
        stop.countDown();
    }

    /** Why {@link #fail} stopped the command; null after a signal. */
    String failure() {
        return failure;
    }

    /** Waits until one of them arrived (or had arrived since {@link #listen}). */
    void await() {
        try {
            stop.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
