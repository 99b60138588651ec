package io.berth.testsupport;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.UUID;

/**
 * A real Kafka broker (KRaft, combined broker and controller) from the Maven-resolved Kafka jars,
 * started once per test JVM on free loopback ports and stopped when the JVM exits.
 */
public final class KafkaBroker implements AutoCloseable {
    private static KafkaBroker shared;

    private final String bootstrapServers;
    private final Path dir;
    private final Path config;
    private final int port;
    private JavaProcess process;

    private KafkaBroker(String bootstrapServers, Path dir, Path config, int port, JavaProcess process) {
        this.bootstrapServers = bootstrapServers;
        this.dir = dir;
        this.config = config;
        this.port = port;
        this.process = process;
    }

    public static synchronized KafkaBroker shared() {
        if (shared == null) {
            shared = start();
        }
        return shared;
    }

    /** A broker of the test's own, which it may stop and start again (same port, same data). */
    public static KafkaBroker dedicated() {
        return start();
    }

    public String bootstrapServers() {
        return bootstrapServers;
    }

    /** Stops the broker process (an outage); {@link #restart} brings it back with its data. */
    public synchronized void stop() {
        if (process != null) {
            process.close();
            process = null;
        }
    }

    public synchronized void restart() {
        if (process == null) {
            process = launch(dir, config, port);
        }
    }

    @Override
    public void close() {
        stop();
    }

    private static JavaProcess launch(Path dir, Path config, int port) {
        return JavaProcess.startServer("kafka", "kafka.Kafka", List.of("-Xmx512m", "-Dlogback.configurationFile="
                + QuietLogging.logbackConfig()), List.of(config.toString()), dir, port);
    }

    private static KafkaBroker start() {
        try {
            Path dir = Files.createTempDirectory("berth-kafka-");
            int port = FreePorts.next();
            int controllerPort = FreePorts.next();
            String props = String.join("\n",
                    "process.roles=broker,controller",
                    "node.id=1",
                    "controller.quorum.voters=1@127.0.0.1:" + controllerPort,
                    "listeners=PLAINTEXT://127.0.0.1:" + port + ",CONTROLLER://127.0.0.1:" + controllerPort,
                    "advertised.listeners=PLAINTEXT://127.0.0.1:" + port,
                    "controller.listener.names=CONTROLLER",
                    "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
                    "log.dirs=" + dir.resolve("logs"),
                    "offsets.topic.replication.factor=1",
                    "transaction.state.log.replication.factor=1",
                    "transaction.state.log.min.isr=1",
                    "group.initial.rebalance.delay.ms=0",
                    "num.partitions=1",
                    "");
            Path config = dir.resolve("server.properties");
            Files.writeString(config, props);
            ByteArrayOutputStream formatOut = new ByteArrayOutputStream();
            int rc = kafka.tools.StorageTool.execute(new String[] {"format", "-t", clusterId(), "-c", config.toString()},
                    new PrintStream(formatOut, true, StandardCharsets.UTF_8));
            if (rc != 0) {
                throw new IllegalStateException("kafka storage format failed: " + formatOut);
            }
            JavaProcess process = launch(dir, config, port);
            return new KafkaBroker("127.0.0.1:" + port, dir, config, port, process);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static String clusterId() {
        // Kafka cluster ids are 16 bytes in URL-safe base64 without padding; one starting with '-' would be
        // read as an option by the storage tool's command line (one start in 64 failed that way)
        while (true) {
            UUID u = UUID.randomUUID();
            java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(16);
            b.putLong(u.getMostSignificantBits()).putLong(u.getLeastSignificantBits());
            String id = java.util.Base64.getUrlEncoder().withoutPadding().encodeToString(b.array());
            if (!id.startsWith("-")) {
                return id;
            }
        }
    }
}
