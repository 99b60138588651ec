package io.berth.replicator;

import java.util.function.Consumer;

/**
 * Whether every loop of the replicator still runs. A loop that dies (an Error, a bug) must not leave
 * a process that looks alive and does nothing: it is reported at once, {@code /healthz} answers 503,
 * and the command stops the process with a non-zero exit for its supervisor to start it again.
 */
final class Vitals {
    private static final System.Logger LOG = System.getLogger(Vitals.class.getName());
    private volatile String dead;
    private volatile Consumer<String> onDeath = why -> {};

    /** What to do when a loop died (the command stops the process). */
    void onDeath(Consumer<String> listener) {
        this.onDeath = listener;
    }

    /** {@code body}, reporting its death: anything thrown out of it ends the loop it runs. */
    Runnable guard(String what, Runnable body) {
        return () -> {
            try {
                body.run();
            } catch (Throwable t) {
                died(what, t);
                if (t instanceof Error e) {
                    throw e;
                }
            }
        };
    }

    void died(String what, Throwable t) {
        String why = what + " died: " + t;
        synchronized (this) {
            if (dead != null) {
                return;
            }
            dead = why;
        }
        LOG.log(System.Logger.Level.ERROR, why);
        onDeath.accept(why);
    }

    /** Why a loop died, or null while all run. */
    String dead() {
        return dead;
    }
}
