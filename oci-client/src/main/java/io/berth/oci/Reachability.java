package io.berth.oci;

import java.time.Duration;
import java.time.Instant;
import java.util.Locale;

/**
 * Whether a registry the replicator talks to can be reached, from the fate of every request to it:
 * one WARN when it cannot be (with what was asked, where, and why), one INFO when it answers again —
 * not a line per failed request — and a hook for what should happen then (retry, reconcile).
 */
public final class Reachability {
    private static final System.Logger LOG = System.getLogger(Reachability.class.getName());

    private final String what;
    private volatile Runnable onBack = () -> {};
    private volatile Instant downSince;
    private volatile String why;
    /** The last exchange that did not complete within its deadline, until that same request completes. */
    private volatile String stuck;

    private volatile String stuckRequest;

    /** @param what how log lines name the registry: {@code replication target site-b (http://…)} */
    public Reachability(String what) {
        this.what = what;
    }

    public void onBack(Runnable r) {
        this.onBack = r;
    }

    /** A request got no answer: {@code why} says what and where. */
    void failed(String why) {
        this.why = why;
        boolean wentDown;
        synchronized (this) {
            wentDown = downSince == null;
            if (wentDown) {
                downSince = Instant.now();
            }
        }
        if (wentDown) {
            LOG.log(System.Logger.Level.WARNING, what + " is unreachable: " + why + "; retrying until it answers");
        }
    }

    /**
     * An exchange ({@code request}: method and URL) began but its answer did not complete within the
     * deadline (a trickling body): the registry is there but stuck. One WARN; shown in /healthz
     * until the same request completes.
     */
    void stuck(String request, String why) {
        if (stuck == null) {
            LOG.log(System.Logger.Level.WARNING, what + " is stuck: " + why);
        }
        stuck = why;
        stuckRequest = request;
    }

    /** An exchange completed within its deadline. */
    void completed(String request) {
        if (request.equals(stuckRequest)) {
            stuck = null;
            stuckRequest = null;
            LOG.log(System.Logger.Level.INFO, what + " is no longer stuck: " + request + " completed");
        }
        answered();
    }

    /** The exchange that did not complete in time, until it does; or null. */
    public String stuckOn() {
        return stuck;
    }

    /** A request got an answer (any status). */
    void answered() {
        if (downSince == null) {
            return;
        }
        Instant since;
        synchronized (this) {
            since = downSince;
            downSince = null;
        }
        if (since != null) {
            LOG.log(
                    System.Logger.Level.INFO,
                    String.format(
                            Locale.ROOT,
                            "%s answers again after %.1f s " + "unreachable",
                            what,
                            Duration.between(since, Instant.now()).toMillis() / 1000.0));
            onBack.run();
        }
    }

    public boolean down() {
        return downSince != null;
    }

    /** Since when it has been unreachable, or null. */
    public Instant downSince() {
        return downSince;
    }

    /** The last request that got no answer, with where and why (kept after it answers again). */
    public String lastFailure() {
        return why;
    }
}
