package io.berth.launcher;

import io.berth.admin.AdminServer;
import io.berth.core.config.BerthConfig;
import io.berth.core.config.ConfigException;
import io.berth.core.config.ConfigKey;
import io.berth.core.config.ConfigKeys;
import io.berth.core.error.Failures;
import io.berth.core.logging.Redaction;
import io.berth.eventstream.KafkaConnection;
import io.berth.launcher.cli.Cli;
import io.berth.launcher.cli.Command;
import io.berth.launcher.cli.Option;
import io.berth.proxy.Proxy;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/** {@code berth serve}: the registry (HTTP API and gRPC admin API) in one process. */
final class ServeCommand {
    private static final Logger LOG = System.getLogger("berth");

    static final String NAME = "serve";

    static final Option CONFIG = Option.value(
                    "FILE",
                    "YAML configuration file (default: $BERTH_CONFIG, else "
                            + "berth.yaml in the working directory when it exists).",
                    "-c",
                    "--config")
            .path();

    /** The file given with --config, or null. */
    private final Path config;

    ServeCommand(Path config) {
        this.config = config;
    }

    static Command command() {
        return Command.named(NAME)
                .standardHelp()
                .description(
                        "Run the registry: the OCI distribution API over HTTP with health and metrics on the same "
                                + "port, and the gRPC admin API.",
                        "Configuration: built-in defaults, then a YAML file, then BERTH_* environment variables.")
                .option(CONFIG)
                .footer("\nConfiguration keys (YAML key, environment variable, default):\n", ServeCommand::keysHelp)
                .runs(args -> new ServeCommand(args.path(CONFIG)).call());
    }

    /** Every key: name, variable and default on one line, the description wrapped by words beneath it. */
    static String keysHelp() {
        StringBuilder b = new StringBuilder();
        for (ConfigKey k : ConfigKeys.all()) {
            String head = "  " + k.name() + "  " + k.envName();
            String value = "default " + (k.defaultValue().isEmpty() ? "(none)" : k.defaultValue())
                    + (k.range().isEmpty() ? "" : "  (" + k.range() + ")");
            if (head.length() + 2 + value.length() <= Cli.HELP_WIDTH) {
                b.append(head).append("  ").append(value).append('\n');
            } else {
                b.append(head).append('\n');
                wrap(b, value, "      ", Cli.HELP_WIDTH);
            }
            wrap(b, k.description(), "      ", Cli.HELP_WIDTH);
        }
        return b.toString();
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

    int call() {
        Signals signals = Signals.listen(); // a stop request while starting is kept, not fatal
        List<String> warnings = new ArrayList<>();
        BerthConfig cfg;
        try {
            cfg = BerthConfig.load(configFile(), System.getenv(), warnings::add);
        } catch (ConfigException e) {
            System.err.println("berth: " + e.getMessage());
            return Main.EXIT_CONFIG;
        }
        LogFormat.configure(
                cfg.string(ConfigKeys.LOG_LEVEL), cfg.string(ConfigKeys.LOG_FORMAT), cfg.list(ConfigKeys.LOG_LEVELS));
        maskSecrets(cfg);
        warnings.forEach(w -> LOG.log(Level.WARNING, w));
        BerthServer server;
        try {
            server = BerthServer.start(cfg, configFile(), signals::fail);
        } catch (StartupFailure e) {
            System.err.println("berth: " + e.getMessage());
            return e.exitCode();
        } catch (RuntimeException e) {
            // what no step foresaw: still one line, and an exit code rather than a process left behind
            System.err.println("berth: cannot start: " + Failures.describe(e));
            return 1;
        }
        LOG.log(Level.INFO, server.describe());
        signals.await();
        String failure = signals.failure();
        if (failure != null) {
            // a process without its listener serves no one: stop, and exit non-zero for the supervisor
            LOG.log(
                    Level.ERROR,
                    failure + "; stopping (exit code " + EXIT_LISTENER_LOST + ") so that berth is " + "started again");
            haltAfter(cfg.duration(ConfigKeys.HTTP_SHUTDOWN_TIMEOUT).plusSeconds(15));
            server.http().withShutdownGrace(Duration.ZERO);
        }
        Duration drain = cfg.duration(ConfigKeys.HTTP_SHUTDOWN_TIMEOUT);
        LOG.log(Level.INFO, "shutting down: draining in-flight requests (up to " + drain.toSeconds() + "s)");
        server.stop(drain);
        LOG.log(Level.INFO, "stopped");
        return failure == null ? 0 : EXIT_LISTENER_LOST;
    }

    /** Configured secrets are masked wherever a log line would carry them: every secret key's, whoever owns it. */
    static void maskSecrets(BerthConfig cfg) {
        for (ConfigKey k : ConfigKeys.all()) {
            if (k.secret() && k.type() == ConfigKey.Type.LIST) {
                // each item; a read-only admin token's "ro:" is no part of the secret
                cfg.list(k).forEach(t -> Redaction.secret(t.startsWith("ro:") ? t.substring(3) : t));
            } else if (k.secret()) {
                Redaction.secret(cfg.string(k));
            }
        }
        KafkaConnection.secrets(cfg.withPrefix(ConfigKeys.EVENTS_KAFKA_PROPERTIES))
                .forEach(Redaction::secret);
        Proxy.secrets(cfg).forEach(Redaction::secret);
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
        for (String[] f :
                new String[][] {{"admin.tls.cert", cert}, {"admin.tls.key", key}, {"admin.tls.client-ca", ca}}) {
            if (!f[1].isBlank() && !Files.isReadable(Path.of(f[1]))) {
                throw new IllegalArgumentException("cannot read " + f[0] + " " + f[1] + ": "
                        + (Files.exists(Path.of(f[1])) ? "permission denied" : "no such file"));
            }
        }
        return Optional.of(new AdminServer.Tls(
                Path.of(cert), Path.of(key), ca.isBlank() ? Optional.empty() : Optional.of(Path.of(ca))));
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
