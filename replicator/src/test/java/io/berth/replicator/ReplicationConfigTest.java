package io.berth.replicator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.berth.core.model.RepositoryName;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class ReplicationConfigTest {
    @TempDir
    Path dir;

    static final String FULL = """
            replication:
              source: http://127.0.0.1:5000
              kafka: { bootstrap-servers: 127.0.0.1:9092, topic: my.events, group: repl }
              reconcile-interval: 10m
              http-port: 5002
              targets:
                - name: site-b
                  url: http://127.0.0.1:5100
                  username: bob
                  password: from-file
                  tls: { insecure: true }
                  repositories: ["team-a/**"]
                  exclude: ["team-a/tmp/**"]
                  tags: "^v.*"
                  platforms: [linux/amd64]
                  prefix: "mirror/"
                  deletes: true
                  concurrency: 8
                  rate-limit: 200MB/s
                - name: site-c
                  url: https://registry.c.example
            """;

    Path file(String yaml) throws IOException {
        return Files.writeString(dir.resolve("replication.yaml"), yaml);
    }

    @Test
    void everyKeyIsReadAndTargetsFilter() throws IOException {
        ReplicationConfig c = ReplicationConfig.load(file(FULL), Map.of());
        assertEquals(URI.create("http://127.0.0.1:5000"), c.source().url());
        assertEquals(
                List.of("127.0.0.1:9092", "my.events", "repl"),
                List.of(c.bootstrapServers().orElseThrow(), c.topic(), c.group()));
        assertEquals(Duration.ofMinutes(10), c.reconcileInterval());
        assertEquals(5002, c.httpPort());
        ReplicationConfig.Target b = c.targets().get(0);
        assertEquals("bob", b.endpoint().username());
        assertTrue(b.endpoint().insecure());
        assertTrue(b.wants("team-a/app") && !b.wants("team-a/tmp/x") && !b.wants("team-b/app"));
        assertTrue(b.wantsTag("v1") && !b.wantsTag("latest"));
        assertEquals(List.of("linux/amd64"), b.platforms());
        assertEquals(RepositoryName.of("mirror/team-a/app"), b.destination(RepositoryName.of("team-a/app")));
        assertTrue(b.deletes());
        assertEquals(8, b.concurrency());
        assertEquals(200L << 20, b.bytesPerSecond());
        ReplicationConfig.Target cc = c.targets().get(1);
        assertTrue(cc.wants("anything/at/all") && cc.wantsTag("any"));
        assertFalse(cc.deletes(), "deletes are off unless asked for");
        assertEquals(4, cc.concurrency());
        assertEquals(0, cc.bytesPerSecond(), "no limit");
    }

    @Test
    void everyKeyCanComeFromTheEnvironment() throws IOException {
        ReplicationConfig c = ReplicationConfig.load(
                file(FULL),
                Map.of(
                        "BERTH_REPLICATION_SOURCE", "http://10.0.0.1:5000",
                        "BERTH_REPLICATION_KAFKA_BOOTSTRAP_SERVERS", "k:9092",
                        "BERTH_REPLICATION_RECONCILE_INTERVAL", "30s",
                        "BERTH_REPLICATION_TARGETS_SITE_B_PASSWORD", "from-env",
                        "BERTH_REPLICATION_TARGETS_SITE_C_URL", "http://10.0.0.3:5000"));
        assertEquals("http://10.0.0.1:5000", c.source().url().toString());
        assertEquals("k:9092", c.bootstrapServers().orElseThrow());
        assertEquals(Duration.ofSeconds(30), c.reconcileInterval());
        assertEquals("from-env", c.targets().get(0).endpoint().password());
        assertEquals("http://10.0.0.3:5000", c.targets().get(1).endpoint().url().toString());
    }

    @Test
    void kafkaPropertiesGiveTheConnectionItsTlsAndSaslSettings() throws IOException {
        Path f = file("""
                replication:
                  source: http://127.0.0.1:5000
                  kafka:
                    bootstrap-servers: k:9093
                    properties: { security.protocol: SSL, ssl.truststore.location: /etc/berth/kafka.jks }
                  targets: [{name: b, url: 'http://127.0.0.1:5100'}]
                """);
        ReplicationConfig c = ReplicationConfig.load(
                f, Map.of("BERTH_REPLICATION_KAFKA_PROPERTIES_SSL_TRUSTSTORE_PASSWORD", "changeit"));
        assertEquals(
                Map.of(
                        "security.protocol",
                        "SSL",
                        "ssl.truststore.location",
                        "/etc/berth/kafka.jks",
                        "ssl.truststore.password",
                        "changeit"),
                c.kafka().orElseThrow().properties());
        assertEquals(List.of("changeit"), c.kafka().orElseThrow().secrets());
        IllegalArgumentException e =
                assertThrows(IllegalArgumentException.class, () -> ReplicationConfig.load(file("""
                replication:
                  source: http://127.0.0.1:5000
                  kafka: { bootstrap-servers: k:9093, properties: { group.id: other } }
                  targets: [{name: b, url: 'http://127.0.0.1:5100'}]
                """), Map.of()));
        assertTrue(
                e.getMessage()
                        .endsWith("replication.kafka.properties.group.id is set by Berth and cannot be " + "changed"),
                e.getMessage());
    }

    @Test
    void withoutKafkaReplicationIsByReconciliationAlone() throws IOException {
        ReplicationConfig c = ReplicationConfig.load(file("""
                replication:
                  source: http://127.0.0.1:5000
                  reconcile-interval: 1m
                  targets: [{name: b, url: 'http://127.0.0.1:5100'}]
                """), Map.of());
        assertFalse(c.events());
        assertEquals(Optional.empty(), c.bootstrapServers());
        assertTrue(ReplicationConfig.load(file(FULL), Map.of()).events());
    }

    @ParameterizedTest(name = "{1}")
    @CsvSource(
            delimiter = '|',
            value = {
                "replication: {kafka: {bootstrap-servers: k:1}, targets: [{name: b, url: 'http://b'}]}"
                        + "| replication.source '' is not an http(s) URL",
                "replication: {source: 'http://a', kafka: {topic: t}, targets: [{name: b, url: 'http://b'}]}"
                        + "| replication.kafka.bootstrap-servers is required in a kafka section",
                "replication: {source: 'http://a', kafka: {bootstrap-servers: k:1}, targets: [{name: b, url: 'http://b', "
                        + "delete: true}]}| replication.targets[0].delete is not a known key: did you mean deletes?",
                "replication: {source: 'http://a', kafka: {bootstrap-servers: k:1}, targets: [{name: b, url: 'http://b', "
                        + "repository: [a/**]}]}| replication.targets[0].repository is not a known key: did you mean "
                        + "repositories?",
                "replication: {source: 'http://a', kafka: {bootstrap-servers: k:1}, reconcile: 1m, targets: [{name: b, "
                        + "url: 'http://b'}]}| replication.reconcile is not a known key: did you mean reconcile-interval?",
                "replication: {source: 'http://a', kafka: {bootstrap-server: k:1}, targets: [{name: b, url: 'http://b'}]}"
                        + "| replication.kafka.bootstrap-server is not a known key: did you mean bootstrap-servers?",
                "replication: {source: 'http://a', source-tls: {ca: x}, targets: [{name: b, url: 'http://b'}]}"
                        + "| replication.source-tls.ca is not a known key: did you mean ca-file?",
                "replication: {source: 'http://a', targets: [{name: b, url: 'http://b', tls: {insecur: true}}]}"
                        + "| replication.targets[0].tls.insecur is not a known key: did you mean insecure?",
                "replication: {source: 'http://a', kafka: {bootstrap-servers: k:1}}| replication.targets must list",
                "replication: {source: 'http://a', kafka: {bootstrap-servers: k:1}, targets: [{name: B, url: 'http://b'}]}"
                        + "| replication.targets[0].name 'B'",
                "replication: {source: 'http://a', kafka: {bootstrap-servers: k:1}, targets: [{name: b, url: 'ftp://b'}]}"
                        + "| replication.targets[0].url 'ftp://b' is not an http(s) URL",
                "replication: {source: 'http://a', kafka: {bootstrap-servers: k:1}, targets: [{name: b, url: 'http://b', "
                        + "tags: '('}]}| replication.targets[0].tags '(' is not a regular expression",
                "replication: {source: 'http://a', kafka: {bootstrap-servers: k:1}, targets: [{name: b, url: 'http://b', "
                        + "tags: '(?!rc).*'}]}| replication.targets[0].tags '(?!rc).*' is not a regular expression in RE2",
                "replication: {source: 'http://a', kafka: {bootstrap-servers: k:1}, targets: [{name: b, url: 'http://b', "
                        + "exclude: ['Team/**']}]}| replication.targets[0].exclude 'Team/**' is not a repository glob: 'T'",
                "replication: {source: 'http://a', kafka: {bootstrap-servers: k:1}, targets: [{name: b, url: 'http://b', "
                        + "platforms: [amd64]}]}| 'amd64' is not os/architecture",
                "replication: {source: 'http://a', kafka: {bootstrap-servers: k:1}, targets: [{name: b, url: 'http://b', "
                        + "prefix: mirror}]}| must be repository path components ending in '/'",
                "replication: {source: 'http://a', kafka: {bootstrap-servers: k:1}, targets: [{name: b, url: 'http://b', "
                        + "rate-limit: fast}]}| 'fast' is not a rate such as 200MB/s",
                "replication: {source: 'http://a', kafka: {bootstrap-servers: k:1}, targets: [{name: b, url: 'http://b', "
                        + "concurrency: 0}]}| concurrency '0' must be a whole number from 1 to 64",
                "replication: {source: 'http://a', kafka: {bootstrap-servers: k:1}, reconcile-interval: 0s, targets: "
                        + "[{name: b, url: 'http://b'}]}| reconcile-interval '0s' must be from 1s to 7d",
                "replication: {source: 'http://a', kafka: {bootstrap-servers: k:1}, targets: [{name: b, url: 'http://b'}, "
                        + "{name: b, url: 'http://c'}]}| names must be unique",
                "replication: {source: 'http://reader:s3cret@a', targets: [{name: b, url: 'http://b'}]}"
                        + "| replication.source carries credentials in the URL (http://…@a)",
                "replication: {source: 'http://a', targets: [{name: b, url: 'https://w:pw@b'}]}"
                        + "| replication.targets[0].url carries credentials in the URL (https://…@b)",
                "replication: {source: 'http://a', targets: [{name: b, url: 'http://b', delete-budget: 150%}]}"
                        + "| replication.targets[0].delete-budget '150%' must be a percentage from 0% to 100%",
                "replication: {source: 'http://a', targets: [{name: b, url: 'http://b', delete-budget: 5}]}"
                        + "| replication.targets[0].delete-budget '5' must be a percentage",
                "replication: {source: 'http://a', manifests-max-size: 1GiB, targets: [{name: b, url: 'http://b'}]}"
                        + "| replication.manifests-max-size '1GiB' must be a size from 1KiB to 64MiB",
                "replication: {source: 'http://a', timeout: 0s, targets: [{name: b, url: 'http://b'}]}"
                        + "| replication.timeout '0s' must be from 1s to 1h",
                "replication: {source: 'http://a', source-token-realms: ['ftp://x'], targets: [{name: b, url: 'http://b'}]}"
                        + "| replication.source-token-realms 'ftp://x' is not an http(s) URL of a token realm",
            })
    void mistakesAreOneLineNamingTheKey(String yaml, String expected) throws IOException {
        Path f = file(yaml);
        IllegalArgumentException e =
                assertThrows(IllegalArgumentException.class, () -> ReplicationConfig.load(f, Map.of()));
        assertTrue(e.getMessage().contains(expected.trim()), e.getMessage());
        assertTrue(e.getMessage().contains(f.toString()));
        assertFalse(e.getMessage().contains("\n"));
        assertFalse(e.getMessage().contains("s3cret") || e.getMessage().contains(":pw@"), "never the password");
    }

    @Test
    void theBoundsHaveDefaultsAndCanBeSet() throws IOException {
        ReplicationConfig d = ReplicationConfig.load(file(FULL), Map.of());
        assertEquals(Duration.ofSeconds(60), d.timeout());
        assertEquals(4L << 20, d.manifestsMaxSize());
        assertEquals(10, d.targets().get(0).deleteBudgetPercent());
        assertEquals(1, d.targets().get(0).deleteAllowance(5), "at least one");
        assertEquals(10, d.targets().get(0).deleteAllowance(100));
        ReplicationConfig c = ReplicationConfig.load(file("""
                replication:
                  source: https://a.example
                  source-token-realms: [https://auth.example/token]
                  timeout: 5s
                  manifests-max-size: 1MiB
                  targets:
                    - name: b
                      url: http://b
                      delete-budget: 0%
                """), Map.of());
        assertEquals(Duration.ofSeconds(5), c.timeout());
        assertEquals(1L << 20, c.manifestsMaxSize());
        assertEquals(
                List.of(URI.create("https://auth.example/token")), c.source().tokenRealms());
        assertEquals(0, c.targets().get(0).deleteAllowance(1000), "0%: every delete waits for an operator");
    }
}
