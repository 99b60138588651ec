package io.berth.launcher.process;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.berth.core.model.Digest;
import io.berth.events.EventCodec;
import io.berth.events.RegistryEvent;
import io.berth.testsupport.JavaProcess;
import io.berth.testsupport.KafkaBroker;
import io.berth.testsupport.oci.TestImage;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.acl.AccessControlEntry;
import org.apache.kafka.common.acl.AclBinding;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.acl.AclPermissionType;
import org.apache.kafka.common.errors.TopicAuthorizationException;
import org.apache.kafka.common.resource.PatternType;
import org.apache.kafka.common.resource.ResourcePattern;
import org.apache.kafka.common.resource.ResourceType;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * {@code berth serve}, {@code berth replicate} and {@code berth webhooks} against a real broker that
 * requires SASL (PLAIN) and authorizes with ACLs — exactly those docs/events.md, docs/replication.md
 * and docs/webhooks.md list for each process. A client without credentials, or with credentials and
 * no ACL, cannot put an event on the topic, so no forged event reaches a webhook receiver.
 */
@Tag("process")
class KafkaSecurityProcessTest extends ReplicationFixture {
    static final List<String> USERS = List.of("registry", "replicator", "hooks", "mallory");

    static AclBinding allow(String user, ResourceType type, String name, PatternType pattern, AclOperation op) {
        return new AclBinding(
                new ResourcePattern(type, name, pattern),
                new AccessControlEntry("User:" + user, "*", op, AclPermissionType.ALLOW));
    }

    /** The ACLs the docs give each process, for event topic {@code topic} and groups {@code g-<topic>}. */
    List<AclBinding> documentedAcls() {
        String group = "g-" + topic;
        return List.of(
                // berth serve: writes the event topic (an idempotent producer needs no more)
                allow("registry", ResourceType.TOPIC, topic, PatternType.LITERAL, AclOperation.WRITE),
                // berth replicate: reads the event topic in its group, parks in and reads its retry topics
                allow("replicator", ResourceType.TOPIC, topic, PatternType.LITERAL, AclOperation.READ),
                allow("replicator", ResourceType.GROUP, group, PatternType.LITERAL, AclOperation.READ),
                allow("replicator", ResourceType.TOPIC, group + ".", PatternType.PREFIXED, AclOperation.READ),
                allow("replicator", ResourceType.TOPIC, group + ".", PatternType.PREFIXED, AclOperation.WRITE),
                allow("replicator", ResourceType.TOPIC, group + ".", PatternType.PREFIXED, AclOperation.CREATE),
                allow("replicator", ResourceType.GROUP, group + ".", PatternType.PREFIXED, AclOperation.READ),
                // berth webhooks: reads the event topic in one group per endpoint, writes the dead letters
                allow("hooks", ResourceType.TOPIC, topic, PatternType.LITERAL, AclOperation.READ),
                allow("hooks", ResourceType.GROUP, group + ".", PatternType.PREFIXED, AclOperation.READ),
                allow("hooks", ResourceType.TOPIC, topic + ".dlq", PatternType.LITERAL, AclOperation.WRITE),
                allow("hooks", ResourceType.TOPIC, topic + ".dlq", PatternType.LITERAL, AclOperation.CREATE));
    }

    KafkaBroker saslBroker() throws Exception {
        KafkaBroker broker = KafkaBroker.dedicatedWithSasl(USERS);
        started.add(broker);
        Map<String, Object> p = new HashMap<>(KafkaBroker.saslProperties("admin", KafkaBroker.password("admin")));
        p.put("bootstrap.servers", broker.bootstrapServers());
        try (Admin admin = Admin.create(p)) {
            admin.createTopics(List.of(new NewTopic(topic, 1, (short) 1))).all().get(60, TimeUnit.SECONDS);
            admin.createAcls(documentedAcls()).all().get(60, TimeUnit.SECONDS);
        }
        return broker;
    }

    /** {@code kafka:} lines of a replicate or webhooks configuration for {@code user}. */
    static String kafkaYaml(KafkaBroker broker, String topic, String user) {
        return "  kafka:\n    bootstrap-servers: \"" + broker.bootstrapServers() + "\"\n    topic: \"" + topic
                + "\"\n    group: \"g-" + topic + "\"\n    properties:\n      security.protocol: SASL_PLAINTEXT\n"
                + "      sasl:\n        mechanism: PLAIN\n        jaas.config: 'org.apache.kafka.common.security.plain"
                + ".PlainLoginModule required username=\"" + user + "\" password=\"" + KafkaBroker.password(user)
                + "\";'\n";
    }

    /** {@code berth serve}'s environment publishing to the SASL broker as {@code registry}. */
    Map<String, String> saslEvents(KafkaBroker broker) {
        Map<String, String> env = new HashMap<>(EventsProcessTest.events(broker.bootstrapServers(), topic));
        KafkaBroker.saslProperties("registry", KafkaBroker.password("registry"))
                .forEach((k, v) -> env.put(
                        "BERTH_EVENTS_KAFKA_PROPERTIES_"
                                + k.toUpperCase(Locale.ROOT).replace('.', '_'),
                        v));
        return env;
    }

    /** Tries to put a forged event on the topic with {@code properties}; the failure, if it fails. */
    Optional<Throwable> forge(KafkaBroker broker, Map<String, String> properties, RegistryEvent forged) {
        Properties p = new Properties();
        p.put("bootstrap.servers", broker.bootstrapServers());
        p.put("max.block.ms", "5000");
        p.put("delivery.timeout.ms", "8000");
        p.put("request.timeout.ms", "4000");
        p.putAll(properties);
        try (KafkaProducer<String, byte[]> producer =
                new KafkaProducer<>(p, new StringSerializer(), new ByteArraySerializer())) {
            producer.send(new ProducerRecord<>(topic, forged.repository(), EventCodec.encode(forged)))
                    .get(20, TimeUnit.SECONDS);
            return Optional.empty();
        } catch (ExecutionException e) {
            return Optional.of(e.getCause());
        } catch (Exception e) {
            return Optional.of(e);
        }
    }

    @Test
    void webhooksOverSaslDeliverTheRegistrysEventsAndNoForgedOne() throws Exception {
        KafkaBroker broker = saslBroker();
        BerthProcess registry = site("a", saslEvents(broker));
        WebhooksProcessTest.Receiver receiver = new WebhooksProcessTest.Receiver();
        started.add(receiver);
        Path config = Files.writeString(
                dir.resolve("webhooks.yaml"),
                "webhooks:\n" + kafkaYaml(broker, topic, "hooks")
                        + "  http-port: 0\n  endpoints:\n    - name: r\n      url: " + receiver.url()
                        + "\n      secret: s3cret\n      start-from: earliest\n");
        JavaProcess relay = WebhooksRelay.start(dir, config);
        started.add(relay);
        assertTrue(relay.output().contains("(SASL_PLAINTEXT PLAIN)"), relay.output());

        // forged events: a client without credentials, and one with credentials but no ACL on the topic
        RegistryEvent forged = WebhooksProcessTest.event("forged/app", "delete", "io.berth.manifest.deleted", "v1");
        long t0 = System.nanoTime();
        Optional<Throwable> anonymous = forge(broker, Map.of(), forged);
        long anonymousMs = (System.nanoTime() - t0) / 1_000_000;
        t0 = System.nanoTime();
        Optional<Throwable> mallory =
                forge(broker, KafkaBroker.saslProperties("mallory", KafkaBroker.password("mallory")), forged);
        long malloryMs = (System.nanoTime() - t0) / 1_000_000;
        assertTrue(anonymous.isPresent(), "a client without credentials cannot produce");
        assertTrue(mallory.isPresent(), "a user without the WRITE ACL cannot produce");
        assertTrue(mallory.get() instanceof TopicAuthorizationException, mallory.toString());
        System.out.printf(
                "forged event refused: without credentials after %d ms (%s), as mallory after %d ms (%s)%n",
                anonymousMs,
                anonymous.get().getClass().getSimpleName(),
                malloryMs,
                mallory.get().getClass().getSimpleName());

        // a real push through berth serve, published over SASL as registry, is delivered
        registry.oci().pushImage("real/app", "v1", TestImage.of("real"));
        await(
                "the real push delivered",
                () -> receiver.got.stream()
                        .anyMatch(d -> new String((byte[]) d.get("body"), StandardCharsets.UTF_8).contains("real/app")),
                Duration.ofSeconds(60));
        Thread.sleep(1500);
        assertFalse(
                receiver.got.stream()
                        .anyMatch(
                                d -> new String((byte[]) d.get("body"), StandardCharsets.UTF_8).contains("forged/app")),
                "no forged event was delivered");
        assertFalse(relay.output().contains(KafkaBroker.password("hooks")), "the SASL password is not logged");
    }

    @Test
    void replicateOverSaslFollowsEventsWithTheDocumentedAcls() throws Exception {
        KafkaBroker broker = saslBroker();
        BerthProcess a = site("a", saslEvents(broker));
        BerthProcess b = site("b", Map.of());
        JavaProcess replicator = replicator(
                kafkaYaml(broker, topic, "replicator"), a.base(), targetYaml("site-b", b.base(), ""), List.of(), "1h");
        assertTrue(replicator.output().contains("(SASL_PLAINTEXT PLAIN)"), replicator.output());
        // the first reconciliation found nothing; from now on only an event can bring the image over
        await(
                "the first reconciliation",
                () -> {
                    try {
                        return status(replicator)
                                .path("targets")
                                .path(0)
                                .path("lastReconciliation")
                                .has("at");
                    } catch (Exception e) {
                        return false;
                    }
                },
                Duration.ofSeconds(60));
        long t0 = System.nanoTime();
        Digest pushed =
                a.oci().pushImage("team/app", "v1", TestImage.of("over sasl")).manifest();
        await(
                "the pushed image on B through the event",
                () -> digest(b.base(), "team/app", "v1").equals(Optional.of(pushed.toString())),
                Duration.ofSeconds(60));
        System.out.printf(
                "replicated through a SASL-authenticated event in %.1f s (reconcile-interval 1h)%n",
                (System.nanoTime() - t0) / 1e9);
        assertFalse(
                replicator.output().contains(KafkaBroker.password("replicator")), "the SASL password is not logged");
        assertFalse(
                replicator.output().contains("TopicAuthorizationException")
                        || replicator.output().contains("GroupAuthorizationException"),
                replicator.output());
    }
}
