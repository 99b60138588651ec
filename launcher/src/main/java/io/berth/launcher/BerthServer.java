package io.berth.launcher;

import io.berth.admin.AdminServer;
import io.berth.core.auth.AuthKeys;
import io.berth.core.auth.Robots;
import io.berth.core.config.BerthConfig;
import io.berth.core.config.ConfigException;
import io.berth.core.config.ConfigKeys;
import io.berth.core.error.Failures;
import io.berth.core.files.OwnerOnly;
import io.berth.core.maintenance.Maintenance;
import io.berth.core.metadata.MetadataException;
import io.berth.core.metrics.Metrics;
import io.berth.core.model.RepositoryName;
import io.berth.core.proxy.Upstreams;
import io.berth.core.registry.DataLock;
import io.berth.core.registry.Registry;
import io.berth.core.registry.RegistryFactory;
import io.berth.http.BerthHttpServer;
import io.berth.proxy.Proxy;
import io.berth.relay.OutboxRelay;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.function.Consumer;
import java.util.stream.Collectors;

/**
 * One {@code berth serve}: the registry with its maintenance, the HTTP listener, the event relay
 * and the admin listener, opened in that order onto one {@link Resources} stack. A step that fails
 * closes what the steps before it opened and says why in one line ({@link StartupFailure}); an
 * orderly stop drains the HTTP listener, then closes the rest in the reverse order of opening.
 */
final class BerthServer implements AutoCloseable {
    private static final Logger LOG = System.getLogger("berth");

    private final Resources resources = new Resources();
    private Upstreams upstreams = Upstreams.none();
    private final BerthConfig cfg;
    private final Optional<Path> configFile;
    private Registry registry;
    private BerthHttpServer http;
    private AdminServer admin;
    private String events = "";

    private BerthServer(BerthConfig cfg, Optional<Path> configFile) {
        this.cfg = cfg;
        this.configFile = configFile;
    }

    /**
     * Opens everything {@code cfg} describes; {@code listenerLost} hears of an HTTP listener that
     * stopped accepting by itself.
     */
    static BerthServer start(BerthConfig cfg, Optional<Path> configFile, Consumer<String> listenerLost)
            throws StartupFailure {
        BerthServer server = new BerthServer(cfg, configFile);
        try {
            server.open(listenerLost);
            return server;
        } catch (StartupFailure | RuntimeException | Error e) {
            server.close();
            throw e;
        }
    }

    private void open(Consumer<String> listenerLost) throws StartupFailure {
        long startedAt = System.currentTimeMillis();
        String httpHost = cfg.string(ConfigKeys.HTTP_HOST);
        String adminHost = cfg.string(ConfigKeys.ADMIN_HOST);
        try {
            // before anything is opened, so that a taken port leaves nothing behind
            Listeners.ensureFree(ConfigKeys.HTTP_PORT, httpHost, cfg.port(ConfigKeys.HTTP_PORT));
            Listeners.ensureFree(ConfigKeys.ADMIN_PORT, adminHost, cfg.port(ConfigKeys.ADMIN_PORT));
        } catch (Listeners.UnavailableException e) {
            throw StartupFailure.unavailable(e.getMessage());
        }
        Registry opened = openRegistry();
        registry = resources.add("the registry", opened, opened::close);
        List<RepositoryName> mixed = registry.proxy().localContentUnderRoutes(5);
        if (!mixed.isEmpty()) {
            throw StartupFailure.config("proxy.upstreams: a route covers local repositories ("
                    + mixed.stream().map(RepositoryName::value).collect(Collectors.joining(", "))
                    + "); a repository is proxied or local, never both: narrow the mirror's repositories or the"
                    + " prefix, or move the content");
        }
        warnIfOpenToOthers();
        // one instance each, shared by the HTTP and admin listeners: a robot revoked over the admin API is
        // refused on /v2 at once; maintenance stops before the stores it works on close
        Robots robots = new Robots(registry.metadata(), registry.clock());
        Maintenance maintenance = new Maintenance(registry);
        resources.add("maintenance", maintenance, maintenance::close);
        PrometheusMeterRegistry meters = Metrics.newRegistry();
        Proxy.bindMetrics(upstreams, meters);
        try {
            BerthHttpServer created = BerthHttpServer.create(registry, robots, cfg, meters);
            // on a failed start-up, closed at once: no readiness grace for a listener nobody was told of
            http = resources.add(
                    "the HTTP listener",
                    created,
                    () -> created.withShutdownGrace(Duration.ZERO).stop(Duration.ZERO));
            http.onListenerLost(listenerLost).start();
            if (http.port() < 0) {
                throw StartupFailure.unavailable(new Listeners.UnavailableException(
                                ConfigKeys.HTTP_PORT, httpHost, cfg.port(ConfigKeys.HTTP_PORT))
                        .getMessage());
            }
        } catch (IllegalArgumentException e) {
            // access control or TLS cannot be set up as configured
            throw StartupFailure.config(e.getMessage());
        }
        if (!registry.events().enabled()) {
            events = "events off";
        } else if (!registry.events().published()) {
            events = "events recorded (no kafka)";
        } else {
            String bootstrap = cfg.string(ConfigKeys.EVENTS_KAFKA_BOOTSTRAP);
            String topic = cfg.string(ConfigKeys.EVENTS_KAFKA_TOPIC);
            OutboxRelay relay;
            try {
                relay = new OutboxRelay(
                                registry.metadata(),
                                new OutboxRelay.Settings(
                                        bootstrap,
                                        topic,
                                        cfg.withPrefix(ConfigKeys.EVENTS_KAFKA_PROPERTIES),
                                        cfg.duration(ConfigKeys.EVENTS_RETENTION)),
                                meters,
                                registry.clock())
                        .start();
            } catch (RuntimeException e) {
                // the Kafka client refuses its properties while it is built (it connects later): a bad
                // sasl.jaas.config, an unknown mechanism. Thrown out of main, it left a process serving
                // without events that ignored SIGTERM.
                Throwable root = e;
                while (root.getCause() != null && root.getCause() != root) {
                    root = root.getCause();
                }
                throw StartupFailure.config(
                        "events.kafka.*: the Kafka client refuses its configuration: " + Failures.describe(root));
            }
            resources.add("the event relay", relay, () -> relay.stop(Duration.ofSeconds(5)));
            registry.events().onCommitted(relay::wake);
            http.withHealthCheck("events", relay::problem);
            events = "events to kafka " + bootstrap + " topic " + topic;
        }
        try {
            AdminServer started = AdminServer.start(
                    adminHost,
                    cfg.port(ConfigKeys.ADMIN_PORT),
                    registry,
                    maintenance,
                    new AdminServer.Settings(
                            Main.version(),
                            startedAt,
                            cfg.list(ConfigKeys.ADMIN_TOKENS),
                            cfg.duration(ConfigKeys.GC_GRACE),
                            http.access(),
                            ServeCommand.adminTls(cfg),
                            AdminServer.Limits.from(cfg)));
            admin = resources.add("the admin listener", started, () -> started.stop(2000));
        } catch (IllegalArgumentException e) {
            throw StartupFailure.config(e.getMessage());
        } catch (Exception e) {
            throw StartupFailure.unavailable(new Listeners.UnavailableException(
                            ConfigKeys.ADMIN_PORT, adminHost, cfg.port(ConfigKeys.ADMIN_PORT))
                    .getMessage());
        }
        maintenance.start();
    }

    private Registry openRegistry() throws StartupFailure {
        try {
            upstreams = Proxy.open(cfg);
            return RegistryFactory.open(cfg, Set.copyOf(cfg.list(AuthKeys.AUTH_REPLICATORS)), upstreams);
        } catch (ConfigException e) {
            // proxy.upstreams as written cannot be used
            throw StartupFailure.config(e.getMessage());
        } catch (DataLock.HeldException e) {
            throw StartupFailure.unavailable(e.getMessage());
        } catch (IllegalArgumentException e) {
            // a backend named without the keys it needs
            throw StartupFailure.config(e.getMessage());
        } catch (MetadataException e) {
            throw StartupFailure.unavailable("cannot open metadata: " + Failures.describe(e));
        } catch (Exception e) {
            throw StartupFailure.unavailable("cannot open storage: " + Failures.describe(e));
        }
    }

    /**
     * New data is created owner-only ({@link OwnerOnly}); data an older version or an operator
     * created keeps its modes, so say at start-up when other local users can read it: the stores'
     * data and the token signing key.
     */
    private void warnIfOpenToOthers() {
        List<Path> paths = new ArrayList<>(RegistryFactory.privateData(cfg));
        paths.add(cfg.path(AuthKeys.AUTH_TOKEN_KEY_FILE));
        List<String> open = OwnerOnly.openToOthers(paths);
        if (!open.isEmpty()) {
            LOG.log(
                    Level.WARNING,
                    "data open to other local users: " + String.join(", ", open)
                            + "; Berth creates new data owner-only (directories 0700, files 0600) but leaves existing modes"
                            + " as they are: chmod -R go-rwx them");
        }
    }

    /** The line that says what serves where, on what, with what. */
    String describe() {
        return "berth " + Main.version() + " serving " + (http.tls() ? "https://" : "http://")
                + Listeners.address(cfg.string(ConfigKeys.HTTP_HOST), http.port())
                + Listeners.reach(cfg.string(ConfigKeys.HTTP_HOST))
                + " and admin gRPC " + (cfg.string(ConfigKeys.ADMIN_TLS_CERT).isBlank() ? "" : "(TLS) ")
                + Listeners.address(cfg.string(ConfigKeys.ADMIN_HOST), admin.port())
                + (admin.adminEnabled() ? "" : " (health only: no admin.tokens)") + "; config "
                + configFile.map(p -> p.toAbsolutePath().toString()).orElse("none") + "; blobs "
                + registry.blobStore().describe() + "; metadata "
                + registry.metadata().describe() + "; " + events + "; "
                + upstreams.all().stream()
                        .map(u -> "proxy " + u.name() + " " + u.describe() + "; ")
                        .collect(Collectors.joining())
                + http.access().describe()
                + (cfg.intCount(ConfigKeys.HTTP_RATE_LIMIT) == 0
                        ? ""
                        : "; rate limit " + cfg.intCount(ConfigKeys.HTTP_RATE_LIMIT) + "/s per client")
                + "; "
                + http.fastPaths();
    }

    /** The HTTP listener (its shutdown grace is cut when the process must stop at once). */
    BerthHttpServer http() {
        return http;
    }

    /**
     * The orderly stop: the HTTP listener drains for up to {@code drain} (readiness 503 first, for
     * the shutdown grace), then everything else closes in the reverse order of opening.
     */
    void stop(Duration drain) {
        try {
            http.stop(drain);
        } finally {
            close();
        }
    }

    @Override
    public void close() {
        resources.close();
    }
}
