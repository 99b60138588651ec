package io.berth.core.config;

import java.time.Duration;
import java.util.List;
import java.util.Locale;

/**
 * One configuration key: its dotted name, default, type, meaning, the values it admits
 * ({@link Type#CHOICE}) and, for numbers, sizes and durations, its range ({@code min}..{@code max}
 * in the type's unit: a count, bytes, or milliseconds). The environment variable is derived from the
 * name: {@code http.port} is {@code BERTH_HTTP_PORT}, {@code a.b-c} is {@code BERTH_A_B_C}.
 */
public record ConfigKey(String name, String defaultValue, Type type, String description, List<String> choices,
                        long min, long max) {
    public enum Type { COUNT, PORT, BOOLEAN, DURATION, SIZE, PATH, HOST, CHOICE, TEXT, LIST, LEVELS, URL }

    public ConfigKey {
        choices = List.copyOf(choices);
        if (min > max) {
            throw new IllegalArgumentException(name + ": min above max");
        }
    }

    /** A key without a range (ports, booleans, paths, hosts, text). */
    public ConfigKey(String name, String defaultValue, Type type, String description) {
        this(name, defaultValue, type, description, List.of(), 0, type == Type.PORT ? 65535 : Long.MAX_VALUE);
    }

    /** A key that admits only the given values. */
    public static ConfigKey choice(String name, String defaultValue, List<String> choices, String description) {
        return new ConfigKey(name, defaultValue, Type.CHOICE, description, choices, 0, Long.MAX_VALUE);
    }

    /** A whole number from {@code min} to {@code max}. */
    public static ConfigKey count(String name, String defaultValue, long min, long max, String description) {
        return new ConfigKey(name, defaultValue, Type.COUNT, description, List.of(), min, max);
    }

    /** A size in bytes from {@code min} to {@code max}. */
    public static ConfigKey size(String name, String defaultValue, long min, long max, String description) {
        return new ConfigKey(name, defaultValue, Type.SIZE, description, List.of(), min, max);
    }

    /** A duration from {@code min} to {@code max} (both {@link java.time.Duration}s). */
    public static ConfigKey duration(String name, String defaultValue, Duration min, Duration max,
                                     String description) {
        return new ConfigKey(name, defaultValue, Type.DURATION, description, List.of(), min.toMillis(), max.toMillis());
    }

    /** The admitted values in words, for help: {@code 1KiB to 64MiB}, {@code one of text, json}; empty if any. */
    public String range() {
        return switch (type) {
            case COUNT -> min + " to " + max;
            case SIZE -> BerthConfig.formatBytes(min) + " to " + BerthConfig.formatBytes(max);
            case DURATION -> BerthConfig.formatMillis(min) + " to " + BerthConfig.formatMillis(max);
            case PORT -> "0 to 65535";
            case CHOICE -> "one of " + String.join(", ", choices);
            case BOOLEAN -> "true or false";
            default -> "";
        };
    }

    public String envName() {
        return "BERTH_" + name.toUpperCase(Locale.ROOT).replace('.', '_').replace('-', '_');
    }
}
