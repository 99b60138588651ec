package io.berth.core.config;

import java.math.BigInteger;
import java.time.Duration;
import java.util.Locale;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The one way Berth reads a duration written by a person: a whole number and a unit, {@code ms},
 * {@code s}, {@code m}, {@code h}, {@code d} or {@code w} ({@code 500ms}, {@code 30s}, {@code 24h},
 * {@code 7d}, {@code 4w}). Configuration keys, retention rules and garbage collection's grace all
 * use it.
 */
public final class Durations {
    private static final Pattern DURATION = Pattern.compile("(\\d+)\\s*(ms|s|m|h|d|w)");

    private Durations() {}

    /** The milliseconds the text says, exactly (never overflowing), or empty when it is not a duration. */
    public static Optional<BigInteger> millis(String text) {
        Matcher m = DURATION.matcher(text == null ? "" : text.trim().toLowerCase(Locale.ROOT));
        if (!m.matches()) {
            return Optional.empty();
        }
        long factor = switch (m.group(2)) {
            case "ms" -> 1L;
            case "s" -> 1000L;
            case "m" -> 60_000L;
            case "h" -> 3_600_000L;
            case "d" -> 86_400_000L;
            default -> 7 * 86_400_000L;
        };
        return Optional.of(new BigInteger(m.group(1)).multiply(BigInteger.valueOf(factor)));
    }

    /** The duration the text says, when it is one and lies within {@code min} and {@code max}. */
    public static Optional<Duration> parse(String text, Duration min, Duration max) {
        return millis(text)
                .filter(ms -> ms.compareTo(BigInteger.valueOf(min.toMillis())) >= 0
                        && ms.compareTo(BigInteger.valueOf(max.toMillis())) <= 0)
                .map(ms -> Duration.ofMillis(ms.longValue()));
    }
}
