package io.berth.core.auth;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Slows down guessing: each failed login of one user from one client address makes the answer to
 * that pair's next failure wait longer (200 ms, doubling, at most {@link #MAX_DELAY_MILLIS}); a
 * success, or a quarter of an hour without failures, forgets them.
 */
final class LoginThrottle {
    static final long MAX_DELAY_MILLIS = 3_000;
    private static final long FORGET_NANOS = 15L * 60 * 1_000_000_000L;

    private record Failures(int count, long lastAt) {
    }

    private final Map<String, Failures> failures = new ConcurrentHashMap<>();

    /** Records a failure and returns how long its answer should wait, in milliseconds. */
    long failed(String client, String user) {
        long now = System.nanoTime();
        if (failures.size() > 100_000) {
            failures.values().removeIf(f -> now - f.lastAt() > FORGET_NANOS);
        }
        Failures f = failures.compute(client + '\0' + user, (k, old) -> old == null || now - old.lastAt() > FORGET_NANOS
                ? new Failures(1, now) : new Failures(old.count() + 1, now));
        return Math.min(MAX_DELAY_MILLIS, 200L << Math.min(f.count() - 1, 10));
    }

    void succeeded(String client, String user) {
        failures.remove(client + '\0' + user);
    }
}
