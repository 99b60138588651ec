package io.berth.http;

import io.micrometer.core.instrument.Counter;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Cuts transfers that stall or crawl: a request body that sends nothing for {@code http.read-timeout},
 * one that arrives slower than {@code http.min-body-rate}, a response its client takes slower than
 * {@code http.min-send-rate}, a body past its own deadline ({@code manifests.body-timeout}). The thread
 * blocked in the transfer is interrupted (socket I/O of virtual threads is interruptible; the connection
 * closes). Helidon 4.5 applies no read or write timeout to server connections, so without this a client
 * that sends (or reads) one byte every 20 s holds its connection, its upload slot and its buffers for
 * as long as it likes — and enough of them hold every connection there is.
 *
 * <p>Rates count only time spent waiting for the peer (between {@link Watch#reading} and
 * {@link Watch#done}), never time the server spends on its own work between reads; they are averaged
 * over {@code http.min-rate-window} of such waiting, and the first window is a transfer's grace. A
 * transfer that goes on past one window starts the next one afresh.
 */
final class BodyWatchdog implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(BodyWatchdog.class.getName());

    private final String what;
    private final long stallNanos; // 0: none
    private final long minRate; // bytes per second, 0: none
    private final String rateKey;
    private final long windowNanos;
    private final long slack; // bytes one transfer call may have moved without being counted yet
    private final HttpMetrics metrics; // null: neither counted nor logged
    private final Map<String, Counter> cuts = new ConcurrentHashMap<>();
    private final Set<Watch> active = ConcurrentHashMap.newKeySet();
    private final ScheduledExecutorService ticker;

    /** A watchdog for a stall only, neither counted nor logged (a body read after its answer). */
    BodyWatchdog(Duration timeout) {
        this("request body", timeout, 0, "", Duration.ofDays(1), 0, null);
    }

    /** Request bodies: {@code http.read-timeout} and {@code http.min-body-rate}. */
    static BodyWatchdog forBodies(Duration readTimeout, long minRate, Duration window, HttpMetrics metrics) {
        return new BodyWatchdog("request body", readTimeout, minRate, "http.min-body-rate", window, 0, metrics);
    }

    /**
     * Responses: {@code http.min-send-rate}. A write is counted when it returns, so the one in progress
     * (at most {@code slack} bytes) is not held against the client.
     */
    static BodyWatchdog forSends(long minRate, Duration window, long slack, HttpMetrics metrics) {
        return new BodyWatchdog("response", Duration.ZERO, minRate, "http.min-send-rate", window, slack, metrics);
    }

    private BodyWatchdog(
            String what,
            Duration stall,
            long minRate,
            String rateKey,
            Duration window,
            long slack,
            HttpMetrics metrics) {
        this.what = what;
        this.stallNanos = stall.toNanos();
        this.minRate = minRate;
        this.rateKey = rateKey;
        this.windowNanos = window.toNanos();
        this.slack = slack;
        this.metrics = metrics;
        this.ticker = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "berth-body-watchdog");
            t.setDaemon(true);
            return t;
        });
        long shortest = Math.min(window.toMillis(), stall.isZero() ? Long.MAX_VALUE : stall.toMillis());
        long period = Math.max(50, Math.min(1000, shortest / 4));
        ticker.scheduleAtFixedRate(this::check, period, period, TimeUnit.MILLISECONDS);
    }

    Duration timeout() {
        return Duration.ofNanos(stallNanos);
    }

    /** Bytes a window of waiting must move at least. */
    private long needed() {
        return minRate == 0 ? 0 : Math.max(1, minRate * (windowNanos / 1_000_000) / 1000 - slack);
    }

    /** One transfer (a body read, or a connection's responses). */
    final class Watch {
        private final String client;
        private final long deadline; // System.nanoTime, 0: none
        private final String deadlineKey;
        private volatile Thread worker;
        // guarded by this
        private long since; // the wait in progress began (System.nanoTime); 0: not waiting
        private long waited; // nanos waited in the current window before the wait in progress
        private long bytes; // moved in the current window
        private volatile String cut; // why it was cut; null while it was not

        private Watch(String client, Duration deadline, String deadlineKey) {
            this.client = client;
            this.deadline = deadline == null ? 0 : System.nanoTime() + deadline.toNanos();
            this.deadlineKey = deadlineKey;
        }

        /** The current thread starts to wait for the peer (a read or a write). */
        void reading() {
            synchronized (this) {
                since = Math.max(1, System.nanoTime());
            }
            worker = Thread.currentThread();
            active.add(this);
        }

        /** The wait ended having moved nothing. As {@link #done(long)}. */
        boolean done() {
            return done(0);
        }

        /**
         * The wait ended having moved {@code n} bytes. True when the transfer was cut: the caller then
         * treats it as failed (the thread's interrupt is cleared here).
         */
        boolean done(long n) {
            String why;
            synchronized (this) {
                long now = System.nanoTime();
                if (since != 0) {
                    waited += now - since;
                    since = 0;
                }
                bytes += n;
                why = rollOrCut(now);
            }
            worker = null;
            active.remove(this);
            if (why != null) {
                cut(why, null);
            }
            if (cut != null) {
                Thread.interrupted();
                return true;
            }
            return false;
        }

        /** {@code n} bytes moved during the wait in progress. */
        void progress(long n) {
            String why;
            synchronized (this) {
                bytes += n;
                why = rollOrCut(System.nanoTime());
            }
            if (why != null) {
                cut(why, Thread.currentThread());
            }
        }

        /** Why the transfer was cut, or null. */
        String why() {
            return cut;
        }

        /** After a full window: a fresh one when it moved enough, else why it is cut. Holding this. */
        private String rollOrCut(long now) {
            if (deadline != 0 && now - deadline > 0) {
                return what + " not complete within its " + deadlineKey;
            }
            if (minRate == 0) {
                return null;
            }
            long inWindow = waited + (since == 0 ? 0 : now - since);
            if (inWindow < windowNanos) {
                return null;
            }
            if (bytes < needed()) {
                return slow(inWindow);
            }
            waited = 0;
            bytes = 0;
            if (since != 0) {
                since = now;
            }
            return null;
        }

        private String slow(long inWindow) {
            return what + " moved " + bytes + " bytes in " + (inWindow / 1_000_000_000) + " s of waiting, under "
                    + rateKey + " (" + minRate + " bytes/s)";
        }

        private void check(long now) {
            String why = null;
            Thread t;
            synchronized (this) {
                if (since == 0) {
                    return;
                }
                if (stallNanos > 0 && now - since > stallNanos) {
                    why = "no " + what + " bytes for " + (stallNanos / 1_000_000_000) + " s (http.read-timeout)";
                } else {
                    // a wait that outlasts a window is judged by the window's bytes, then starts the next
                    // (a fast start must not cover a stall that follows it)
                    why = rollOrCut(now);
                }
                t = worker;
            }
            if (why != null && t != null) {
                cut(why, t);
            }
        }

        /**
         * Cuts the transfer once: counted, logged with the client's address, and {@code t} (the thread
         * waiting in it; null: the caller, which is not waiting) interrupted. Under the watch's lock, so
         * that a wait that has just ended is not cut, and its thread is never interrupted after
         * {@link #done} has looked.
         */
        private void cut(String why, Thread t) {
            synchronized (this) {
                if (cut != null || t != null && since == 0) {
                    return;
                }
                cut = why;
                if (t != null) {
                    t.interrupt();
                }
            }
            if (metrics != null) {
                String limit = why.contains(rateKey)
                        ? rateKey
                        : why.contains("http.read-timeout") ? "http.read-timeout" : deadlineKey;
                cuts.computeIfAbsent(
                                limit,
                                l -> Counter.builder("berth.http.transfers.cut")
                                        .tag("limit", l)
                                        .description(
                                                "Request bodies and responses cut off, closing their connection: "
                                                        + "http.read-timeout, http.min-body-rate, http.min-send-rate, manifests.body-timeout.")
                                        .register(metrics.registry()))
                        .increment();
                LOG.log(System.Logger.Level.INFO, "closing the connection of " + client + ": " + why);
            }
        }
    }

    /** A watch for one transfer with {@code client}. */
    Watch watch(String client) {
        return new Watch(client, null, null);
    }

    /** A watch for one transfer that must end within {@code deadline} ({@code key}) of now. */
    Watch watch(String client, Duration deadline, String key) {
        return new Watch(client, deadline, key);
    }

    /** A watch that is neither logged nor tied to a client (bodies read under the stall timeout only). */
    Watch watch() {
        return watch("-");
    }

    private void check() {
        long now = System.nanoTime();
        for (Watch w : active) {
            w.check(now);
        }
    }

    @Override
    public void close() {
        ticker.shutdownNow();
    }
}
