package io.berth.webhooks;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;
import org.yaml.snakeyaml.error.MarkedYAMLException;

/**
 * The webhook relay's configuration ({@code docs/webhooks.md}): where events come from and where
 * they go. Read from YAML; the scalar keys outside {@code endpoints} can be overridden from the
 * environment like every Berth key ({@code webhooks.kafka.bootstrap-servers} is
 * {@code BERTH_WEBHOOKS_KAFKA_BOOTSTRAP_SERVERS}). Every problem is one {@link IllegalArgumentException}
 * line naming the file and the key.
 */
public record WebhookConfig(String bootstrapServers, String topic, String group, String host, int httpPort,
                            List<Endpoint> endpoints) {

    /** One receiver and what it wants. */
    public record Endpoint(String name, URI url, String secret, Map<String, String> headers, Set<String> actions,
                           List<String> repositories, Set<String> mediaTypes, Duration timeout, int maxAttempts) {
    }

    private static final Pattern DURATION = Pattern.compile("(\\d+)\\s*(ms|s|m|h)");
    private static final Pattern NAME = Pattern.compile("[a-zA-Z0-9][a-zA-Z0-9._-]{0,63}");
    private static final Set<String> ACTIONS = Set.of("push", "pull", "mount", "delete");

    public static WebhookConfig load(Path file, Map<String, String> env) {
        Object root;
        try (InputStream in = Files.newInputStream(file)) {
            root = new Yaml(new SafeConstructor(new LoaderOptions())).load(in);
        } catch (NoSuchFileException e) {
            throw new IllegalArgumentException("cannot read configuration file " + file + ": no such file");
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot read configuration file " + file + ": " + e.getMessage());
        } catch (MarkedYAMLException e) {
            throw new IllegalArgumentException("configuration file " + file + " is not valid YAML: line "
                    + (e.getProblemMark().getLine() + 1) + ", column " + (e.getProblemMark().getColumn() + 1) + ": "
                    + e.getProblem());
        }
        Map<?, ?> top = map(root, file, "(top)");
        Map<?, ?> w = map(top.get("webhooks"), file, "webhooks");
        Map<?, ?> kafka = map(w.get("kafka"), file, "webhooks.kafka");
        String bootstrap = scalar(env, "webhooks.kafka.bootstrap-servers", kafka.get("bootstrap-servers"), "");
        if (bootstrap.isBlank()) {
            throw bad(file, "webhooks.kafka.bootstrap-servers", "is required");
        }
        String topic = scalar(env, "webhooks.kafka.topic", kafka.get("topic"), "berth.events");
        String group = scalar(env, "webhooks.kafka.group", kafka.get("group"), "berth-webhooks");
        String host = scalar(env, "webhooks.http-host", w.get("http-host"), "127.0.0.1");
        String portText = scalar(env, "webhooks.http-port", w.get("http-port"), "5003");
        int port;
        try {
            port = Integer.parseInt(portText);
            if (port < 0 || port > 65535) {
                throw new NumberFormatException();
            }
        } catch (NumberFormatException e) {
            throw bad(file, "webhooks.http-port", "'" + portText + "' is not a port (0 to 65535)");
        }
        Object list = w.get("endpoints");
        if (!(list instanceof List<?> items) || items.isEmpty()) {
            throw bad(file, "webhooks.endpoints", "must list at least one endpoint");
        }
        List<Endpoint> endpoints = new ArrayList<>();
        for (int i = 0; i < items.size(); i++) {
            endpoints.add(endpoint(file, "webhooks.endpoints[" + i + "]", map(items.get(i), file,
                    "webhooks.endpoints[" + i + "]")));
        }
        if (endpoints.stream().map(Endpoint::name).distinct().count() != endpoints.size()) {
            throw bad(file, "webhooks.endpoints", "names must be unique");
        }
        return new WebhookConfig(bootstrap, topic, group, host, port, List.copyOf(endpoints));
    }

    private static Endpoint endpoint(Path file, String key, Map<?, ?> e) {
        String name = string(e.get("name"), "");
        if (!NAME.matcher(name).matches()) {
            throw bad(file, key + ".name", "'" + name + "' must be 1-64 letters, digits, '.', '_' or '-'");
        }
        URI url;
        try {
            url = URI.create(string(e.get("url"), ""));
            if (url.getScheme() == null || !Set.of("http", "https").contains(url.getScheme()) || url.getHost() == null) {
                throw new IllegalArgumentException();
            }
        } catch (IllegalArgumentException ex) {
            throw bad(file, key + ".url", "'" + e.get("url") + "' is not an http(s) URL");
        }
        Map<String, String> headers = new LinkedHashMap<>();
        map(e.get("headers"), file, key + ".headers").forEach((k, v) -> headers.put(String.valueOf(k),
                String.valueOf(v)));
        Set<String> actions = new java.util.TreeSet<>(strings(e.get("actions"), file, key + ".actions"));
        for (String a : actions) {
            if (!ACTIONS.contains(a)) {
                throw bad(file, key + ".actions", "'" + a + "' is not one of push, pull, mount, delete");
            }
        }
        return new Endpoint(name, url, string(e.get("secret"), ""), Map.copyOf(headers), Set.copyOf(actions),
                strings(e.get("repositories"), file, key + ".repositories"),
                Set.copyOf(strings(e.get("media-types"), file, key + ".media-types")),
                duration(file, key + ".timeout", string(e.get("timeout"), "5s")),
                count(file, key + ".max-attempts", string(e.get("max-attempts"), "8")));
    }

    private static Map<?, ?> map(Object o, Path file, String key) {
        if (o == null) {
            return Map.of();
        }
        if (!(o instanceof Map<?, ?> m)) {
            throw bad(file, key, "must be a mapping");
        }
        return m;
    }

    private static List<String> strings(Object o, Path file, String key) {
        if (o == null) {
            return List.of();
        }
        if (!(o instanceof List<?> l)) {
            throw bad(file, key, "must be a list");
        }
        return l.stream().map(String::valueOf).toList();
    }

    private static String string(Object o, String dflt) {
        return o == null ? dflt : String.valueOf(o).trim();
    }

    private static String scalar(Map<String, String> env, String key, Object fromFile, String dflt) {
        String envName = "BERTH_" + key.toUpperCase(Locale.ROOT).replace('.', '_').replace('-', '_');
        String v = env.get(envName);
        return v != null ? v.trim() : string(fromFile, dflt);
    }

    private static Duration duration(Path file, String key, String text) {
        Matcher m = DURATION.matcher(text);
        if (!m.matches()) {
            throw bad(file, key, "'" + text + "' is not a duration (e.g. 5s, 500ms, 2m)");
        }
        long n = Long.parseLong(m.group(1));
        Duration d = switch (m.group(2)) {
            case "ms" -> Duration.ofMillis(n);
            case "s" -> Duration.ofSeconds(n);
            case "m" -> Duration.ofMinutes(n);
            default -> Duration.ofHours(n);
        };
        if (d.isZero() || d.compareTo(Duration.ofMinutes(10)) > 0) {
            throw bad(file, key, "'" + text + "' must be from 1ms to 10m");
        }
        return d;
    }

    private static int count(Path file, String key, String text) {
        try {
            int n = Integer.parseInt(text);
            if (n < 1 || n > 100) {
                throw new NumberFormatException();
            }
            return n;
        } catch (NumberFormatException e) {
            throw bad(file, key, "'" + text + "' must be a whole number from 1 to 100");
        }
    }

    private static IllegalArgumentException bad(Path file, String key, String why) {
        return new IllegalArgumentException("configuration file " + file + ": " + key + " " + why);
    }
}
