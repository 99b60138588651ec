package io.berth.core.proxy;

import java.time.Duration;
import java.util.Objects;

/**
 * How the cached content of every upstream is kept (docs/proxy.md, "Eviction"): content not pulled for
 * {@code evictAfter} is evicted (zero: never by age); beyond {@code maxSize} bytes the least recently
 * pulled images go first (zero: no budget); eviction runs every {@code evictInterval}.
 */
public record ProxySettings(Duration evictAfter, long maxSize, Duration evictInterval) {
    /** The defaults of the {@code proxy.*} keys: 30 days, no budget, every 10 minutes. */
    public static final ProxySettings DEFAULTS = new ProxySettings(Duration.ofDays(30), 0, Duration.ofMinutes(10));

    public ProxySettings {
        Objects.requireNonNull(evictAfter, "evictAfter");
        Objects.requireNonNull(evictInterval, "evictInterval");
        if (evictAfter.isNegative() || maxSize < 0 || evictInterval.isNegative() || evictInterval.isZero()) {
            throw new IllegalArgumentException(
                    "evict-after and max-size cannot be negative, evict-interval must be" + " positive");
        }
    }

    /** Whether eviction has anything to do: an age or a budget. */
    public boolean evicts() {
        return !evictAfter.isZero() || maxSize > 0;
    }
}
