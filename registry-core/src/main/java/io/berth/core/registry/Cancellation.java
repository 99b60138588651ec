package io.berth.core.registry;

import java.util.concurrent.CancellationException;

/**
 * Whether whoever asked for a piece of work still wants it. Long scans (tag filters, retention
 * evaluations) ask between rows, so that a client that leaves — or whose deadline passes — stops them
 * instead of leaving a core busy on its behalf; the admin API passes its gRPC call's cancellation.
 */
@FunctionalInterface
public interface Cancellation {
    /** Work nobody can call off (jobs of the registry's own, tests). */
    Cancellation NEVER = () -> false;

    boolean cancelled();

    /** @throws CancellationException when the caller went away */
    default void check() {
        if (cancelled()) {
            throw new CancellationException("the caller went away");
        }
    }
}
