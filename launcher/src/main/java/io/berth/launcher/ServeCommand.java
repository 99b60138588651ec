package io.berth.launcher;

import io.berth.admin.AdminServer;
import io.berth.core.config.BerthConfig;
import io.berth.core.config.ConfigException;
import io.berth.core.config.ConfigKey;
import io.berth.core.config.ConfigKeys;
import io.berth.core.error.Failures;
import io.berth.core.logging.LogFormat;
import io.berth.core.logging.Redaction;
import io.berth.core.metrics.Metrics;
import io.berth.relay.OutboxRelay;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.berth.core.metadata.MetadataException;
import io.berth.core.registry.DataLock;
import io.berth.core.registry.Registry;
import io.berth.core.registry.RegistryFactory;
import io.berth.http.BerthHttpServer;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code berth serve}: the registry (HTTP API and gRPC admin API) in one process. */
@Command(name = ServeCommand.NAME, mixinStandardHelpOptions = true, usageHelpWidth = Main.HELP_WIDTH,
        usageHelpAutoWidth = false,
        description = {"Run the registry: the OCI distribution API over HTTP with health and metrics on the same "
                + "port, and the gRPC admin API.",
                "Configuration: built-in defaults, then a YAML file, then BERTH_* environment variables."},
        footerHeading = "%nConfiguration keys (YAML key, environment variable, default):%n")
final class ServeCommand implements Callable<Integer> {
    private static final Logger LOG = System.getLogger("berth");

    static final String NAME = "serve";
    static final String CONFIG_SHORT = "-c";
    static final String CONFIG_LONG = "--config";

    @Option(names = {CONFIG_SHORT, CONFIG_LONG}, paramLabel = "FILE",
            description = "YAML configuration file (default: $BERTH_CONFIG, else berth.yaml in the working "
                    + "directory when it exists).")
    Path config;

    /**
     * {@code serve}, {@code serve -c FILE}, {@code serve --config FILE} and {@code serve --config=FILE}
     * — what the README, service units and containers run — read without picocli; null for anything
     * else (help, version, mistakes), which picocli parses. picocli is compiled for Java 5, so the
     * JDK's AOT cache cannot hold its classes, and loading them and building its model took about
     * 0.2 s of every start-up (docs/benchmarks.md, sixth round).
     */
    static ServeCommand withoutParsing(String[] args) {
        if (args.length == 0 || !args[0].equals(NAME)) {
            return null;
        }
        ServeCommand serve = new ServeCommand();
        if (args.length == 1) {
            return serve;
        }
        String file = null;
        if (args.length == 3 && (args[1].equals(CONFIG_SHORT) || args[1].equals(CONFIG_LONG))) {
            file = args[2];
        } else if (args.length == 2 && args[1].startsWith(CONFIG_LONG + "=")) {
            file = args[1].substring(CONFIG_LONG.length() + 1);
        }
        if (file == null || file.isEmpty() || file.startsWith("-")) {
            return null;
        }
        try {
            serve.config = Path.of(file);
        } catch (java.nio.file.InvalidPathException e) {
            return null;
        }
        return serve;
    }

    /** Every key: name, variable and default on one line, the description wrapped by words beneath it. */
    static String keysHelp() {
        StringBuilder b = new StringBuilder();
        for (ConfigKey k : ConfigKeys.ALL) {
            String head = "  " + k.name() + "  " + k.envName();
            String value = "default " + (k.defaultValue().isEmpty() ? "(none)" : k.defaultValue())
                    + (k.range().isEmpty() ? "" : "  (" + k.range() + ")");
            if (head.length() + 2 + value.length() <= Main.HELP_WIDTH) {
                b.append(head).append("  ").append(value).append('\n');
            } else {
                b.append(head).append('\n');
                wrap(b, value, "      ", Main.HELP_WIDTH);
            }
            wrap(b, k.description(), "      ", Main.HELP_WIDTH);
        }
        return b.toString().replace("%", "%%");
    }

    /** Appends {@code text} in lines of at most {@code width} columns, breaking only between words. */
    static void wrap(StringBuilder out, String text, String indent, int width) {
        StringBuilder line = new StringBuilder(indent);
        for (String word : text.split(" +")) {
            if (line.length() > indent.length() && line.length() + 1 + word.length() > width) {
                out.append(line).append('\n');
                line = new StringBuilder(indent);
            }
            if (line.length() > indent.length()) {
                line.append(' ');
            }
            line.append(word);
        }
        out.append(line).append('\n');
    }

    @Override
    public Integer call() {
        Signals signals = Signals.listen(); // a stop request while starting is kept, not fatal
        List<String> warnings = new ArrayList<>();
        BerthConfig cfg;
        try {
            cfg = BerthConfig.load(configFile(), System.getenv(), warnings::add);
        } catch (ConfigException e) {
            System.err.println("berth: " + e.getMessage());
            return Main.EXIT_CONFIG;
        }
        LogFormat.configure(cfg.string(ConfigKeys.LOG_LEVEL), cfg.string(ConfigKeys.LOG_FORMAT),
                cfg.list(ConfigKeys.LOG_LEVELS));
        // configured secrets are masked wherever a log line would carry them
        cfg.list(ConfigKeys.ADMIN_TOKENS).forEach(t -> Redaction.secret(t.startsWith("ro:") ? t.substring(3) : t));
        Redaction.secret(cfg.string(ConfigKeys.STORAGE_S3_SECRET_KEY));
        Redaction.secret(cfg.string(ConfigKeys.METADATA_POSTGRES_PASSWORD));
        io.berth.events.KafkaConnection.secrets(cfg.withPrefix(ConfigKeys.EVENTS_KAFKA_PROPERTIES))
                .forEach(Redaction::secret);
        warnings.forEach(w -> LOG.log(Level.WARNING, w));
        long startedAt = System.currentTimeMillis();
        String httpHost = cfg.string(ConfigKeys.HTTP_HOST);
        String adminHost = cfg.string(ConfigKeys.ADMIN_HOST);
        try {
            // before anything is opened, so that a taken port leaves nothing behind
            Listeners.ensureFree(ConfigKeys.HTTP_PORT, httpHost, cfg.port(ConfigKeys.HTTP_PORT));
            Listeners.ensureFree(ConfigKeys.ADMIN_PORT, adminHost, cfg.port(ConfigKeys.ADMIN_PORT));
        } catch (Listeners.UnavailableException e) {
            System.err.println("berth: " + e.getMessage());
            return 1;
        }
        Registry registry;
        try {
            registry = RegistryFactory.open(cfg);
        } catch (DataLock.HeldException e) {
            System.err.println("berth: " + e.getMessage());
            return 1;
        } catch (IllegalArgumentException e) {
            // a backend named without the keys it needs
            System.err.println("berth: " + e.getMessage());
            return Main.EXIT_CONFIG;
        } catch (MetadataException e) {
            System.err.println("berth: cannot open metadata: " + Failures.describe(e));
            return 1;
        } catch (Exception e) {
            System.err.println("berth: cannot open storage: " + Failures.describe(e));
            return 1;
        }
        Duration grace = cfg.duration(ConfigKeys.HTTP_SHUTDOWN_TIMEOUT);
        PrometheusMeterRegistry meters = Metrics.newRegistry();
        BerthHttpServer http;
        AdminServer admin;
        try {
            http = BerthHttpServer.create(registry, cfg, meters).onListenerLost(signals::fail).start();
            if (http.port() < 0) {
                throw new Listeners.UnavailableException(ConfigKeys.HTTP_PORT, httpHost, cfg.port(ConfigKeys.HTTP_PORT));
            }
        } catch (Listeners.UnavailableException e) {
            System.err.println("berth: " + e.getMessage());
            registry.close();
            return 1;
        } catch (IllegalArgumentException e) {
            // access control or TLS cannot be set up as configured
            System.err.println("berth: " + e.getMessage());
            registry.close();
            return Main.EXIT_CONFIG;
        }
        OutboxRelay relay = null;
        String events = "events off";
        if (registry.events().enabled()) {
            String bootstrap = cfg.string(ConfigKeys.EVENTS_KAFKA_BOOTSTRAP);
            String topic = cfg.string(ConfigKeys.EVENTS_KAFKA_TOPIC);
            try {
                relay = new OutboxRelay(registry.metadata(), new OutboxRelay.Settings(bootstrap, topic,
                        cfg.withPrefix(ConfigKeys.EVENTS_KAFKA_PROPERTIES), cfg.duration(ConfigKeys.EVENTS_RETENTION)),
                        meters, registry.clock()).start();
            } catch (RuntimeException e) {
                // the Kafka client refuses its properties while it is built (it connects later): a bad
                // sasl.jaas.config, an unknown mechanism. Thrown out of main, it left a process serving
                // without events that ignored SIGTERM.
                Throwable root = e;
                while (root.getCause() != null && root.getCause() != root) {
                    root = root.getCause();
                }
                System.err.println("berth: events.kafka.*: the Kafka client refuses its configuration: "
                        + Failures.describe(root));
                http.stop(Duration.ZERO);
                registry.close();
                return Main.EXIT_CONFIG;
            }
            registry.events().onCommitted(relay::wake);
            http.withHealthCheck("events", relay::problem);
            events = "events to kafka " + bootstrap + " topic " + topic;
        }
        try {
            admin = AdminServer.start(adminHost, cfg.port(ConfigKeys.ADMIN_PORT), registry, new AdminServer.Settings(
                    Main.version(), startedAt, cfg.list(ConfigKeys.ADMIN_TOKENS), cfg.duration(ConfigKeys.GC_GRACE),
                    http.access(), adminTls(cfg), AdminServer.Limits.from(cfg)));
        } catch (IllegalArgumentException e) {
            System.err.println("berth: " + e.getMessage());
            http.stop(Duration.ZERO);
            if (relay != null) {
                relay.stop(Duration.ofSeconds(5));
            }
            registry.close();
            return Main.EXIT_CONFIG;
        } catch (Exception e) {
            System.err.println("berth: " + new Listeners.UnavailableException(ConfigKeys.ADMIN_PORT, adminHost,
                    cfg.port(ConfigKeys.ADMIN_PORT)).getMessage());
            http.stop(Duration.ZERO);
            if (relay != null) {
                relay.stop(Duration.ofSeconds(5));
            }
            registry.close();
            return 1;
        }
        registry.gc().resumeInterrupted();
        java.util.concurrent.ScheduledExecutorService jobs = java.util.concurrent.Executors
                .newSingleThreadScheduledExecutor(r -> Thread.ofPlatform().name("berth-retention").daemon().unstarted(r));
        String instance = java.util.UUID.randomUUID().toString();
        jobs.scheduleWithFixedDelay(() -> {
            try {
                registry.retention().runDue(instance);
            } catch (RuntimeException e) {
                LOG.log(Level.WARNING, "scheduled retention: " + e.getMessage());
            }
        }, 30, 30, java.util.concurrent.TimeUnit.SECONDS);
        LOG.log(Level.INFO, "berth " + Main.version() + " serving " + (http.tls() ? "https://" : "http://")
                + Listeners.address(httpHost, http.port()) + Listeners.reach(httpHost)
                + " and admin gRPC " + (cfg.string(ConfigKeys.ADMIN_TLS_CERT).isBlank() ? "" : "(TLS) ")
                + Listeners.address(adminHost, admin.port())
                + (admin.adminEnabled() ? "" : " (health only: no admin.tokens)") + "; config "
                + configFile().map(p -> p.toAbsolutePath().toString()).orElse("none") + "; blobs "
                + registry.blobStore().describe() + "; metadata " + registry.metadata().describe() + "; " + events + "; "
                + http.access().describe() + (cfg.intCount(ConfigKeys.HTTP_RATE_LIMIT) == 0 ? ""
                : "; rate limit " + cfg.intCount(ConfigKeys.HTTP_RATE_LIMIT) + "/s per client"));

        signals.await();
        String failure = signals.failure();
        if (failure != null) {
            // a process without its listener serves no one: stop, and exit non-zero for the supervisor
            LOG.log(Level.ERROR, failure + "; stopping (exit code " + EXIT_LISTENER_LOST + ") so that berth is "
                    + "started again");
            haltAfter(grace.plusSeconds(15));
            http.withShutdownGrace(Duration.ZERO);
        }
        LOG.log(Level.INFO, "shutting down: draining in-flight requests (up to " + grace.toSeconds() + "s)");
        http.stop(grace);
        jobs.shutdownNow();
        admin.stop(2000);
        if (relay != null) {
            relay.stop(Duration.ofSeconds(5));
        }
        registry.close();
        LOG.log(Level.INFO, "stopped");
        return failure == null ? 0 : EXIT_LISTENER_LOST;
    }

    /** Exit code of {@code serve} when its HTTP listener stopped accepting connections by itself. */
    static final int EXIT_LISTENER_LOST = 1;

    /**
     * Ends the process with {@link #EXIT_LISTENER_LOST} if the orderly stop has not ended it within
     * {@code limit}: whatever broke the listener (no descriptors, no memory) may hold up the stop too.
     */
    private static void haltAfter(Duration limit) {
        Thread.ofPlatform().daemon().name("berth-stop-deadline").start(() -> {
            try {
                Thread.sleep(limit.toMillis());
            } catch (InterruptedException e) {
                return;
            }
            System.err.println("berth: the stop did not end within " + limit.toSeconds() + "s; halting");
            Runtime.getRuntime().halt(EXIT_LISTENER_LOST);
        });
    }

    /** The admin listener's TLS files (admin.tls.*), when set; both or neither of cert and key. */
    static Optional<AdminServer.Tls> adminTls(BerthConfig cfg) {
        String cert = cfg.string(ConfigKeys.ADMIN_TLS_CERT);
        String key = cfg.string(ConfigKeys.ADMIN_TLS_KEY);
        String ca = cfg.string(ConfigKeys.ADMIN_TLS_CLIENT_CA);
        if (cert.isBlank() && key.isBlank()) {
            if (!ca.isBlank()) {
                throw new IllegalArgumentException("admin.tls.client-ca needs admin.tls.cert and admin.tls.key");
            }
            return Optional.empty();
        }
        if (cert.isBlank() || key.isBlank()) {
            throw new IllegalArgumentException("admin.tls.cert and admin.tls.key go together: set both");
        }
        for (String[] f : new String[][] {{"admin.tls.cert", cert}, {"admin.tls.key", key}, {"admin.tls.client-ca", ca}}) {
            if (!f[1].isBlank() && !Files.isReadable(Path.of(f[1]))) {
                throw new IllegalArgumentException("cannot read " + f[0] + " " + f[1] + ": "
                        + (Files.exists(Path.of(f[1])) ? "permission denied" : "no such file"));
            }
        }
        return Optional.of(new AdminServer.Tls(Path.of(cert), Path.of(key), ca.isBlank() ? Optional.empty()
                : Optional.of(Path.of(ca))));
    }

    private Optional<Path> configFile() {
        if (config != null) {
            return Optional.of(config);
        }
        String env = System.getenv("BERTH_CONFIG");
        if (env != null && !env.isBlank()) {
            return Optional.of(Path.of(env));
        }
        Path local = Path.of("berth.yaml");
        return Files.isRegularFile(local) ? Optional.of(local) : Optional.empty();
    }
}
