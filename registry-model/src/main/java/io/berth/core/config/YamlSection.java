package io.berth.core.config;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.function.Supplier;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;
import org.yaml.snakeyaml.error.MarkedYAMLException;

/**
 * A mapping of a YAML configuration file that a command reads key by key ({@code berth webhooks},
 * {@code berth replicate}), with environment overrides the Berth way: the key
 * {@code replication.kafka.bootstrap-servers} is {@code BERTH_REPLICATION_KAFKA_BOOTSTRAP_SERVERS}.
 * Every problem is one {@link IllegalArgumentException} line naming the file and the key.
 */
public final class YamlSection {
    private final Path file;
    private final String key;
    private final Map<?, ?> values;
    private final Map<String, String> env;

    private YamlSection(Path file, String key, Map<?, ?> values, Map<String, String> env) {
        this.file = file;
        this.key = key;
        this.values = values;
        this.env = env;
    }

    /** A mapping {@code values} found under {@code key} of {@code file} (a structured section of berth.yaml). */
    static YamlSection of(Path file, String key, Map<?, ?> values, Map<String, String> env) {
        return new YamlSection(file, key, asMap(values, file, key), env);
    }

    /** The section {@code top} of the file. */
    public static YamlSection load(Path file, String top, Map<String, String> env) {
        return load(file, env).section(top);
    }

    /** The whole file, its top level as the section. */
    public static YamlSection load(Path file, Map<String, String> env) {
        Object root;
        try (InputStream in = Files.newInputStream(file)) {
            root = new Yaml(new SafeConstructor(new LoaderOptions())).load(in);
        } catch (NoSuchFileException e) {
            throw new IllegalArgumentException("cannot read configuration file " + file + ": no such file");
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot read configuration file " + file + ": " + e.getMessage());
        } catch (MarkedYAMLException e) {
            throw new IllegalArgumentException("configuration file " + file + " is not valid YAML: line "
                    + (e.getProblemMark().getLine() + 1) + ", column "
                    + (e.getProblemMark().getColumn() + 1) + ": "
                    + e.getProblem());
        }
        return new YamlSection(file, "", asMap(root, file, "(top)"), env);
    }

    private static Map<?, ?> asMap(Object o, Path file, String key) {
        if (o == null) {
            return Map.of();
        }
        if (!(o instanceof Map<?, ?> m)) {
            throw new IllegalArgumentException("configuration file " + file + ": " + key + " must be a mapping");
        }
        return m;
    }

    private String full(String name) {
        return key.isEmpty() ? name : key + "." + name;
    }

    /** The environment variable of a key: {@code BERTH_} and the key in capitals, '.' and '-' as '_'. */
    public static String envName(String key) {
        return "BERTH_"
                + key.toUpperCase(Locale.ROOT).replaceAll("[.\\-\\[\\]]+", "_").replaceAll("_+$", "");
    }

    public Path file() {
        return file;
    }

    /** This section's key ({@code replication.targets[0]}). */
    public String key() {
        return key;
    }

    public YamlSection section(String name) {
        return new YamlSection(file, full(name), asMap(values.get(name), file, full(name)), env);
    }

    /** The mappings of a list under {@code name}, each a section ({@code name[0]}, …). */
    public List<YamlSection> sections(String name) {
        Object o = values.get(name);
        if (o == null) {
            return List.of();
        }
        if (!(o instanceof List<?> l)) {
            throw bad(name, "must be a list");
        }
        ArrayList<YamlSection> out = new ArrayList<>();
        for (int i = 0; i < l.size(); i++) {
            String k = full(name) + "[" + i + "]";
            out.add(new YamlSection(file, k, asMap(l.get(i), file, k), env));
        }
        return out;
    }

    /**
     * As {@link #sections}, each element made a section only when asked: an element that is not a
     * mapping fails alone (a policy leaves out that rule and keeps the others).
     */
    public List<Supplier<YamlSection>> eachSection(String name) {
        Object o = values.get(name);
        if (o == null) {
            return List.of();
        }
        if (!(o instanceof List<?> l)) {
            throw bad(name, "must be a list");
        }
        ArrayList<Supplier<YamlSection>> out = new ArrayList<>();
        for (int i = 0; i < l.size(); i++) {
            String k = full(name) + "[" + i + "]";
            Object element = l.get(i);
            out.add(() -> new YamlSection(file, k, asMap(element, file, k), env));
        }
        return out;
    }

    /** A scalar, overridden by its environment variable ({@code envKey}: the key to name it by, or null for this key). */
    public String string(String name, String dflt) {
        return stringWithEnv(name, full(name), dflt);
    }

    /** As {@link #string}, with the environment variable of {@code envKey} instead of this section's key. */
    public String stringWithEnv(String name, String envKey, String dflt) {
        String v = env.get(envName(envKey));
        if (v != null) {
            return v.trim();
        }
        Object o = values.get(name);
        if (o instanceof Map<?, ?> || o instanceof List<?>) {
            throw bad(name, "must be a single value");
        }
        return o == null ? dflt : String.valueOf(o).trim();
    }

    /**
     * Refuses any key of this section that is not one of {@code known} (one line naming it and the
     * nearest known key): a misspelt key must not be ignored. Returns this section.
     */
    public YamlSection only(String... known) {
        List<String> keys = List.of(known);
        KnownKeys.firstUnknown(values.keySet(), keys).ifPresent(k -> {
            throw bad(k, KnownKeys.refusal(k, keys, "known key"));
        });
        return this;
    }

    public boolean has(String name) {
        return values.containsKey(name);
    }

    public List<String> strings(String name) {
        Object o = values.get(name);
        if (o == null) {
            return List.of();
        }
        if (o instanceof String one) {
            return List.of(one);
        }
        if (!(o instanceof List<?> l)) {
            throw bad(name, "must be a list");
        }
        return l.stream().map(String::valueOf).toList();
    }

    /** The keys of the mapping under {@code name}, in file order. */
    public List<String> stringMapKeys(String name) {
        return asMap(values.get(name), file, full(name)).keySet().stream()
                .map(String::valueOf)
                .toList();
    }

    public Map<String, String> stringMap(String name) {
        Map<String, String> out = new LinkedHashMap<>();
        asMap(values.get(name), file, full(name)).forEach((k, v) -> out.put(String.valueOf(k), String.valueOf(v)));
        return out;
    }

    /**
     * The mapping under {@code name} as client properties passed through as they are ({@code kafka.properties}):
     * nested mappings joined with '.', so {@code security: {protocol: SSL}} is {@code security.protocol};
     * each may be given or overridden from the environment, {@code BERTH_WEBHOOKS_KAFKA_PROPERTIES_SASL_MECHANISM}
     * being {@code sasl.mechanism} (the part after the prefix, lower-cased, '_' as '.').
     */
    public Map<String, String> properties(String name) {
        Map<String, String> out = new TreeMap<>();
        flatten("", asMap(values.get(name), file, full(name)), out, name);
        String prefix = envName(full(name)) + "_";
        env.forEach((k, v) -> {
            if (k.startsWith(prefix) && k.length() > prefix.length()) {
                out.put(k.substring(prefix.length()).toLowerCase(Locale.ROOT).replace('_', '.'), v.trim());
            }
        });
        return out;
    }

    private void flatten(String prefix, Map<?, ?> m, Map<String, String> out, String name) {
        m.forEach((k, v) -> {
            String key = prefix + k;
            if (v instanceof Map<?, ?> nested) {
                flatten(key + ".", nested, out, name);
            } else if (v instanceof List<?>) {
                throw bad(name + "." + key, "must be a single value");
            } else {
                out.put(key, v == null ? "" : String.valueOf(v).trim());
            }
        });
    }

    public Duration duration(String name, String dflt, Duration min, Duration max) {
        String text = string(name, dflt);
        String range =
                "from " + BerthConfig.formatMillis(min.toMillis()) + " to " + BerthConfig.formatMillis(max.toMillis());
        if (Durations.millis(text).isEmpty()) {
            throw bad(name, "'" + text + "' is not a duration (e.g. 500ms, 5s, 10m), " + range);
        }
        return Durations.parse(text, min, max).orElseThrow(() -> bad(name, "'" + text + "' must be " + range));
    }

    public int count(String name, String dflt, int min, int max) {
        String text = string(name, dflt);
        try {
            int n = Integer.parseInt(text);
            if (n >= min && n <= max) {
                return n;
            }
        } catch (NumberFormatException e) {
            // below
        }
        throw bad(name, "'" + text + "' must be a whole number from " + min + " to " + max);
    }

    public boolean bool(String name, boolean dflt) {
        String text = string(name, Boolean.toString(dflt)).toLowerCase(Locale.ROOT);
        return switch (text) {
            case "true", "yes", "on", "1" -> true;
            case "false", "no", "off", "0" -> false;
            default -> throw bad(name, "'" + text + "' must be true or false");
        };
    }

    public int port(String name, String dflt) {
        String text = string(name, dflt);
        try {
            int n = Integer.parseInt(text);
            if (n >= 0 && n <= 65535) {
                return n;
            }
        } catch (NumberFormatException e) {
            // below
        }
        throw bad(name, "'" + text + "' is not a port (0 to 65535)");
    }

    public Optional<String> optional(String name) {
        String v = string(name, "");
        return v.isEmpty() ? Optional.empty() : Optional.of(v);
    }

    /** A problem with the key {@code name} of this section, as one line. */
    public IllegalArgumentException bad(String name, String why) {
        return new IllegalArgumentException("configuration file " + file + ": " + full(name) + " " + why);
    }
}
