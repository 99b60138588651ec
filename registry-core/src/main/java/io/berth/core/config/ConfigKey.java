package io.berth.core.config;

import java.util.List;
import java.util.Locale;

/**
 * One configuration key: its dotted name, default, type, meaning and, for {@link Type#CHOICE}, the
 * values it admits. The environment variable is derived from the name: {@code http.port} is
 * {@code BERTH_HTTP_PORT}, {@code a.b-c} is {@code BERTH_A_B_C}.
 */
public record ConfigKey(String name, String defaultValue, Type type, String description, List<String> choices) {
    public enum Type { COUNT, PORT, BOOLEAN, DURATION, SIZE, PATH, HOST, CHOICE }

    public ConfigKey {
        choices = List.copyOf(choices);
    }

    public ConfigKey(String name, String defaultValue, Type type, String description) {
        this(name, defaultValue, type, description, List.of());
    }

    /** A key that admits only the given values. */
    public static ConfigKey choice(String name, String defaultValue, List<String> choices, String description) {
        return new ConfigKey(name, defaultValue, Type.CHOICE, description, choices);
    }

    public String envName() {
        return "BERTH_" + name.toUpperCase(Locale.ROOT).replace('.', '_').replace('-', '_');
    }
}
