package io.berth.launcher.process;

import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.berth.core.model.Digest;
import io.berth.core.model.DigestAlgorithm;
import io.berth.testsupport.FreePorts;
import io.berth.testsupport.GeneratedContent;
import io.berth.testsupport.JavaProcess;
import io.berth.testsupport.KafkaBroker;
import io.berth.testsupport.oci.OciClient;
import io.berth.testsupport.oci.Upload;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.io.TempDir;

/** Sites ({@code berth serve} processes), a replicator process, and what tests ask of them. */
abstract class ReplicationFixture {
    static final ObjectMapper JSON = new ObjectMapper();
    static final HttpClient HTTP =
            HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

    @TempDir
    Path dir;

    final String topic = "berth.repl." + UUID.randomUUID();
    final List<AutoCloseable> started = new ArrayList<>();

    @AfterEach
    void stop() throws Exception {
        for (AutoCloseable c : started.reversed()) {
            c.close();
        }
    }

    BerthProcess site(String name, Map<String, String> env) {
        return site(name, FreePorts.next(), env);
    }

    BerthProcess site(String name, int port, Map<String, String> env) {
        BerthProcess b = BerthProcess.start(dir.resolve(name), port, List.of(), env);
        started.add(b);
        return b;
    }

    Map<String, String> events() {
        return EventsProcessTest.events(KafkaBroker.shared().bootstrapServers(), topic);
    }

    /** Starts {@code berth replicate} with the targets' YAML; returns the process once it replicates. */
    JavaProcess replicator(String source, String targetsYaml, List<String> jvmArgs, String reconcile) throws Exception {
        return replicator(
                "  kafka: { bootstrap-servers: \"" + KafkaBroker.shared().bootstrapServers() + "\", topic: \"" + topic
                        + "\", group: \"g-" + topic + "\" }\n",
                source,
                targetsYaml,
                jvmArgs,
                reconcile);
    }

    /** The Kafka lines of {@link #replicator(String, String, List, String)}: the shared broker, this test's topic. */
    String kafkaYaml() {
        return "  kafka: { bootstrap-servers: \"" + KafkaBroker.shared().bootstrapServers() + "\", topic: \"" + topic
                + "\", group: \"g-" + topic + "\" }\n";
    }

    /** As above with the {@code kafka} lines given (none: replication by reconciliation alone). */
    JavaProcess replicator(String kafkaYaml, String source, String targetsYaml, List<String> jvmArgs, String reconcile)
            throws Exception {
        return replicator(kafkaYaml, source, targetsYaml, jvmArgs, reconcile, List.of());
    }

    /** As above with further arguments of {@code berth replicate} ({@code --approve-deletes site-b}). */
    JavaProcess replicator(
            String kafkaYaml,
            String source,
            String targetsYaml,
            List<String> jvmArgs,
            String reconcile,
            List<String> args)
            throws Exception {
        int port = FreePorts.next();
        Path config = Files.writeString(dir.resolve("replication-" + System.nanoTime() + ".yaml"), """
                replication:
                  source: %s
                %s  reconcile-interval: %s
                  http-port: %d
                  targets:
                %s""".formatted(
                        source, kafkaYaml, reconcile, port, targetsYaml));
        List<String> jvm = new ArrayList<>(List.of("--enable-native-access=ALL-UNNAMED"));
        jvm.addAll(jvmArgs);
        List<String> command = new ArrayList<>(List.of("replicate", "--config", config.toString()));
        command.addAll(args);
        JavaProcess p = JavaProcess.start(
                "io.berth.launcher.Main",
                jvm,
                command,
                Map.of(),
                dir,
                dir.resolve("replicator-" + System.nanoTime() + ".log"));
        started.add(p);
        await(
                "the replicator to start",
                () -> p.output().contains(" replicating ") || !p.process().isAlive(),
                Duration.ofSeconds(60));
        assertTrue(p.process().isAlive(), p.output());
        statusPorts.put(p, port);
        return p;
    }

    final Map<JavaProcess, Integer> statusPorts = new HashMap<>();

    JsonNode status(JavaProcess replicator) throws Exception {
        return JSON.readTree(HTTP.send(
                        HttpRequest.newBuilder(
                                        URI.create("http://127.0.0.1:" + statusPorts.get(replicator) + "/status"))
                                .build(),
                        HttpResponse.BodyHandlers.ofString())
                .body());
    }

    static void await(String what, BooleanSupplier condition, Duration timeout) throws InterruptedException {
        long deadline = System.currentTimeMillis() + timeout.toMillis();
        while (!condition.getAsBoolean()) {
            if (System.currentTimeMillis() > deadline) {
                throw new AssertionError("timed out waiting for " + what);
            }
            Thread.sleep(100);
        }
    }

    /** The digest a registry gives for a reference, or empty. */
    static Optional<String> digest(String base, String repo, String reference) {
        try {
            HttpResponse<Void> r = HTTP.send(
                    HttpRequest.newBuilder(URI.create(base + "/v2/" + repo + "/manifests/" + reference))
                            .method("HEAD", HttpRequest.BodyPublishers.noBody())
                            .header(
                                    "Accept",
                                    "application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json, "
                                            + "application/vnd.docker.distribution.manifest.v2+json, "
                                            + "application/vnd.docker.distribution.manifest.list.v2+json")
                            .build(),
                    HttpResponse.BodyHandlers.discarding());
            return r.statusCode() == 200 ? r.headers().firstValue("Docker-Content-Digest") : Optional.empty();
        } catch (IOException e) {
            return Optional.empty();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Optional.empty();
        }
    }

    static String targetYaml(String name, String url, String extra) {
        return "    - name: " + name + "\n      url: " + url + "\n"
                + extra.lines().map(l -> "      " + l + "\n").reduce("", String::concat);
    }

    /** Streams {@code size} generated bytes to {@code repo} as a blob (one PATCH) and returns its digest. */
    static Digest pushGeneratedLayer(String base, String repo, long size) {
        OciClient oci = OciClient.of(base).withTimeout(Duration.ofMinutes(10));
        MessageDigest sha = DigestAlgorithm.SHA256.newMessageDigest(); // hashed as sent: 1 GiB is not read twice
        Upload upload = oci.patch(
                oci.startUpload(repo), () -> new DigestInputStream(new GeneratedContent(3, 0, size), sha), size);
        return oci.complete(upload, Digest.of(DigestAlgorithm.SHA256, sha.digest()));
    }
}
