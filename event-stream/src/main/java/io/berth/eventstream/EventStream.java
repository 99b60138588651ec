package io.berth.eventstream;

import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * The Kafka clients every part of Berth uses on event topics, set up one way: producers that lose
 * nothing (idempotent, {@code acks=all}, bounded blocking) and consumers that commit by hand, start
 * from the oldest record of a new group, may spend long on one record, and give up on an unreachable
 * broker in bounded time so that callers can retry.
 */
public final class EventStream {
    private EventStream() {}

    /** A producer whose records are acknowledged by every in-sync replica, once each. */
    public static KafkaProducer<String, byte[]> producer(
            String bootstrapServers, String clientId, Map<String, String> extra) {
        return producer(KafkaConnection.plain(bootstrapServers), clientId, extra);
    }

    /** As {@link #producer(String, String, Map)}, over {@code connection} (its TLS and SASL settings). */
    public static KafkaProducer<String, byte[]> producer(
            KafkaConnection connection, String clientId, Map<String, String> extra) {
        String bootstrapServers = connection.bootstrapServers();
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
        p.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, "10000");
        p.put(ProducerConfig.CLIENT_ID_CONFIG, clientId);
        p.putAll(extra);
        p.putAll(connection.properties());
        KafkaProducer<String, byte[]> producer =
                new KafkaProducer<>(p, new StringSerializer(), new ByteArraySerializer());
        KafkaLinkLog.get().watch(producer); // its connections tell when the broker is back
        return producer;
    }

    /** A consumer in {@code group} that commits only when told to. */
    public static KafkaConsumer<String, byte[]> consumer(
            String bootstrapServers, String group, String clientId, int maxPollRecords) {
        return consumer(bootstrapServers, group, clientId, maxPollRecords, Map.of());
    }

    /** As {@link #consumer(String, String, String, int)}, with {@code extra} consumer properties on top. */
    public static KafkaConsumer<String, byte[]> consumer(
            String bootstrapServers, String group, String clientId, int maxPollRecords, Map<String, String> extra) {
        return consumer(KafkaConnection.plain(bootstrapServers), group, clientId, maxPollRecords, extra);
    }

    /** A consumer in {@code group} over {@code connection} (its TLS and SASL settings) that commits only when told to. */
    public static KafkaConsumer<String, byte[]> consumer(
            KafkaConnection connection, String group, String clientId, int maxPollRecords) {
        return consumer(connection, group, clientId, maxPollRecords, Map.of());
    }

    /** As {@link #consumer(KafkaConnection, String, String, int)}, with {@code extra} consumer properties. */
    public static KafkaConsumer<String, byte[]> consumer(
            KafkaConnection connection, String group, String clientId, int maxPollRecords, Map<String, String> extra) {
        String bootstrapServers = connection.bootstrapServers();
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        p.put(ConsumerConfig.GROUP_ID_CONFIG, group);
        p.put(ConsumerConfig.CLIENT_ID_CONFIG, clientId);
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        p.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, Integer.toString(maxPollRecords));
        // work on one record may take minutes (retries, large copies): the group must not evict us meanwhile
        p.put(ConsumerConfig.MAX_POLL_INTERVAL_MS_CONFIG, "3600000");
        // a commit or position lookup waits at most this long for an unreachable broker
        p.put(ConsumerConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, "15000");
        p.putAll(extra);
        p.putAll(connection.properties());
        KafkaConsumer<String, byte[]> consumer =
                new KafkaConsumer<>(p, new StringDeserializer(), new ByteArrayDeserializer());
        KafkaLinkLog.get().watch(consumer);
        return consumer;
    }
}
