package io.berth.eventstream;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;

/**
 * How a Berth process reaches Kafka: the brokers and the client properties that say how to talk to
 * them — {@code security.protocol}, {@code ssl.*}, {@code sasl.*} — from {@code <section>.kafka.properties}.
 * {@link EventStream} applies them to every producer and consumer it makes, the same way for
 * {@code berth serve}, {@code berth replicate} and {@code berth webhooks}.
 */
public record KafkaConnection(String bootstrapServers, Map<String, String> properties) {
    /**
     * Properties Berth sets itself for what its delivery guarantees rest on (commits by hand, its own
     * groups and clients, its record format): a connection may not change them.
     */
    public static final Set<String> OWN = Set.of(
            "bootstrap.servers",
            "group.id",
            "group.instance.id",
            "client.id",
            "enable.auto.commit",
            "key.serializer",
            "value.serializer",
            "key.deserializer",
            "value.deserializer",
            "auto.offset.reset",
            "isolation.level",
            "acks",
            "enable.idempotence");

    public KafkaConnection {
        if (bootstrapServers == null || bootstrapServers.isBlank()) {
            throw new IllegalArgumentException("bootstrap-servers is required");
        }
        properties = Map.copyOf(new TreeMap<>(properties));
        ownKey(properties).ifPresent(k -> {
            throw new IllegalArgumentException("properties." + k + " is set by Berth and cannot be changed");
        });
    }

    /** The first of {@code properties} that Berth sets itself ({@link #OWN}), if any. */
    public static Optional<String> ownKey(Map<String, String> properties) {
        return new TreeMap<>(properties).keySet().stream().filter(OWN::contains).findFirst();
    }

    /** Brokers without properties: plaintext, no authentication. */
    public static KafkaConnection plain(String bootstrapServers) {
        return new KafkaConnection(bootstrapServers, Map.of());
    }

    /**
     * The values that are secrets (passwords, JAAS configurations holding them), for the log
     * redaction; Kafka's own config dump hides them too.
     */
    public List<String> secrets() {
        return secrets(properties);
    }

    /** As {@link #secrets()}, of any Kafka client properties ({@code events.kafka.properties} too). */
    public static List<String> secrets(Map<String, String> properties) {
        return properties.entrySet().stream()
                .filter(e -> e.getKey().contains("password")
                        || e.getKey().contains("jaas")
                        || e.getKey().endsWith(".key"))
                .map(Map.Entry::getValue)
                .toList();
    }

    @Override
    public String toString() {
        // what start-up lines may show: the brokers and the protocol, never a property's value
        return bootstrapServers
                + (properties.containsKey("security.protocol")
                        ? " (" + properties.get("security.protocol")
                                + (properties.containsKey("sasl.mechanism")
                                        ? " " + properties.get("sasl.mechanism")
                                        : "")
                                + ")"
                        : "");
    }
}
