package io.berth.core.config;

import java.io.IOException;
import java.io.InputStream;
import java.math.BigInteger;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;
import org.yaml.snakeyaml.error.Mark;
import org.yaml.snakeyaml.error.MarkedYAMLException;

/**
 * Resolved configuration: built-in defaults, overridden by a YAML file, overridden by
 * {@code BERTH_*} environment variables. Every value is checked against its key's type and range
 * when loaded, so a bad value stops start-up with one line naming the key, the value and where it
 * came from, instead of failing (or overflowing) later.
 */
public final class BerthConfig {
    private static final Pattern SIZE =
            Pattern.compile("(\\d+)\\s*(B|KiB|MiB|GiB|TiB|KB|MB|GB|TB|K|M|G|T)?", Pattern.CASE_INSENSITIVE);
    private static final Pattern COUNT = Pattern.compile("\\d+");

    /** Variables read by the scripts in bin/ and by {@code berth admin}, not configuration keys. */
    private static final Set<String> NOT_CONFIG_ENV = Set.of(
            "BERTH_HOME",
            "BERTH_JAVA_OPTS",
            "BERTH_ADMIN_JAVA_OPTS",
            "BERTH_CONFIG",
            "BERTH_ADMIN_TOKEN",
            "BERTH_AOT",
            "BERTH_CONFORMANCE_SUITE",
            "BERTH_CONFORMANCE_REGISTRY");

    private final Map<String, String> values;
    private final Map<String, String> sources;
    private final Map<String, String> passThrough;
    /** Structured sections ({@link ConfigKeys#sections()}) as the file holds them, and their file. */
    private final Map<String, Object> sections;

    private final Optional<Path> file;
    /** The environment variables of the structured sections (their entries' overrides and passwords). */
    private final Map<String, String> sectionEnv;

    private BerthConfig(Map<String, String> values, Map<String, String> sources, Map<String, String> passThrough) {
        this(values, sources, passThrough, Map.of(), Optional.empty(), Map.of());
    }

    private BerthConfig(
            Map<String, String> values,
            Map<String, String> sources,
            Map<String, String> passThrough,
            Map<String, Object> sections,
            Optional<Path> file,
            Map<String, String> sectionEnv) {
        this.values = Map.copyOf(values);
        this.sources = Map.copyOf(sources);
        this.passThrough = Map.copyOf(passThrough);
        this.sections = Map.copyOf(sections);
        this.file = file;
        this.sectionEnv = Map.copyOf(sectionEnv);
    }

    /**
     * The entries of the structured section {@code name} ({@code proxy.upstreams}), each a mapping read
     * key by key, with the environment of the section; none when the file has none. A section that is
     * not a list of mappings is refused in one line.
     */
    public List<YamlSection> sections(String name) {
        if (!ConfigKeys.sections().contains(name)) {
            throw new IllegalArgumentException(name + " is not a structured section of this build");
        }
        Object o = sections.get(name);
        if (o == null) {
            return List.of();
        }
        Path where = file.orElse(Path.of("(settings)"));
        if (!(o instanceof List<?> list)) {
            throw new ConfigException("configuration file " + where + ": " + name + " must be a list of mappings");
        }
        List<YamlSection> out = new ArrayList<>();
        for (int i = 0; i < list.size(); i++) {
            String key = name + "[" + i + "]";
            if (!(list.get(i) instanceof Map<?, ?> entry)) {
                throw new ConfigException("configuration file " + where + ": " + key + " must be a mapping");
            }
            out.add(YamlSection.of(where, key, entry, sectionEnv));
        }
        return List.copyOf(out);
    }

    private static boolean sectionEnv(String env) {
        return ConfigKeys.sections().stream().anyMatch(s -> env.startsWith(YamlSection.envName(s) + "_"));
    }

    /** Keys given under a pass-through prefix ({@link ConfigKeys#PASS_THROUGH}), prefix removed. */
    public Map<String, String> withPrefix(String prefix) {
        Map<String, String> out = new TreeMap<>();
        passThrough.forEach((k, v) -> {
            if (k.startsWith(prefix)) {
                out.put(k.substring(prefix.length()), v);
            }
        });
        return out;
    }

    private static boolean passThroughKey(String key) {
        return ConfigKeys.PASS_THROUGH.stream().anyMatch(p -> key.startsWith(p) && key.length() > p.length());
    }

    /** The built-in defaults alone. */
    public static BerthConfig defaults() {
        return load(Optional.empty(), Map.of(), w -> {});
    }

    /** The defaults with {@code settings} (key name to value) on top, as an embedding program sets them. */
    public static BerthConfig of(Map<String, String> settings) {
        Map<String, String> values = new LinkedHashMap<>();
        Map<String, String> sources = new LinkedHashMap<>();
        Map<String, String> passThrough = new LinkedHashMap<>();
        defaultsInto(values, sources);
        settings.forEach((key, value) -> {
            if (passThroughKey(key)) {
                passThrough.put(key, value);
                return;
            }
            if (ConfigKeys.byName(key).isEmpty()) {
                throw new ConfigException("unknown configuration key '" + key + "'");
            }
            values.put(key, value);
            sources.put(key, "settings");
        });
        return validated(values, sources, passThrough);
    }

    private static void defaultsInto(Map<String, String> values, Map<String, String> sources) {
        for (ConfigKey k : ConfigKeys.all()) {
            values.put(k.name(), k.defaultValue());
            sources.put(k.name(), "default");
        }
    }

    private static BerthConfig validated(
            Map<String, String> values, Map<String, String> sources, Map<String, String> passThrough) {
        return validated(new BerthConfig(values, sources, passThrough));
    }

    private static BerthConfig validated(BerthConfig config) {
        for (ConfigKey k : ConfigKeys.all()) {
            config.validate(k);
        }
        return config;
    }

    /**
     * @param file the YAML file, if any
     * @param env  the environment ({@code System.getenv()})
     * @param warn receives a line per unknown key
     */
    public static BerthConfig load(Optional<Path> file, Map<String, String> env, Consumer<String> warn) {
        Map<String, String> values = new LinkedHashMap<>();
        Map<String, String> sources = new LinkedHashMap<>();
        Map<String, String> passThrough = new LinkedHashMap<>();
        Map<String, Object> sections = new LinkedHashMap<>();
        Map<String, String> sectionEnv = new LinkedHashMap<>();
        defaultsInto(values, sources);
        if (file.isPresent()) {
            Map<String, String> fromFile = readYaml(file.get(), sections);
            for (Map.Entry<String, String> e : fromFile.entrySet()) {
                if (passThroughKey(e.getKey())) {
                    passThrough.put(e.getKey(), e.getValue());
                    continue;
                }
                if (ConfigKeys.byName(e.getKey()).isEmpty()) {
                    warn.accept("unknown configuration key '" + e.getKey() + "' in " + file.get() + " (ignored)");
                    continue;
                }
                values.put(e.getKey(), e.getValue());
                sources.put(e.getKey(), file.get().toString());
            }
        }
        Map<String, ConfigKey> byEnv = new LinkedHashMap<>();
        ConfigKeys.all().forEach(k -> byEnv.put(k.envName(), k));
        for (Map.Entry<String, String> e : env.entrySet()) {
            if (!e.getKey().startsWith("BERTH_")) {
                continue;
            }
            ConfigKey k = byEnv.get(e.getKey());
            String passThroughEnv = passThroughEnvKey(e.getKey());
            if (k == null && passThroughEnv != null) {
                passThrough.put(passThroughEnv, e.getValue());
                continue;
            }
            if (k == null && sectionEnv(e.getKey())) {
                sectionEnv.put(e.getKey(), e.getValue());
                continue;
            }
            if (k == null) {
                if (!NOT_CONFIG_ENV.contains(e.getKey())) {
                    warn.accept("unknown configuration variable " + e.getKey() + " (ignored)");
                }
                continue;
            }
            values.put(k.name(), e.getValue());
            sources.put(k.name(), "environment " + e.getKey());
        }
        return validated(new BerthConfig(values, sources, passThrough, sections, file, sectionEnv));
    }

    /** {@code BERTH_EVENTS_KAFKA_PROPERTIES_LINGER_MS} is {@code events.kafka.properties.linger.ms}. */
    private static String passThroughEnvKey(String env) {
        for (String prefix : ConfigKeys.PASS_THROUGH) {
            String envPrefix =
                    "BERTH_" + prefix.toUpperCase(Locale.ROOT).replace('.', '_').replace('-', '_');
            if (env.startsWith(envPrefix) && env.length() > envPrefix.length()) {
                return prefix
                        + env.substring(envPrefix.length())
                                .toLowerCase(Locale.ROOT)
                                .replace('_', '.');
            }
        }
        return null;
    }

    private static Map<String, String> readYaml(Path file, Map<String, Object> sections) {
        if (Files.isDirectory(file)) {
            throw new ConfigException("cannot read configuration file " + file + ": it is a directory");
        }
        Object root;
        try (InputStream in = Files.newInputStream(file)) {
            root = new Yaml(new SafeConstructor(new LoaderOptions())).load(in);
        } catch (NoSuchFileException e) {
            throw new ConfigException("cannot read configuration file " + file + ": no such file");
        } catch (AccessDeniedException e) {
            throw new ConfigException("cannot read configuration file " + file + ": permission denied");
        } catch (IOException e) {
            throw new ConfigException("cannot read configuration file " + file + ": "
                    + (e.getMessage() == null
                            ? e.getClass().getSimpleName()
                            : e.getMessage().replace(file + ": ", "")));
        } catch (MarkedYAMLException e) {
            Mark mark = e.getProblemMark() != null ? e.getProblemMark() : e.getContextMark();
            String where =
                    mark == null ? "" : "line " + (mark.getLine() + 1) + ", column " + (mark.getColumn() + 1) + ": ";
            String problem = e.getProblem() != null ? e.getProblem() : String.valueOf(e.getContext());
            throw new ConfigException("configuration file " + file + " is not valid YAML: " + where + problem);
        } catch (RuntimeException e) {
            throw new ConfigException("configuration file " + file + " is not valid YAML: "
                    + String.valueOf(e.getMessage()).lines().findFirst().orElse(""));
        }
        Map<String, String> out = new LinkedHashMap<>();
        if (root == null) {
            return out;
        }
        if (!(root instanceof Map<?, ?> map)) {
            throw new ConfigException("configuration file " + file + " must hold a mapping of keys");
        }
        flatten(file, "", map, out, sections);
        return out;
    }

    private static void flatten(
            Path file, String prefix, Map<?, ?> map, Map<String, String> out, Map<String, Object> sections) {
        for (Map.Entry<?, ?> e : map.entrySet()) {
            String key = prefix + e.getKey();
            Optional<ConfigKey> known = ConfigKeys.byName(key);
            Object v = e.getValue();
            if (ConfigKeys.sections().contains(key)) {
                sections.put(key, v == null ? List.of() : v); // kept whole: read by its module
            } else if (v instanceof Map<?, ?> nested) {
                if (known.isPresent()) {
                    throw new ConfigException(
                            "configuration file " + file + ": " + key + " must be a single value, not a mapping");
                }
                flatten(file, key + ".", nested, out, sections);
            } else if (v instanceof List<?> list) {
                if (known.isPresent()
                        && (known.get().type() == ConfigKey.Type.LIST
                                || known.get().type() == ConfigKey.Type.LEVELS)) {
                    out.put(
                            key,
                            String.join(",", list.stream().map(String::valueOf).toList()));
                } else {
                    throw new ConfigException(
                            "configuration file " + file + ": " + key + " must be a single value, not a list");
                }
            } else {
                out.put(key, v == null ? "" : String.valueOf(v));
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
            case COUNT -> count(k);
            case PATH, HOST -> {
                if (v.isBlank()) {
                    throw bad(k, "must not be empty");
                }
            }
            case CHOICE -> {
                if (!k.choices().contains(v)) {
                    boolean backend = k.name().equals(ConfigKeys.STORAGE_TYPE.name())
                            || k.name().equals(ConfigKeys.METADATA_TYPE.name());
                    throw bad(
                            k,
                            "must be one of " + String.join(", ", k.choices())
                                    + (backend
                                            ? " (the backends in this build; a build with -Dminimal leaves S3 and PostgreSQL out)"
                                            : ""));
                }
            }
            case URL -> {
                if (!v.isBlank()) {
                    publicUrl(k);
                }
            }
            case LEVELS -> {
                try {
                    LogLevels.parse(list(k));
                } catch (IllegalArgumentException e) {
                    throw bad(k, e.getMessage());
                }
            }
            case TEXT, LIST -> {
                // any text
            }
        }
    }

    private ConfigException bad(ConfigKey k, String why) {
        String v = values.get(k.name());
        String shown = v.length() > 80 ? v.substring(0, 80) + "…" : v;
        return new ConfigException(
                "invalid value '" + shown + "' for " + k.name() + " (from " + sources.get(k.name()) + "): " + why);
    }

    public String string(ConfigKey k) {
        return values.get(k.name());
    }

    /** The items of a {@link ConfigKey.Type#LIST} or {@code LEVELS} key (comma-separated), blanks dropped. */
    public List<String> list(ConfigKey k) {
        return Arrays.stream(values.get(k.name()).split(","))
                .map(String::trim)
                .filter(s -> !s.isEmpty())
                .toList();
    }

    /** Where the value of {@code k} came from: default, the file, or an environment variable. */
    public String source(ConfigKey k) {
        return sources.get(k.name());
    }

    public int port(ConfigKey k) {
        String v = values.get(k.name()).trim();
        if (!COUNT.matcher(v).matches() || v.length() > 5 || Integer.parseInt(v) > 65535) {
            throw bad(k, "a port is a number from 0 to 65535");
        }
        return Integer.parseInt(v);
    }

    /** A whole number within the key's range. */
    public long count(ConfigKey k) {
        String v = values.get(k.name()).trim();
        if (!COUNT.matcher(v).matches()) {
            throw bad(k, "must be a whole number from " + k.min() + " to " + k.max());
        }
        return inRange(k, new BigInteger(v), "must be a whole number from " + k.min() + " to " + k.max());
    }

    /** {@link #count} for keys whose range fits an int. */
    public int intCount(ConfigKey k) {
        return Math.toIntExact(count(k));
    }

    public boolean bool(ConfigKey k) {
        String v = values.get(k.name()).trim().toLowerCase(Locale.ROOT);
        return switch (v) {
            case "true", "yes", "on", "1" -> true;
            case "false", "no", "off", "0" -> false;
            default -> throw bad(k, "must be true or false (also yes/no, on/off, 1/0)");
        };
    }

    public Duration duration(ConfigKey k) {
        String range = "from " + formatMillis(k.min()) + " to " + formatMillis(k.max());
        BigInteger millis = Durations.millis(values.get(k.name()))
                .orElseThrow(() -> bad(
                        k, "a duration is a number " + "with a unit, ms, s, m, h, d or w (e.g. 30s, 24h), " + range));
        return Duration.ofMillis(inRange(k, millis, "must be " + range));
    }

    public long size(ConfigKey k) {
        Matcher m = SIZE.matcher(values.get(k.name()).trim());
        String range = "from " + formatBytes(k.min()) + " to " + formatBytes(k.max());
        if (!m.matches()) {
            throw bad(k, "a size is a number of bytes, optionally with KiB, MiB, GiB or TiB (e.g. 4MiB), " + range);
        }
        String unit = m.group(2) == null ? "b" : m.group(2).toLowerCase(Locale.ROOT);
        long factor = switch (unit) {
            case "kib", "kb", "k" -> 1L << 10;
            case "mib", "mb", "m" -> 1L << 20;
            case "gib", "gb", "g" -> 1L << 30;
            case "tib", "tb", "t" -> 1L << 40;
            default -> 1L;
        };
        BigInteger bytes = new BigInteger(m.group(1)).multiply(BigInteger.valueOf(factor));
        return inRange(k, bytes, "must be " + range);
    }

    private long inRange(ConfigKey k, BigInteger value, String why) {
        if (value.compareTo(BigInteger.valueOf(k.min())) < 0 || value.compareTo(BigInteger.valueOf(k.max())) > 0) {
            throw bad(k, why);
        }
        return value.longValueExact();
    }

    /** A {@link ConfigKey.Type#URL} key's URL; empty when it is not set. */
    public Optional<PublicUrl> publicUrl(ConfigKey k) {
        String v = values.get(k.name());
        if (v.isBlank()) {
            return Optional.empty();
        }
        try {
            return Optional.of(PublicUrl.parse(v));
        } catch (IllegalArgumentException e) {
            throw bad(k, e.getMessage());
        }
    }

    public Path path(ConfigKey k) {
        return Path.of(values.get(k.name()));
    }

    /** {@code 90000} as {@code 90s}, {@code 86400000} as {@code 1d}: the largest unit that divides it. */
    public static String formatMillis(long millis) {
        long[] factors = {86_400_000L, 3_600_000L, 60_000L, 1000L};
        String[] units = {"d", "h", "m", "s"};
        for (int i = 0; i < factors.length; i++) {
            if (millis >= factors[i] && millis % factors[i] == 0) {
                return millis / factors[i] + units[i];
            }
        }
        return millis + "ms";
    }

    /** {@code 4194304} as {@code 4MiB}: the largest binary unit that divides it. */
    public static String formatBytes(long bytes) {
        String[] units = {"TiB", "GiB", "MiB", "KiB"};
        int[] shifts = {40, 30, 20, 10};
        for (int i = 0; i < units.length; i++) {
            long f = 1L << shifts[i];
            if (bytes >= f && bytes % f == 0) {
                return bytes / f + units[i];
            }
        }
        return bytes + "B";
    }
}
