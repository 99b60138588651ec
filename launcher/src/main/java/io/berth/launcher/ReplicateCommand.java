package io.berth.launcher;

import io.berth.core.config.BerthConfig;
import io.berth.core.error.Failures;
import io.berth.core.logging.Redaction;
import io.berth.core.metrics.Metrics;
import io.berth.launcher.cli.Args;
import io.berth.launcher.cli.Command;
import io.berth.launcher.cli.Option;
import io.berth.replicator.ReplicationConfig;
import io.berth.replicator.Replicator;
import java.io.IOException;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.nio.file.Path;
import java.util.Set;
import org.apache.kafka.common.KafkaException;

/** {@code berth replicate}: keeps remote registries in step with this one. */
final class ReplicateCommand {
    /** Exit code when a loop of the replicator died. */
    static final int EXIT_DIED = 1;

    private static final Logger LOG = System.getLogger("berth");

    static final Option CONFIG = Option.value(
                    "FILE", "YAML file with a replication section (see " + "docs/replication.md).", "-c", "--config")
            .path()
            .required();
    static final Option APPROVE_DELETES = Option.value(
                    "TARGET",
                    "Let the first reconciliation of these targets "
                            + "delete more than their delete-budget (after /status said \"held: would delete N\"); each delete still "
                            + "needs the source's evidence.",
                    "--approve-deletes")
            .list(",");

    private final Path config;
    private final Set<String> approveDeletes;

    private ReplicateCommand(Args args) {
        config = args.path(CONFIG);
        approveDeletes = Set.copyOf(args.values(APPROVE_DELETES));
    }

    static Command command() {
        return Command.named("replicate")
                .standardHelp()
                .description(
                        "Mirror this registry's content to other sites: every push, tag and delete from the Kafka "
                                + "topic is copied over the OCI Distribution API to each target (another Berth or any OCI "
                                + "registry), and a reconciliation at start and every interval copies or deletes whatever still "
                                + "differs.",
                        "Configuration: the YAML file (docs/replication.md); every key can be set from the "
                                + "environment, e.g. BERTH_REPLICATION_KAFKA_BOOTSTRAP_SERVERS, "
                                + "BERTH_REPLICATION_TARGETS_SITE_B_PASSWORD.")
                .options(CONFIG, APPROVE_DELETES)
                .runs(args -> new ReplicateCommand(args).call());
    }

    /**
     * Bytes of one read of the JDK's HTTP client from a connection (its default: 16 KiB), set before the
     * first client exists: a blob relayed from the source to a target arrives in reads of this size,
     * each one a round through the client's selector; at 256 KiB a 1 GiB layer went across in about
     * 30 % less time (docs/benchmarks.md, "Replication throughput").
     */
    static final String HTTP_READ_BUFFER = "262144";

    private int call() {
        Signals signals = Signals.listen(); // a stop request while starting is kept, not fatal
        if (System.getProperty("jdk.httpclient.bufsize") == null) {
            System.setProperty("jdk.httpclient.bufsize", HTTP_READ_BUFFER);
        }
        LogFormat.configure(
                System.getenv().getOrDefault("BERTH_LOG_LEVEL", "info"),
                System.getenv().getOrDefault("BERTH_LOG_FORMAT", "text"));
        ReplicationConfig cfg;
        try {
            cfg = ReplicationConfig.load(config, System.getenv());
        } catch (IllegalArgumentException e) {
            System.err.println("berth: " + e.getMessage());
            return Main.EXIT_CONFIG;
        }
        // registry passwords are masked wherever a log line would carry them
        Redaction.secret(cfg.source().password());
        cfg.targets().forEach(t -> Redaction.secret(t.endpoint().password()));
        cfg.kafka().ifPresent(k -> k.secrets().forEach(Redaction::secret));
        Replicator replicator;
        try {
            replicator = new Replicator(cfg, Metrics.newRegistry());
        } catch (KafkaException | IllegalArgumentException e) {
            System.err.println("berth: cannot start replicating: " + Failures.describe(e));
            return Main.EXIT_CONFIG;
        }
        try {
            replicator.approveDeletes(approveDeletes);
        } catch (IllegalArgumentException e) {
            System.err.println("berth: " + e.getMessage());
            replicator.close();
            return Main.EXIT_CONFIG;
        }
        // a loop that died leaves a process doing nothing: stop it, non-zero, for the supervisor
        replicator.onDeath(signals::fail);
        int port;
        try {
            Listeners.ensureFree("replication.http-port", cfg.httpHost(), cfg.httpPort());
            port = replicator.start();
        } catch (Listeners.UnavailableException | IOException e) {
            System.err.println("berth: "
                    + (e instanceof Listeners.UnavailableException
                            ? e.getMessage()
                            : new Listeners.UnavailableException(
                                            "replication.http-port",
                                            cfg.httpHost(),
                                            cfg.httpPort(),
                                            String.valueOf(e.getMessage()))
                                    .getMessage()));
            replicator.close();
            return 1;
        }
        LOG.log(
                Level.INFO,
                "berth " + Main.version() + " replicating " + cfg.source().url() + " ("
                        + cfg.kafka()
                                .map(k -> "kafka " + k + " topic " + cfg.topic())
                                .orElse("no kafka: by reconciliation alone")
                        + ") to "
                        + String.join(
                                ", ",
                                cfg.targets().stream()
                                        .map(t -> t.name() + " " + t.endpoint().url())
                                        .toList())
                        + "; reconciling every "
                        + BerthConfig.formatMillis(cfg.reconcileInterval().toMillis())
                        + "; /healthz, /metrics and /status on http://" + Listeners.address(cfg.httpHost(), port));
        signals.await();
        String failure = signals.failure();
        if (failure != null) {
            LOG.log(
                    Level.ERROR,
                    failure + "; stopping (exit code " + EXIT_DIED + ") so that berth replicate is " + "started again");
            Thread.ofPlatform().daemon().name("berth-stop-deadline").start(() -> {
                try {
                    Thread.sleep(20_000);
                } catch (InterruptedException e) {
                    return;
                }
                Runtime.getRuntime().halt(EXIT_DIED); // whatever killed the loop may hold up the stop too
            });
        }
        LOG.log(Level.INFO, "shutting down");
        replicator.close();
        LOG.log(Level.INFO, "stopped");
        return failure == null ? 0 : EXIT_DIED;
    }
}
