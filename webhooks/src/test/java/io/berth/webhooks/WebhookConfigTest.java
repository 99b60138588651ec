package io.berth.webhooks;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.berth.events.DistributionEvent;
import io.berth.events.EventType;
import io.berth.events.RegistryEvent;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class WebhookConfigTest {
    @TempDir
    Path dir;

    Path file(String yaml) throws IOException {
        return Files.writeString(dir.resolve("webhooks.yaml"), yaml);
    }

    static final String FULL = """
            webhooks:
              kafka: { bootstrap-servers: 127.0.0.1:9092, topic: my.events, group: hooks }
              http-host: 127.0.0.2
              http-port: 6000
              endpoints:
                - name: ci
                  url: http://127.0.0.1:9000/hook
                  secret: s3cret
                  headers: { X-Team: a }
                  actions: [push, delete]
                  repositories: ["team-a/**"]
                  media-types: [application/vnd.oci.image.index.v1+json]
                  types: [tag.created, io.berth.tag.moved]
                  timeout: 500ms
                  max-attempts: 3
                  start-from: earliest
                - name: audit
                  url: https://audit.example/in
            """;

    @Test
    void everyKeyIsRead() throws IOException {
        WebhookConfig c = WebhookConfig.load(file(FULL), Map.of());
        assertEquals("127.0.0.1:9092", c.bootstrapServers());
        assertEquals("my.events", c.topic());
        assertEquals("hooks", c.group());
        assertEquals("127.0.0.2", c.host());
        assertEquals(6000, c.httpPort());
        WebhookConfig.Endpoint ci = c.endpoints().get(0);
        assertEquals(
                new WebhookConfig.Endpoint(
                        "ci",
                        URI.create("http://127.0.0.1:9000/hook"),
                        "s3cret",
                        Map.of("X-Team", "a"),
                        Set.of("push", "delete"),
                        List.of("team-a/**"),
                        Set.of("application/vnd.oci.image.index.v1+json"),
                        Set.of(EventType.TAG_CREATED, EventType.TAG_MOVED),
                        Duration.ofMillis(500),
                        3,
                        WebhookConfig.StartFrom.EARLIEST),
                ci);
        assertEquals(
                new WebhookConfig.Endpoint(
                        "audit",
                        URI.create("https://audit.example/in"),
                        "",
                        Map.of(),
                        Set.of(),
                        List.of(),
                        Set.of(),
                        Set.of(),
                        Duration.ofSeconds(5),
                        8,
                        WebhookConfig.StartFrom.NOW),
                c.endpoints().get(1),
                "the defaults: every event from now on");
    }

    @Test
    void defaultsAndEnvironmentOverrides() throws IOException {
        Path f = file("webhooks:\n  kafka: { bootstrap-servers: a:1 }\n  endpoints: [{name: x, url: 'http://h/'}]\n");
        WebhookConfig c = WebhookConfig.load(f, Map.of());
        assertEquals("berth.events", c.topic());
        assertEquals("berth-webhooks", c.group());
        assertEquals("127.0.0.1", c.host());
        assertEquals(5003, c.httpPort());
        c = WebhookConfig.load(
                f,
                Map.of(
                        "BERTH_WEBHOOKS_KAFKA_BOOTSTRAP_SERVERS",
                        "b:2",
                        "BERTH_WEBHOOKS_KAFKA_TOPIC",
                        "t",
                        "BERTH_WEBHOOKS_KAFKA_GROUP",
                        "g",
                        "BERTH_WEBHOOKS_HTTP_PORT",
                        "0",
                        "BERTH_WEBHOOKS_HTTP_HOST",
                        "::1"));
        assertEquals(
                List.of("b:2", "t", "g", 0, "::1"),
                List.of(c.bootstrapServers(), c.topic(), c.group(), c.httpPort(), c.host()));
    }

    @ParameterizedTest(name = "{1}")
    @CsvSource(
            delimiter = '|',
            value = {
                "webhooks: {kafka: {}, endpoints: [{name: a, url: 'http://h/'}]}"
                        + "| webhooks.kafka.bootstrap-servers is required",
                "webhooks: {kafka: {bootstrap-servers: a:1}}| webhooks.endpoints must list at least one endpoint",
                "webhooks: {kafka: {bootstrap-servers: a:1}, endpoints: [{name: 'a b', url: 'http://h/'}]}"
                        + "| webhooks.endpoints[0].name 'a b' must be 1-64 letters",
                "webhooks: {kafka: {bootstrap-servers: a:1}, endpoints: [{name: a, url: 'ftp://h/'}]}"
                        + "| webhooks.endpoints[0].url 'ftp://h/' is not an http(s) URL",
                "webhooks: {kafka: {bootstrap-servers: a:1}, endpoints: [{name: a, url: 'http://h/'}, {name: a, url: "
                        + "'http://h/'}]}| webhooks.endpoints names must be unique",
                "webhooks: {kafka: {bootstrap-servers: a:1}, endpoints: [{name: a, url: 'http://h/', actions: [pish]}]}"
                        + "| webhooks.endpoints[0].actions 'pish' is not one of push, pull, mount, delete",
                "webhooks: {kafka: {bootstrap-servers: a:1}, endpoints: [{name: a, url: 'http://h/', "
                        + "repositories: ['**/']}]}| webhooks.endpoints[0].repositories '**/' is not a repository glob: "
                        + "it has an empty component",
                "webhooks: {kafka: {bootstrap-servers: a:1}, endpoints: [{name: a, url: 'http://h/', timeout: 5}]}"
                        + "| webhooks.endpoints[0].timeout '5' is not a duration",
                "webhooks: {kafka: {bootstrap-servers: a:1}, endpoints: [{name: a, url: 'http://h/', timeout: 11m}]}"
                        + "| webhooks.endpoints[0].timeout '11m' must be from 1ms to 10m",
                "webhooks: {kafka: {bootstrap-servers: a:1}, endpoints: [{name: a, url: 'http://h/', max-attempts: 0}]}"
                        + "| webhooks.endpoints[0].max-attempts '0' must be a whole number from 1 to 100",
                "webhooks: {kafka: {bootstrap-servers: a:1}, endpoints: [{name: a, url: 'http://h/', headers: [x]}]}"
                        + "| webhooks.endpoints[0].headers must be a mapping",
                "webhooks: {kafka: {bootstrap-servers: a:1}, endpoints: [{name: a, url: 'http://h/', "
                        + "repositories: {a: b}}]}| webhooks.endpoints[0].repositories must be a list",
                "webhooks: {kafka: {bootstrap-servers: a:1}, http-port: 70000, endpoints: [{name: a, url: 'http://h/'}]}"
                        + "| webhooks.http-port '70000' is not a port",
                "webhooks: [1]| webhooks must be a mapping",
                "webhooks: {kafka: {bootstrap-servers: a:1}, endpoints: [{name: a, url: 'http://h/', repository: [a/b]}]}"
                        + "| webhooks.endpoints[0].repository is not a known key: did you mean repositories?",
                "webhooks: {kafka: {bootstrap-servers: a:1}, endpoints: [{name: a, url: 'http://h/', media_types: [x]}]}"
                        + "| webhooks.endpoints[0].media_types is not a known key: did you mean media-types?",
                "webhooks: {kafka: {bootstrap-servers: a:1, topics: t}, endpoints: [{name: a, url: 'http://h/'}]}"
                        + "| webhooks.kafka.topics is not a known key: did you mean topic?",
                "webhooks: {kafka: {bootstrap-servers: a:1}, endpoint: [], endpoints: [{name: a, url: 'http://h/'}]}"
                        + "| webhooks.endpoint is not a known key: did you mean endpoints?",
                "webhooks: {kafka: {bootstrap-servers: a:1}, endpoints: [{name: a, url: 'http://h/', colour: red}]}"
                        + "| webhooks.endpoints[0].colour is not a known key (name, url, secret, headers, actions, ",
                "webhooks: {kafka: {bootstrap-servers: a:1}, endpoints: [{name: a, url: 'http://h/', start-from: 0}]}"
                        + "| webhooks.endpoints[0].start-from '0' must be now or earliest",
                "webhooks: {kafka: {bootstrap-servers: a:1}, endpoints: [{name: a, url: 'http://h/', types: [push]}]}"
                        + "| webhooks.endpoints[0].types 'push' is not an event type (manifest.pushed, tag.created, ",
                "webhooks: {kafka: {bootstrap-servers: a:1}, endpoints: [{name: a, url: 'http://h/'}| is not valid YAML: "
                        + "line 1",
            })
    void mistakesAreOneLineNamingFileAndKey(String yaml, String expected) throws IOException {
        Path f = file(yaml);
        IllegalArgumentException e =
                assertThrows(IllegalArgumentException.class, () -> WebhookConfig.load(f, Map.of()));
        assertTrue(
                e.getMessage().startsWith("configuration file " + f)
                        || e.getMessage().contains(f.toString()),
                e.getMessage());
        assertTrue(e.getMessage().contains(expected), e.getMessage());
        assertFalse(e.getMessage().contains("\n"), e.getMessage());
    }

    @Test
    void kafkaPropertiesAreReadNestedOrFlatAndFromTheEnvironmentButNotBerthsOwn() throws IOException {
        Path f = file("""
                webhooks:
                  kafka:
                    bootstrap-servers: a:1
                    properties:
                      security.protocol: SASL_SSL
                      sasl: { mechanism: SCRAM-SHA-512 }
                  endpoints: [{name: x, url: 'http://h/'}]
                """);
        WebhookConfig c = WebhookConfig.load(f, Map.of("BERTH_WEBHOOKS_KAFKA_PROPERTIES_SASL_JAAS_CONFIG", "jaas"));
        assertEquals(
                Map.of("security.protocol", "SASL_SSL", "sasl.mechanism", "SCRAM-SHA-512", "sasl.jaas.config", "jaas"),
                c.kafka().properties());
        assertEquals(List.of("jaas"), c.kafka().secrets());
        assertEquals("a:1 (SASL_SSL SCRAM-SHA-512)", c.kafka().toString());
        IllegalArgumentException e = assertThrows(
                IllegalArgumentException.class,
                () -> WebhookConfig.load(
                        file(
                                "webhooks:\n  kafka: { bootstrap-servers: a:1, properties: { enable.auto.commit: 'true' } }\n"
                                        + "  endpoints: [{name: x, url: 'http://h/'}]\n"),
                        Map.of()));
        assertTrue(
                e.getMessage()
                        .endsWith("webhooks.kafka.properties.enable.auto.commit is set by Berth and cannot "
                                + "be changed"),
                e.getMessage());
    }

    @Test
    void aMissingFileIsSaidSo() {
        IllegalArgumentException e = assertThrows(
                IllegalArgumentException.class, () -> WebhookConfig.load(dir.resolve("none.yaml"), Map.of()));
        assertTrue(e.getMessage().endsWith("none.yaml: no such file"), e.getMessage());
    }

    static RegistryEvent event(String repository, String action, String mediaType) {
        return event(repository, action, mediaType, "io.berth.tag.created");
    }

    static RegistryEvent event(String repository, String action, String mediaType, String type) {
        return new RegistryEvent(
                "1.0",
                "id",
                "//t",
                type,
                "2026-01-01T00:00:00Z",
                repository,
                "application/json",
                "1",
                repository,
                new DistributionEvent(
                        "id",
                        "2026-01-01T00:00:00Z",
                        action,
                        new DistributionEvent.Target(mediaType, null, null, null, repository, null, null, null),
                        null,
                        null,
                        null));
    }

    @Test
    void filtersPassEventsMatchingEveryListGiven() throws IOException {
        WebhookConfig c = WebhookConfig.load(file(FULL), Map.of());
        EndpointFilter ci = new EndpointFilter(c.endpoints().get(0));
        String index = "application/vnd.oci.image.index.v1+json";
        assertTrue(ci.accepts(event("team-a/app", "push", index)));
        assertTrue(ci.accepts(event("team-a/x/y", "delete", index)));
        assertFalse(ci.accepts(event("team-b/app", "push", index)), "repository");
        assertFalse(ci.accepts(event("team-a/app", "pull", index)), "action");
        assertFalse(
                ci.accepts(event("team-a/app", "push", "application/vnd.oci.image.manifest.v1+json")), "media type");
        assertFalse(ci.accepts(event("team-a/app", "delete", null)), "no media type while media types are listed");
        EndpointFilter all = new EndpointFilter(c.endpoints().get(1));
        assertFalse(ci.accepts(event("team-a/app", "push", index, "io.berth.manifest.pushed")), "event type");
        assertTrue(all.accepts(event("team-a/app", "push", index, "io.berth.manifest.pushed")));
        assertTrue(all.accepts(event("any/thing", "pull", null)));
    }
}
