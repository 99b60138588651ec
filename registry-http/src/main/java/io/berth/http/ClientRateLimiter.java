package io.berth.http;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A token bucket per client ({@code http.rate-limit} requests per second, bursts of
 * {@code http.rate-limit-burst}): a client is a user when authenticated, else an address. At most
 * {@link #MAX_CLIENTS} are remembered.
 */
final class ClientRateLimiter {
    private static final int MAX_CLIENTS = 100_000;

    private static final class Bucket {
        double tokens;
        long at;

        Bucket(double tokens, long at) {
            this.tokens = tokens;
            this.at = at;
        }
    }

    private final double perNano;
    private final double burst;
    private final Map<String, Bucket> buckets = new ConcurrentHashMap<>();

    /** {@code perSecond} 0 turns limiting off. */
    ClientRateLimiter(int perSecond, int burst) {
        this.perNano = perSecond / 1e9;
        this.burst = Math.max(1, burst);
    }

    boolean enabled() {
        return perNano > 0;
    }

    /** 0 when {@code client} may make a request now (and it is counted), else the milliseconds until it may. */
    long acquire(String client) {
        if (perNano <= 0) {
            return 0;
        }
        long now = System.nanoTime();
        if (buckets.size() > MAX_CLIENTS) {
            buckets.values().removeIf(b -> b.tokens + (now - b.at) * perNano >= burst);
            if (buckets.size() > MAX_CLIENTS) {
                // as many clients busy at once as this: forgetting them is cheaper than the memory
                buckets.clear();
            }
        }
        Bucket b = buckets.computeIfAbsent(client, k -> new Bucket(burst, now));
        synchronized (b) {
            b.tokens = Math.min(burst, b.tokens + (now - b.at) * perNano);
            b.at = now;
            if (b.tokens >= 1) {
                b.tokens -= 1;
                return 0;
            }
            return Math.max(1, (long) Math.ceil((1 - b.tokens) / perNano / 1e6));
        }
    }
}
