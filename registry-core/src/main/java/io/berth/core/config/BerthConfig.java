package io.berth.core.config;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

/**
 * Resolved configuration: built-in defaults, overridden by a YAML file, overridden by
 * {@code BERTH_*} environment variables. Values are checked when loaded, so a bad value stops
 * start-up with a message naming the key instead of failing later.
 */
public final class BerthConfig {
    private static final Pattern DURATION = Pattern.compile("(\\d+)(ms|s|m|h|d)");
    private static final Pattern SIZE = Pattern.compile("(\\d+)\\s*(B|KiB|MiB|GiB|KB|MB|GB|k|m|g)?",
            Pattern.CASE_INSENSITIVE);

    /** Variables read by the launcher scripts, not configuration keys. */
    private static final Set<String> NOT_CONFIG_ENV = Set.of("BERTH_HOME", "BERTH_JAVA_OPTS", "BERTH_CONFIG");

    private final Map<String, String> values;
    private final Map<String, String> sources;

    private BerthConfig(Map<String, String> values, Map<String, String> sources) {
        this.values = Map.copyOf(values);
        this.sources = Map.copyOf(sources);
    }

    /** The built-in defaults alone. */
    public static BerthConfig defaults() {
        return load(Optional.empty(), Map.of(), w -> { });
    }

    /**
     * @param file the YAML file, if any
     * @param env  the environment ({@code System.getenv()})
     * @param warn receives a line per unknown key
     */
    public static BerthConfig load(Optional<Path> file, Map<String, String> env, Consumer<String> warn) {
        Map<String, String> values = new LinkedHashMap<>();
        Map<String, String> sources = new LinkedHashMap<>();
        for (ConfigKey k : ConfigKeys.ALL) {
            values.put(k.name(), k.defaultValue());
            sources.put(k.name(), "default");
        }
        if (file.isPresent()) {
            Map<String, String> fromFile = readYaml(file.get());
            for (Map.Entry<String, String> e : fromFile.entrySet()) {
                if (ConfigKeys.byName(e.getKey()).isEmpty()) {
                    warn.accept("unknown configuration key '" + e.getKey() + "' in " + file.get() + " (ignored)");
                    continue;
                }
                values.put(e.getKey(), e.getValue());
                sources.put(e.getKey(), file.get().toString());
            }
        }
        Map<String, ConfigKey> byEnv = new LinkedHashMap<>();
        ConfigKeys.ALL.forEach(k -> byEnv.put(k.envName(), k));
        for (Map.Entry<String, String> e : env.entrySet()) {
            if (!e.getKey().startsWith("BERTH_")) {
                continue;
            }
            ConfigKey k = byEnv.get(e.getKey());
            if (k == null) {
                if (!NOT_CONFIG_ENV.contains(e.getKey())) {
                    warn.accept("unknown configuration variable " + e.getKey() + " (ignored)");
                }
                continue;
            }
            values.put(k.name(), e.getValue());
            sources.put(k.name(), "environment " + e.getKey());
        }
        BerthConfig config = new BerthConfig(values, sources);
        for (ConfigKey k : ConfigKeys.ALL) {
            config.validate(k);
        }
        return config;
    }

    private static Map<String, String> readYaml(Path file) {
        Object root;
        try (InputStream in = Files.newInputStream(file)) {
            root = new Yaml(new SafeConstructor(new LoaderOptions())).load(in);
        } catch (IOException e) {
            throw new ConfigException("cannot read configuration file " + file + ": " + e.getMessage());
        } catch (RuntimeException e) {
            throw new ConfigException("configuration file " + file + " is not valid YAML: "
                    + e.getMessage().lines().findFirst().orElse(""));
        }
        Map<String, String> out = new LinkedHashMap<>();
        if (root == null) {
            return out;
        }
        if (!(root instanceof Map<?, ?> map)) {
            throw new ConfigException("configuration file " + file + " must hold a mapping of keys");
        }
        flatten("", map, out);
        return out;
    }

    private static void flatten(String prefix, Map<?, ?> map, Map<String, String> out) {
        for (Map.Entry<?, ?> e : map.entrySet()) {
            String key = prefix + e.getKey();
            if (e.getValue() instanceof Map<?, ?> nested) {
                flatten(key + ".", nested, out);
            } else if (e.getValue() instanceof List<?>) {
                throw new ConfigException(key + ": lists are not supported here");
            } else {
                out.put(key, e.getValue() == null ? "" : String.valueOf(e.getValue()));
            }
        }
    }

    private void validate(ConfigKey k) {
        String v = values.get(k.name());
        switch (k.type()) {
            case PORT -> port(k);
            case BOOLEAN -> bool(k);
            case DURATION -> duration(k);
            case SIZE -> size(k);
            case PATH, HOST -> {
                if (v.isBlank()) {
                    throw bad(k, "must not be empty");
                }
            }
            case CHOICE -> {
                if (!k.choices().contains(v)) {
                    throw bad(k, "must be one of " + String.join(", ", k.choices()));
                }
            }
            case COUNT -> positiveInt(k);
        }
    }

    private ConfigException bad(ConfigKey k, String why) {
        return new ConfigException("invalid value '" + values.get(k.name()) + "' for " + k.name() + " (from "
                + sources.get(k.name()) + "): " + why);
    }

    public String string(ConfigKey k) {
        return values.get(k.name());
    }

    /** Where the value of {@code k} came from: default, the file, or an environment variable. */
    public String source(ConfigKey k) {
        return sources.get(k.name());
    }

    public int port(ConfigKey k) {
        try {
            int p = Integer.parseInt(values.get(k.name()).trim());
            if (p < 0 || p > 65535) {
                throw bad(k, "a port is a number from 0 to 65535");
            }
            return p;
        } catch (NumberFormatException e) {
            throw bad(k, "a port is a number from 0 to 65535");
        }
    }

    public int positiveInt(ConfigKey k) {
        try {
            int n = Integer.parseInt(values.get(k.name()).trim());
            if (n <= 0) {
                throw bad(k, "must be a positive whole number");
            }
            return n;
        } catch (NumberFormatException e) {
            throw bad(k, "must be a positive whole number");
        }
    }

    public boolean bool(ConfigKey k) {
        String v = values.get(k.name()).trim().toLowerCase(Locale.ROOT);
        return switch (v) {
            case "true", "yes", "on", "1" -> true;
            case "false", "no", "off", "0" -> false;
            default -> throw bad(k, "must be true or false");
        };
    }

    public Duration duration(ConfigKey k) {
        Matcher m = DURATION.matcher(values.get(k.name()).trim());
        if (!m.matches()) {
            throw bad(k, "a duration is a number with a unit: ms, s, m, h or d (e.g. 30s, 24h)");
        }
        long n = Long.parseLong(m.group(1));
        Duration d = switch (m.group(2)) {
            case "ms" -> Duration.ofMillis(n);
            case "s" -> Duration.ofSeconds(n);
            case "m" -> Duration.ofMinutes(n);
            case "h" -> Duration.ofHours(n);
            default -> Duration.ofDays(n);
        };
        if (d.isZero()) {
            throw bad(k, "must be longer than zero");
        }
        return d;
    }

    public long size(ConfigKey k) {
        Matcher m = SIZE.matcher(values.get(k.name()).trim());
        if (!m.matches()) {
            throw bad(k, "a size is a number of bytes, optionally with KiB, MiB or GiB");
        }
        long n = Long.parseLong(m.group(1));
        String unit = m.group(2) == null ? "b" : m.group(2).toLowerCase(Locale.ROOT);
        long factor = switch (unit) {
            case "kib", "kb", "k" -> 1024L;
            case "mib", "mb", "m" -> 1024L * 1024;
            case "gib", "gb", "g" -> 1024L * 1024 * 1024;
            default -> 1L;
        };
        if (n <= 0) {
            throw bad(k, "must be larger than zero");
        }
        return n * factor;
    }

    public Path path(ConfigKey k) {
        return Path.of(values.get(k.name()));
    }
}
