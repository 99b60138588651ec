package io.berth.webhooks;

import io.berth.core.config.YamlSection;
import io.berth.core.model.RepositoryGlob;
import io.berth.events.EventType;
import io.berth.eventstream.KafkaConnection;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Pattern;

/**
 * The webhook relay's configuration ({@code docs/webhooks.md}): where events come from and where
 * they go. Read from YAML; the scalar keys outside {@code endpoints} can be overridden from the
 * environment like every Berth key ({@code webhooks.kafka.bootstrap-servers} is
 * {@code BERTH_WEBHOOKS_KAFKA_BOOTSTRAP_SERVERS}). Every problem is one {@link IllegalArgumentException}
 * line naming the file and the key.
 */
public record WebhookConfig(
        KafkaConnection kafka, String topic, String group, String host, int httpPort, List<Endpoint> endpoints) {
    /** The brokers, as start-up lines and errors name them. */
    public String bootstrapServers() {
        return kafka.bootstrapServers();
    }

    /** One receiver and what it wants. */
    public record Endpoint(
            String name,
            URI url,
            String secret,
            Map<String, String> headers,
            Set<String> actions,
            List<String> repositories,
            Set<String> mediaTypes,
            Set<EventType> types,
            Duration timeout,
            int maxAttempts,
            StartFrom startFrom) {
        /**
         * The URL as dead letters and logs show it: scheme, host, port and path, without user info,
         * query or fragment, any of which may carry a receiver's token.
         */
        public String shownUrl() {
            try {
                return new URI(url.getScheme(), null, url.getHost(), url.getPort(), url.getPath(), null, null)
                        .toString();
            } catch (URISyntaxException e) {
                return url.getScheme() + "://" + url.getHost();
            }
        }
    }

    /** Where an endpoint that has delivered nothing yet (no committed position) starts on the topic. */
    public enum StartFrom {
        /** The oldest event still on the topic: a replay of its whole retention. */
        EARLIEST,
        /** Events that happened from the relay's start on (the default): a new endpoint gets no history. */
        NOW
    }

    private static final Pattern NAME = Pattern.compile("[a-zA-Z0-9][a-zA-Z0-9._-]{0,63}");
    private static final Set<String> ACTIONS = Set.of("push", "pull", "mount", "delete");

    public static WebhookConfig load(Path file, Map<String, String> env) {
        YamlSection w = YamlSection.load(file, "webhooks", env).only("kafka", "http-host", "http-port", "endpoints");
        YamlSection kafka = w.section("kafka").only("bootstrap-servers", "topic", "group", "properties");
        String bootstrap = kafka.string("bootstrap-servers", "");
        if (bootstrap.isBlank()) {
            throw kafka.bad("bootstrap-servers", "is required");
        }
        Map<String, String> properties = kafka.properties("properties");
        KafkaConnection.ownKey(properties).ifPresent(k -> {
            throw kafka.bad("properties." + k, "is set by Berth and cannot be changed");
        });
        KafkaConnection connection = new KafkaConnection(bootstrap, properties);
        String topic = kafka.string("topic", "berth.events");
        String group = kafka.string("group", "berth-webhooks");
        String host = w.string("http-host", "127.0.0.1");
        int port = w.port("http-port", "5003");
        List<YamlSection> items = w.sections("endpoints");
        if (items.isEmpty()) {
            throw w.bad("endpoints", "must list at least one endpoint");
        }
        List<Endpoint> endpoints = new ArrayList<>();
        for (YamlSection e : items) {
            endpoints.add(endpoint(e));
        }
        if (endpoints.stream().map(Endpoint::name).distinct().count() != endpoints.size()) {
            throw w.bad("endpoints", "names must be unique");
        }
        return new WebhookConfig(connection, topic, group, host, port, List.copyOf(endpoints));
    }

    private static Endpoint endpoint(YamlSection e) {
        e.only(
                "name",
                "url",
                "secret",
                "headers",
                "actions",
                "repositories",
                "media-types",
                "types",
                "timeout",
                "max-attempts",
                "start-from");
        String name = e.string("name", "");
        if (!NAME.matcher(name).matches()) {
            throw e.bad("name", "'" + name + "' must be 1-64 letters, digits, '.', '_' or '-'");
        }
        URI url;
        String urlText = e.string("url", "");
        try {
            url = URI.create(urlText);
            if (url.getScheme() == null
                    || !Set.of("http", "https").contains(url.getScheme())
                    || url.getHost() == null) {
                throw new IllegalArgumentException();
            }
        } catch (IllegalArgumentException ex) {
            throw e.bad("url", "'" + urlText + "' is not an http(s) URL");
        }
        Set<String> actions = new TreeSet<>(e.strings("actions"));
        for (String a : actions) {
            if (!ACTIONS.contains(a)) {
                throw e.bad("actions", "'" + a + "' is not one of push, pull, mount, delete");
            }
        }
        for (String glob : e.strings("repositories")) {
            try {
                RepositoryGlob.of(glob);
            } catch (IllegalArgumentException ex) {
                throw e.bad("repositories", ex.getMessage());
            }
        }
        Set<EventType> types = new TreeSet<>();
        for (String t : e.strings("types")) {
            types.add(type(e, t));
        }
        String start = e.string("start-from", "now").toLowerCase(Locale.ROOT);
        StartFrom startFrom = switch (start) {
            case "now" -> StartFrom.NOW;
            case "earliest" -> StartFrom.EARLIEST;
            default -> throw e.bad("start-from", "'" + start + "' must be now or earliest");
        };
        return new Endpoint(
                name,
                url,
                e.string("secret", ""),
                Map.copyOf(e.stringMap("headers")),
                Set.copyOf(actions),
                e.strings("repositories"),
                Set.copyOf(e.strings("media-types")),
                Set.copyOf(types),
                e.duration("timeout", "5s", Duration.ofMillis(1), Duration.ofMinutes(10)),
                e.count("max-attempts", "8", 1, 100),
                startFrom);
    }

    /** An event type as written in {@code types}: {@code tag.created} or {@code io.berth.tag.created}. */
    private static EventType type(YamlSection e, String text) {
        String full = text.startsWith("io.berth.") ? text : "io.berth." + text;
        return EventType.of(full)
                .orElseThrow(() -> e.bad(
                        "types",
                        "'" + text + "' is not an event type ("
                                + String.join(
                                        ", ",
                                        Arrays.stream(EventType.values())
                                                .map(t -> t.type().substring("io.berth.".length()))
                                                .toList())
                                + ")"));
    }
}
