package io.berth.core.config;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * One configuration key: its dotted name, default, type, meaning, the values it admits
 * ({@link Type#CHOICE}) and, for numbers, sizes and durations, its range ({@code min}..{@code max}
 * in the type's unit: a count, bytes, or milliseconds). The environment variable is derived from the
 * name: {@code http.port} is {@code BERTH_HTTP_PORT}, {@code a.b-c} is {@code BERTH_A_B_C}. A
 * {@code secret} key's value (a password) is masked wherever a log line would carry it.
 */
public record ConfigKey(
        String name,
        String defaultValue,
        Type type,
        String description,
        List<String> choices,
        long min,
        long max,
        boolean secret) {
    public enum Type {
        COUNT,
        PORT,
        BOOLEAN,
        DURATION,
        SIZE,
        PATH,
        HOST,
        CHOICE,
        TEXT,
        LIST,
        LEVELS,
        URL
    }

    public ConfigKey {
        choices = List.copyOf(choices);
        if (min > max) {
            throw new IllegalArgumentException(name + ": min above max");
        }
    }

    /** A key without a range (ports, booleans, paths, hosts, text). */
    public ConfigKey(String name, String defaultValue, Type type, String description) {
        this(name, defaultValue, type, description, List.of(), 0, type == Type.PORT ? 65535 : Long.MAX_VALUE, false);
    }

    /** A key that admits only the given values. */
    public static ConfigKey choice(String name, String defaultValue, List<String> choices, String description) {
        return new ConfigKey(name, defaultValue, Type.CHOICE, description, choices, 0, Long.MAX_VALUE, false);
    }

    /** A whole number from {@code min} to {@code max}. */
    public static ConfigKey count(String name, String defaultValue, long min, long max, String description) {
        return new ConfigKey(name, defaultValue, Type.COUNT, description, List.of(), min, max, false);
    }

    /** A size in bytes from {@code min} to {@code max}. */
    public static ConfigKey size(String name, String defaultValue, long min, long max, String description) {
        return new ConfigKey(name, defaultValue, Type.SIZE, description, List.of(), min, max, false);
    }

    /** A duration from {@code min} to {@code max} (both {@link java.time.Duration}s). */
    public static ConfigKey duration(String name, String defaultValue, Duration min, Duration max, String description) {
        return new ConfigKey(
                name, defaultValue, Type.DURATION, description, List.of(), min.toMillis(), max.toMillis(), false);
    }

    /** This key, its value a secret: masked in every log line ({@code berth serve} masks every such key). */
    public ConfigKey asSecret() {
        return new ConfigKey(name, defaultValue, type, description, choices, min, max, true);
    }

    /** This {@link Type#CHOICE} key admitting {@code more} values too (those of an installed {@link ConfigKeySet}). */
    ConfigKey withChoices(List<String> more) {
        if (type != Type.CHOICE) {
            throw new IllegalArgumentException(name + " is not a choice: no values can be added to it");
        }
        List<String> all = new ArrayList<>(choices);
        for (String c : more) {
            if (all.contains(c)) {
                throw new IllegalArgumentException(name + " admits " + c + " twice");
            }
            all.add(c);
        }
        return new ConfigKey(name, defaultValue, type, description, all, min, max, secret);
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
