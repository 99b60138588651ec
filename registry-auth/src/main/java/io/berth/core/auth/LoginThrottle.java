package io.berth.core.auth;

import io.berth.core.model.ClientGroup;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.function.LongSupplier;

/**
 * Bounds password guessing before any password is checked. Each client address and each user name
 * has an allowance of failed logins (a token bucket of {@link LoginLimits#failuresPerAddress()} /
 * {@link LoginLimits#failuresPerUser()}, one forgiven every {@link LoginLimits#refill()}). An attempt
 * takes one from both <em>before</em> its credentials are checked and gives them back when they
 * were right; so concurrent guesses cannot run ahead of the count, and an attempt finding either
 * empty is refused at once with the time until it refills — no password check, no sleeping thread.
 *
 * <p>Addresses are counted by {@link ClientGroup} (an IPv6 address by its /64), as the connection
 * caps count them. Both maps are bounded ({@link #MAX_TRACKED} each, the least recently used forgotten first), and
 * user names longer than {@link #MAX_USER_BYTES} are never tracked: callers refuse them outright.
 */
public final class LoginThrottle {
    /** Longest user name (UTF-8 bytes) worth checking; longer ones are wrong without any work. */
    public static final int MAX_USER_BYTES = 256;
    /** Most addresses, and most user names, tracked at once. */
    public static final int MAX_TRACKED = 10_000;

    /** Why an attempt is refused unchecked, and when another may be made. */
    public record Refusal(long retryAfterMillis, String reason) {}

    private static final class Bucket {
        double failuresLeft;
        long at;

        Bucket(double failuresLeft, long at) {
            this.failuresLeft = failuresLeft;
            this.at = at;
        }
    }

    private final LoginLimits limits;
    private final LongSupplier nanos;
    private final double refillNanos;
    private final Map<String, Bucket> addresses = lru();
    private final Map<String, Bucket> users = lru();

    public LoginThrottle(LoginLimits limits) {
        this(limits, System::nanoTime);
    }

    LoginThrottle(LoginLimits limits, LongSupplier nanos) {
        this.limits = limits;
        this.nanos = nanos;
        this.refillNanos = limits.refill().toNanos();
    }

    private static Map<String, Bucket> lru() {
        return new LinkedHashMap<>(256, 0.75f, true) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<String, Bucket> eldest) {
                return size() > MAX_TRACKED;
            }
        };
    }

    /** Whether {@code address} may try a login now (nothing is taken): its allowance is not used up. */
    public synchronized Optional<Refusal> addressRefusal(String address) {
        long now = nanos.getAsLong();
        Bucket a = refilled(addresses.get(ClientGroup.of(address)), limits.failuresPerAddress(), now);
        return a == null || a.failuresLeft >= 1
                ? Optional.empty()
                : Optional.of(new Refusal(wait(a), "too many failed logins from this address"));
    }

    /**
     * Takes one failure of the allowances of {@code address} and {@code user} for an attempt about to
     * be checked; empty when both had one (then {@link #refund} when the credentials were right), else
     * why not (nothing taken).
     */
    public synchronized Optional<Refusal> reserve(String address, String user) {
        long now = nanos.getAsLong();
        Bucket a = bucket(addresses, ClientGroup.of(address), limits.failuresPerAddress(), now);
        if (a.failuresLeft < 1) {
            return Optional.of(new Refusal(wait(a), "too many failed logins from this address"));
        }
        Bucket u = bucket(users, user, limits.failuresPerUser(), now);
        if (u.failuresLeft < 1) {
            return Optional.of(new Refusal(wait(u), "too many failed logins of this user"));
        }
        a.failuresLeft -= 1;
        u.failuresLeft -= 1;
        return Optional.empty();
    }

    /**
     * Takes one failure of {@code user}'s allowance alone; empty when there was one, else why not
     * (nothing taken). For a check made while the address is refused: it must not be an oracle
     * that answers guesses of that user for free.
     */
    public synchronized Optional<Refusal> takeUser(String user) {
        Bucket u = bucket(users, user, limits.failuresPerUser(), nanos.getAsLong());
        if (u.failuresLeft < 1) {
            return Optional.of(new Refusal(wait(u), "too many failed logins of this user"));
        }
        u.failuresLeft -= 1;
        return Optional.empty();
    }

    /** Gives back what {@link #takeUser} took: the credentials were right. */
    public synchronized void refundUser(String user) {
        give(users.get(user), limits.failuresPerUser());
    }

    /** Gives back what {@link #reserve} took: the credentials were right, or were not checked. */
    public synchronized void refund(String address, String user) {
        give(addresses.get(ClientGroup.of(address)), limits.failuresPerAddress());
        give(users.get(user), limits.failuresPerUser());
    }

    /** Counts a failure of {@code address} alone (a wrong admin token, a user name too long to track). */
    public synchronized void failed(String address) {
        Bucket a = bucket(addresses, ClientGroup.of(address), limits.failuresPerAddress(), nanos.getAsLong());
        a.failuresLeft = Math.max(0, a.failuresLeft - 1);
    }

    /** How many addresses and user names are tracked now. */
    public synchronized int[] tracked() {
        return new int[] {addresses.size(), users.size()};
    }

    private static void give(Bucket b, int capacity) {
        if (b != null) {
            b.failuresLeft = Math.min(capacity, b.failuresLeft + 1);
        }
    }

    private Bucket bucket(Map<String, Bucket> map, String key, int capacity, long now) {
        Bucket b = refilled(map.get(key), capacity, now);
        if (b == null) {
            b = new Bucket(capacity, now);
            map.put(key, b);
        }
        return b;
    }

    private Bucket refilled(Bucket b, int capacity, long now) {
        if (b != null) {
            b.failuresLeft = Math.min(capacity, b.failuresLeft + (now - b.at) / refillNanos);
            b.at = now;
        }
        return b;
    }

    private long wait(Bucket b) {
        return Math.max(1, (long) Math.ceil((1 - b.failuresLeft) * refillNanos / 1e6));
    }
}
