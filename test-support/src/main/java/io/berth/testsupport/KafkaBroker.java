package io.berth.testsupport;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

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
    private final TcpForwarder link;
    private JavaProcess process;

    private KafkaBroker(
            String bootstrapServers, Path dir, Path config, int port, TcpForwarder link, JavaProcess process) {
        this.bootstrapServers = bootstrapServers;
        this.dir = dir;
        this.config = config;
        this.port = port;
        this.link = link;
        this.process = process;
    }

    /** The password of every user of a {@link #dedicatedWithSasl} broker: the user's name and "-secret". */
    public static String password(String user) {
        return user + "-secret";
    }

    /**
     * A broker of the test's own whose only client listener is SASL_PLAINTEXT with the PLAIN mechanism,
     * knowing {@code users} (password: {@link #password}) and {@code admin}, a super user, and
     * authorizing with ACLs (none yet: without one, nobody but {@code admin} may do anything).
     */
    public static KafkaBroker dedicatedWithSasl(List<String> users) {
        StringBuilder jaas = new StringBuilder(
                "org.apache.kafka.common.security.plain.PlainLoginModule required" + " username=\"admin\" password=\""
                        + password("admin") + "\" user_admin=\"" + password("admin") + "\"");
        for (String u : users) {
            jaas.append(" user_").append(u).append("=\"").append(password(u)).append('"');
        }
        jaas.append(';');
        return start(
                false,
                List.of(
                        "listener.security.protocol.map=SASL_PLAINTEXT:SASL_PLAINTEXT,CONTROLLER:PLAINTEXT",
                        "inter.broker.listener.name=SASL_PLAINTEXT",
                        "sasl.enabled.mechanisms=PLAIN",
                        "sasl.mechanism.inter.broker.protocol=PLAIN",
                        "listener.name.sasl_plaintext.plain.sasl.jaas.config=" + jaas,
                        "authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer",
                        // the controller listener is plaintext: the broker's own requests to it come as ANONYMOUS
                        "super.users=User:admin;User:ANONYMOUS"),
                "SASL_PLAINTEXT");
    }

    /** Client properties for {@code user} of a {@link #dedicatedWithSasl} broker. */
    public static Map<String, String> saslProperties(String user, String password) {
        return Map.of(
                "security.protocol",
                "SASL_PLAINTEXT",
                "sasl.mechanism",
                "PLAIN",
                "sasl.jaas.config",
                "org.apache.kafka.common.security.plain.PlainLoginModule required username=\"" + user + "\" password=\""
                        + password + "\";");
    }

    public static synchronized KafkaBroker shared() {
        if (shared == null) {
            shared = start(false);
        }
        return shared;
    }

    /** A broker of the test's own, which it may stop and start again (same port, same data). */
    public static KafkaBroker dedicated() {
        return start(false);
    }

    /**
     * A broker of the test's own that clients reach only through a link the test can cut and restore
     * ({@link #link()}): it advertises the link's port, so every connection, metadata included, goes
     * through it. Cutting is an outage of a few milliseconds' making, at any point of a client's work.
     */
    public static KafkaBroker dedicatedBehindLink() {
        return start(true);
    }

    /** The link of a {@link #dedicatedBehindLink()} broker. */
    public TcpForwarder link() {
        if (link == null) {
            throw new IllegalStateException("this broker has no link");
        }
        return link;
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
        if (link != null) {
            link.close();
        }
    }

    private static JavaProcess launch(Path dir, Path config, int port) {
        return JavaProcess.startServer(
                "kafka",
                "kafka.Kafka",
                List.of("-Xmx512m", "-Dlogback.configurationFile=" + QuietLogging.logbackConfig()),
                List.of(config.toString()),
                dir,
                port);
    }

    private static KafkaBroker start(boolean behindLink) {
        return start(
                behindLink,
                List.of("listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT"),
                "PLAINTEXT");
    }

    private static KafkaBroker start(boolean behindLink, List<String> security, String listener) {
        try {
            Path dir = Files.createTempDirectory("berth-kafka-");
            int port = FreePorts.next();
            TcpForwarder link = behindLink ? new TcpForwarder(port) : null;
            int advertised = link == null ? port : link.port();
            int controllerPort = FreePorts.next();
            String props = String.join(
                    "\n",
                    "process.roles=broker,controller",
                    "node.id=1",
                    "controller.quorum.voters=1@127.0.0.1:" + controllerPort,
                    "listeners=" + listener + "://127.0.0.1:" + port + ",CONTROLLER://127.0.0.1:" + controllerPort,
                    "advertised.listeners=" + listener + "://127.0.0.1:" + advertised,
                    "controller.listener.names=CONTROLLER",
                    String.join("\n", security),
                    "log.dirs=" + dir.resolve("logs"),
                    "offsets.topic.replication.factor=1",
                    "transaction.state.log.replication.factor=1",
                    "transaction.state.log.min.isr=1",
                    "group.initial.rebalance.delay.ms=0",
                    "num.partitions=1",
                    "");
            Path config = dir.resolve("server.properties");
            Files.writeString(config, props);
            format(dir, config);
            JavaProcess process = launch(dir, config, port);
            return new KafkaBroker("127.0.0.1:" + advertised, dir, config, port, link, process);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Formats the broker's storage, as kafka-storage.sh does: in a process of its own on the servers' class
     * path, like the broker, so that no module's tests need Kafka's server jars on their own class path.
     */
    private static void format(Path dir, Path config) {
        String tool = "kafka.tools.StorageTool";
        try (JavaProcess format = JavaProcess.start(
                JavaProcess.classPathWith(tool),
                tool,
                List.of("-Xmx256m", "-Dlogback.configurationFile=" + QuietLogging.logbackConfig()),
                List.of("format", "-t", clusterId(), "-c", config.toString()),
                Map.of(),
                dir,
                dir.resolve("format.log"))) {
            if (!format.process().waitFor(120, TimeUnit.SECONDS)
                    || format.process().exitValue() != 0) {
                throw new IllegalStateException("kafka storage format failed: " + format.output());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while formatting kafka storage", e);
        }
    }

    private static String clusterId() {
        // Kafka cluster ids are 16 bytes in URL-safe base64 without padding; one starting with '-' would be
        // read as an option by the storage tool's command line (one start in 64 failed that way)
        while (true) {
            UUID u = UUID.randomUUID();
            ByteBuffer b = ByteBuffer.allocate(16);
            b.putLong(u.getMostSignificantBits()).putLong(u.getLeastSignificantBits());
            String id = Base64.getUrlEncoder().withoutPadding().encodeToString(b.array());
            if (!id.startsWith("-")) {
                return id;
            }
        }
    }
}
