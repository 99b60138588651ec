package io.berth.launcher;

import io.berth.core.error.Failures;
import io.berth.core.logging.Redaction;
import io.berth.core.metrics.Metrics;
import io.berth.launcher.cli.Command;
import io.berth.launcher.cli.Option;
import io.berth.webhooks.WebhookConfig;
import io.berth.webhooks.WebhookRelay;
import java.io.IOException;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.nio.file.Path;
import java.time.Duration;
import org.apache.kafka.common.KafkaException;

/** {@code berth webhooks}: delivers registry events from Kafka to HTTP endpoints. */
final class WebhooksCommand {
    private static final Logger LOG = System.getLogger("berth");

    static final Option CONFIG = Option.value(
                    "FILE", "YAML file with a webhooks section (see docs/webhooks.md).", "-c", "--config")
            .path()
            .required();

    private final Path config;

    private WebhooksCommand(Path config) {
        this.config = config;
    }

    static Command command() {
        return Command.named("webhooks")
                .standardHelp()
                .description(
                        "Deliver registry events from the Kafka topic to HTTP endpoints, signed, retried, and "
                                + "dead-lettered when an endpoint keeps failing. Each endpoint reads the topic with a consumer "
                                + "group of its own, so a slow endpoint holds back only itself.",
                        "Configuration: the YAML file (docs/webhooks.md); BERTH_WEBHOOKS_KAFKA_BOOTSTRAP_SERVERS, "
                                + "BERTH_WEBHOOKS_KAFKA_TOPIC, BERTH_WEBHOOKS_KAFKA_GROUP, BERTH_WEBHOOKS_HTTP_PORT override it; "
                                + "BERTH_LOG_LEVEL and BERTH_LOG_FORMAT as for serve.")
                .option(CONFIG)
                .runs(args -> new WebhooksCommand(args.path(CONFIG)).call());
    }

    private int call() {
        Signals signals = Signals.listen(); // a stop request while starting is kept, not fatal
        LogFormat.configure(
                System.getenv().getOrDefault("BERTH_LOG_LEVEL", "info"),
                System.getenv().getOrDefault("BERTH_LOG_FORMAT", "text"));
        WebhookConfig cfg;
        try {
            cfg = WebhookConfig.load(config, System.getenv());
        } catch (IllegalArgumentException e) {
            System.err.println("berth: " + e.getMessage());
            return Main.EXIT_CONFIG;
        }
        // receivers' secrets and headers (Authorization …) are masked wherever a log line would carry them
        cfg.endpoints().forEach(e -> {
            Redaction.secret(e.secret());
            e.headers().values().forEach(Redaction::secret);
        });
        cfg.kafka().secrets().forEach(Redaction::secret);
        WebhookRelay relay;
        try {
            relay = new WebhookRelay(cfg, Metrics.newRegistry());
        } catch (KafkaException e) {
            // e.g. no resolvable bootstrap address; Kafka being down is not an error (the relay waits)
            System.err.println("berth: webhooks.kafka.bootstrap-servers '" + cfg.bootstrapServers()
                    + "' cannot be used: " + Failures.describe(e));
            return Main.EXIT_CONFIG;
        }
        int port;
        try {
            Listeners.ensureFree("webhooks.http-port", cfg.host(), cfg.httpPort());
            port = relay.start();
        } catch (Listeners.UnavailableException | IOException e) {
            System.err.println("berth: "
                    + (e instanceof Listeners.UnavailableException
                            ? e.getMessage()
                            : new Listeners.UnavailableException(
                                            "webhooks.http-port",
                                            cfg.host(),
                                            cfg.httpPort(),
                                            String.valueOf(e.getMessage()))
                                    .getMessage()));
            relay.stop(Duration.ofSeconds(2));
            return 1;
        }
        LOG.log(
                Level.INFO,
                "berth " + Main.version() + " webhooks serving /healthz and /metrics on http://"
                        + Listeners.address(cfg.host(), port) + "; kafka " + cfg.kafka() + " topic " + cfg.topic()
                        + "; endpoints "
                        + String.join(
                                ", ",
                                cfg.endpoints().stream()
                                        .map(WebhookConfig.Endpoint::name)
                                        .toList()));
        signals.await();
        LOG.log(Level.INFO, "shutting down");
        relay.stop(Duration.ofSeconds(10));
        LOG.log(Level.INFO, "stopped");
        return 0;
    }
}
