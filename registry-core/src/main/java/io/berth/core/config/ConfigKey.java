package io.berth.core.config;

import java.util.Locale;

/**
 * One configuration key: its dotted name, default, type and meaning. The environment variable is
 * derived from the name: {@code http.port} is {@code BERTH_HTTP_PORT}, {@code a.b-c} is
 * {@code BERTH_A_B_C}.
 */
public record ConfigKey(String name, String defaultValue, Type type, String description) {
    public enum Type { STRING, PORT, BOOLEAN, DURATION, SIZE, PATH, HOST, CHOICE }

    public String envName() {
        return "BERTH_" + name.toUpperCase(Locale.ROOT).replace('.', '_').replace('-', '_');
    }
}
