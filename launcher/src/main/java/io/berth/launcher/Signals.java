package io.berth.launcher;

import java.util.concurrent.CountDownLatch;
import sun.misc.Signal;

/** Waiting for SIGTERM or SIGINT, the way every long-running command stops. */
final class Signals {
    private Signals() {
    }

    static void awaitTermination() {
        CountDownLatch stop = new CountDownLatch(1);
        Signal.handle(new Signal("TERM"), s -> stop.countDown());
        Signal.handle(new Signal("INT"), s -> stop.countDown());
        try {
            stop.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
