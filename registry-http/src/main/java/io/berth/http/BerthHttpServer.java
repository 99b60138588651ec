package io.berth.http;

import io.berth.core.auth.AccessControl;
import io.berth.core.auth.AuthKeys;
import io.berth.core.auth.Robots;
import io.berth.core.auth.WatchedFile;
import io.berth.core.blob.RequestBodyException;
import io.berth.core.config.BerthConfig;
import io.berth.core.config.ConfigKeys;
import io.berth.core.config.PublicUrl;
import io.berth.core.error.ClientAbortedException;
import io.berth.core.error.ErrorCode;
import io.berth.core.error.RegistryException;
import io.berth.core.error.StorageFailures;
import io.berth.core.metadata.MetadataException;
import io.berth.core.registry.CacheOutcome;
import io.berth.core.registry.ProxyStats;
import io.berth.core.registry.PullThrough;
import io.berth.core.registry.Registry;
import io.berth.http.helidon.HelidonFastPaths;
import io.helidon.http.DirectHandler;
import io.helidon.http.HeaderNames;
import io.helidon.http.HttpException;
import io.helidon.service.registry.GlobalServiceRegistry;
import io.helidon.service.registry.ServiceRegistryConfig;
import io.helidon.service.registry.ServiceRegistryManager;
import io.helidon.webserver.WebServer;
import io.helidon.webserver.WebServerConfig;
import io.helidon.webserver.http.DirectHandlers;
import io.helidon.webserver.http.HttpRouting;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import java.util.function.Supplier;

/** The HTTP listener: /v2 (OCI distribution API) and the operations endpoints. */
public final class BerthHttpServer {
    /**
     * Each response with a streamed body allocates a write buffer of this size. Blob bodies are
     * written in larger pieces, which bypass it; a large buffer only cost memory and collections
     * (figures: docs/benchmarks.md, "Behind the code").
     */
    static final int WRITE_BUFFER = 16 * 1024;

    private static final Logger LOG = System.getLogger(BerthHttpServer.class.getName());

    private final WebServer server;
    private final RequestLog requestLog;
    private final HttpMetrics metrics;
    private final V2Routes v2;
    private final OpsRoutes ops;
    private final BodyWatchdog watchdog;
    private final BodyWatchdog sendWatchdog;
    private final AccessControl access;
    private final HostCheck hostCheck;
    private final Optional<TlsFiles> tls;
    private final String host;
    private final ConnectionGuard guard;
    private final HelidonFastPaths fastPaths;
    private volatile ListenerWatch watch;
    private volatile Consumer<String> onListenerLost = why -> {};
    private volatile boolean draining;
    private final AtomicBoolean stopped = new AtomicBoolean();
    private ScheduledExecutorService tlsReloader;
    private Duration shutdownGrace = Duration.ZERO;

    /**
     * The listener as the configuration's {@code http.*} and {@code auth.*} keys describe it, reporting
     * into {@code meters}.
     *
     * @throws IllegalArgumentException one line naming the key when access control or TLS cannot be set up
     */
    public static BerthHttpServer create(
            Registry registry, Robots robots, BerthConfig config, PrometheusMeterRegistry meters) {
        // Helidon's first routing builds its global service registry, which reads and links the service
        // descriptors of every jar: about 0.1 s of each start-up (docs/benchmarks.md). Berth names its
        // connection selector, routes and media itself and looks up nothing there, so an empty registry
        // serves; set only when none is (tests build many servers in one JVM).
        GlobalServiceRegistry.registry(() -> ServiceRegistryManager.create(
                        ServiceRegistryConfig.builder().discoverServices(false).build())
                .registry());
        return new BerthHttpServer(registry, robots, config, meters);
    }

    private BerthHttpServer(Registry registry, Robots robots, BerthConfig config, PrometheusMeterRegistry meters) {
        this.shutdownGrace = config.duration(ConfigKeys.HTTP_SHUTDOWN_GRACE);
        this.host = config.string(ConfigKeys.HTTP_HOST);
        this.metrics = new HttpMetrics(meters);
        this.watchdog = BodyWatchdog.forBodies(
                config.duration(ConfigKeys.HTTP_READ_TIMEOUT),
                config.size(ConfigKeys.HTTP_MIN_BODY_RATE),
                config.duration(ConfigKeys.HTTP_MIN_RATE_WINDOW),
                metrics);
        this.sendWatchdog = BodyWatchdog.forSends(
                config.size(ConfigKeys.HTTP_MIN_SEND_RATE),
                config.duration(ConfigKeys.HTTP_MIN_RATE_WINDOW),
                ConnectionGuard.SEND_SLICE,
                metrics);
        metrics.gauge(
                "berth.uploads.in.progress",
                "Upload bodies streaming in now.",
                () -> registry.uploads().inProgress());
        metrics.gauge(
                "berth.buffers.in.use",
                "Buffers of the shared pools in use.",
                registry::hashBuffersInUse,
                "pool",
                "hashing");
        registry.blobStore()
                .buffersInUse()
                .keySet()
                .forEach(pool -> metrics.gauge(
                        "berth.buffers.in.use",
                        "Buffers of the shared pools in use.",
                        () -> registry.blobStore().buffersInUse().getOrDefault(pool, 0),
                        "pool",
                        pool));
        metrics.gauge(
                "berth.manifests.buffered.bytes",
                "Bytes of manifest bodies held in memory now (reserved: " + "manifests.max-buffered).",
                () -> registry.manifests().bufferedBodyBytes());
        this.tls = TlsFiles.from(config, ConfigKeys.HTTP_TLS_CERT, ConfigKeys.HTTP_TLS_KEY);
        // with TLS the bytes are encrypted in this process: they can neither go from the file with sendfile
        // nor come from the socket straight into storage's buffers
        this.fastPaths = HelidonFastPaths.detect(
                config.bool(ConfigKeys.HTTP_SENDFILE) && tls.isEmpty(),
                config.bool(ConfigKeys.HTTP_SOCKET_READS) && tls.isEmpty());
        this.requestLog = new RequestLog(metrics, config.bool(ConfigKeys.HTTP_ACCESS_LOG), fastPaths);
        metrics.gauge("berth.http.requests.in.flight", "HTTP requests being served now.", requestLog::inFlight);
        for (boolean replication : new boolean[] {false, true}) {
            metrics.counter(
                    "berth.manifest.pulls",
                    "Manifest GETs, by replicators (auth.replicators) or by other "
                            + "clients; only the latter are last pulls.",
                    registry,
                    r -> r.manifestPulls(replication),
                    "by",
                    replication ? "replication" : "client");
        }
        this.access = AccessControl.from(config, robots, registry.clock());
        loginMetrics(metrics, access);
        proxyMetrics(metrics, registry.proxy());
        ClientRateLimiter limiter = new ClientRateLimiter(
                config.intCount(ConfigKeys.HTTP_RATE_LIMIT), config.intCount(ConfigKeys.HTTP_RATE_LIMIT_BURST));
        Optional<PublicUrl> publicUrl = config.publicUrl(ConfigKeys.HTTP_PUBLIC_URL);
        if (access.mode() == AccessControl.Mode.TOKEN
                && publicUrl.isEmpty()
                && config.string(AuthKeys.AUTH_TOKEN_REALM).isBlank()
                && !HostCheck.loopbackName(HostCheck.bare(config.string(ConfigKeys.HTTP_HOST)))) {
            LOG.log(
                    Level.WARNING,
                    "auth.type token without http.public-url: the token realm clients are sent to is "
                            + "the address each connection reached, over " + (tls.isPresent() ? "https" : "plain http")
                            + "; set http.public-url to the URL clients use (https://… behind a TLS-terminating proxy)");
        }
        this.hostCheck = HostCheck.from(config, access);
        this.v2 = new V2Routes(
                registry,
                metrics,
                watchdog,
                new AccessGate(access, limiter, tls.isPresent(), publicUrl),
                fastPaths,
                config.duration(ConfigKeys.MANIFESTS_BODY_TIMEOUT));
        this.ops = new OpsRoutes(registry, metrics, () -> draining);
        // access-control files fail closed on reload: /healthz and /metrics say when one is partial or not applied
        for (WatchedFile<?> file : access.files()) {
            ops.addHealthCheck(file.what(), file::problem);
            metrics.gauge(
                    "berth.auth.file.entries.left.out",
                    "Entries of an access-control file left out of the "
                            + "last reload because they could not be used (each is named in the log).",
                    () -> file.status().state() == WatchedFile.State.PARTIAL
                            ? file.status().problems().size()
                            : 0,
                    "file",
                    file.what());
            metrics.gauge(
                    "berth.auth.file.failed",
                    "1 while an access-control file cannot be read, so that it "
                            + "grants nothing (no users, no rules) until it reads again.",
                    () -> file.status().state() == WatchedFile.State.FAILED ? 1 : 0,
                    "file",
                    file.what());
        }
        TokenRoutes token = new TokenRoutes(access, limiter, watchdog);
        DirectHandler rejected = new RejectedRequests(requestLog);
        DirectHandlers.Builder direct = DirectHandlers.builder();
        for (DirectHandler.EventType type : DirectHandler.EventType.values()) {
            direct.addHandler(type, rejected);
        }
        this.guard = new ConnectionGuard(
                config.duration(ConfigKeys.HTTP_HEADER_TIMEOUT),
                config.duration(ConfigKeys.HTTP_IDLE_TIMEOUT),
                config.intCount(ConfigKeys.HTTP_MAX_CONNECTIONS),
                config.intCount(ConfigKeys.HTTP_MAX_CONNECTIONS_PER_CLIENT),
                metrics,
                sendWatchdog);
        ops.addReadinessCheck(() -> watch == null ? Optional.empty() : watch.problem());
        WebServerConfig.Builder builder = WebServer.builder()
                .host(config.string(ConfigKeys.HTTP_HOST))
                .port(config.port(ConfigKeys.HTTP_PORT))
                .shutdownHook(false)
                .shutdownGracePeriod(config.duration(ConfigKeys.HTTP_SHUTDOWN_TIMEOUT))
                .writeBufferSize(WRITE_BUFFER)
                .directHandlers(direct.build())
                .routing(r -> routing(r, v2, ops, token));
        guard.configure(
                builder,
                config.duration(ConfigKeys.HTTP_HEADER_TIMEOUT),
                config.duration(ConfigKeys.HTTP_IDLE_TIMEOUT));
        tls.ifPresent(t -> builder.tls(t.current()));
        this.server = builder.build();
    }

    /**
     * The pull-through caches' counters, per configured upstream and {@link ProxyStats#REMOVED} (repositories
     * cached from an upstream no longer configured).
     */
    private static void proxyMetrics(HttpMetrics metrics, PullThrough proxy) {
        List<String> names = new ArrayList<>();
        proxy.upstreams().forEach(u -> names.add(u.name()));
        names.add(ProxyStats.REMOVED);
        for (String name : names) {
            ProxyStats.Counters stats = proxy.stats().of(name);
            for (CacheOutcome outcome : CacheOutcome.values()) {
                metrics.counter(
                        "berth.proxy.reads",
                        "Reads of pull-through caches (manifests, blobs, tag lists, referrers) by upstream and outcome.",
                        stats,
                        s -> s.served(outcome),
                        "upstream",
                        name,
                        "outcome",
                        outcome.header());
            }
            metrics.counter(
                    "berth.proxy.upstream.failures",
                    "Upstream requests of pull-through caches that failed (any kind).",
                    stats,
                    ProxyStats.Counters::upstreamFailures,
                    "upstream",
                    name);
            metrics.counter(
                    "berth.proxy.blobs.rejected",
                    "Blobs from upstreams whose bytes did not match their digest or length: never served, never kept.",
                    stats,
                    ProxyStats.Counters::rejectedBlobs,
                    "upstream",
                    name);
            metrics.counter(
                    "berth.proxy.upstream.bytes",
                    "Bytes of blobs fetched from upstreams and stored.",
                    stats,
                    ProxyStats.Counters::upstreamBytes,
                    "upstream",
                    name);
            metrics.counter(
                    "berth.proxy.saved.bytes",
                    "Bytes of blobs served from pull-through caches: what no upstream had to send.",
                    stats,
                    ProxyStats.Counters::savedBytes,
                    "upstream",
                    name);
        }
    }

    /** What the login defences did: bcrypt checks run, logins refused unchecked, addresses and names tracked. */
    private static void loginMetrics(HttpMetrics metrics, AccessControl access) {
        FunctionCounter.builder(
                        "berth.auth.password.checks",
                        access,
                        a -> a.loginStats().passwordChecks())
                .description("Password (bcrypt) checks run.")
                .register(metrics.registry());
        FunctionCounter.builder(
                        "berth.auth.logins.refused", access, a -> a.loginStats().throttled())
                .description("Logins refused before any check (429).")
                .tag("reason", "failures")
                .register(metrics.registry());
        FunctionCounter.builder(
                        "berth.auth.logins.refused", access, a -> a.loginStats().busy())
                .description("Logins refused before any check (429).")
                .tag("reason", "busy")
                .register(metrics.registry());
        metrics.gauge(
                "berth.auth.login.tracked",
                "Client addresses and user names with failed logins remembered.",
                () -> access.loginStats().trackedAddresses(),
                "of",
                "address");
        metrics.gauge(
                "berth.auth.login.tracked",
                "Client addresses and user names with failed logins remembered.",
                () -> access.loginStats().trackedUsers(),
                "of",
                "user");
    }

    /** Access control as configured (auth.*). */
    public AccessControl access() {
        return access;
    }

    /** The fast paths through Helidon's internals that are on, for the start-up line ({@link HelidonFastPaths#describe}). */
    public String fastPaths() {
        return fastPaths.describe();
    }

    /** Whether the listener serves HTTPS. */
    public boolean tls() {
        return tls.isPresent();
    }

    private void routing(HttpRouting.Builder r, V2Routes v2, OpsRoutes ops, TokenRoutes token) {
        r.addFilter(requestLog);
        if (!hostCheck.open()) {
            r.addFilter(hostCheck); // after the request log: refused requests are logged and counted
        }
        r.register("/v2", v2)
                .register("/auth", token)
                .register(ops)
                .error(RegistryException.class, OciErrors::send)
                .error(ClientAbortedException.class, (req, res, e) -> clientAborted(req, res, e.getMessage()))
                .error(RequestBodyException.class, (req, res, e) -> clientAborted(req, res, e.getMessage()))
                .error(UncheckedIOException.class, (req, res, e) -> ioFailure(req, res, e.getCause()))
                .error(IOException.class, BerthHttpServer::ioFailure)
                .error(MetadataException.class, BerthHttpServer::metadataFailure)
                .error(HttpException.class, BerthHttpServer::httpFailure)
                .error(Throwable.class, BerthHttpServer::unexpected);
    }

    /** The client went away mid-request: not a server error; one line at INFO, no stack trace. */
    private static void clientAborted(ServerRequest req, ServerResponse res, String why) {
        clientAborted(req, why);
        res.header(HeaderNames.CONNECTION, "close");
        try {
            OciErrors.send(req, res, ErrorCode.BLOB_UPLOAD_INVALID, "the request body was not received completely");
        } catch (RuntimeException gone) {
            // the client is not there to read it
        }
    }

    /** Marks and logs (one line at INFO) a request whose client went away. */
    static void clientAborted(ServerRequest req, String why) {
        RequestLog.clientAborted(req);
        LOG.log(
                Level.INFO,
                "client aborted " + req.prologue().method().text() + " "
                        + req.path().absolute().rawPath() + " id=" + RequestLog.id(req) + ": " + why);
    }

    /** Blob storage failed: 507 when full, 503 otherwise, with Retry-After; never the client's fault. */
    private static void ioFailure(ServerRequest req, ServerResponse res, IOException e) {
        if (e instanceof RequestBodyException) {
            clientAborted(req, res, e.getMessage());
            return;
        }
        LOG.log(
                Level.WARNING,
                "storage failure on " + req.prologue().method().text() + " "
                        + req.path().absolute().rawPath() + " id=" + RequestLog.id(req) + ": " + e);
        OciErrors.send(req, res, StorageFailures.of("storage failure", e));
    }

    private static void metadataFailure(ServerRequest req, ServerResponse res, MetadataException e) {
        if (StorageFailures.isNoSpace(e)) {
            LOG.log(
                    Level.WARNING,
                    "metadata storage full on " + req.prologue().method().text() + " "
                            + req.path().absolute().rawPath() + " id=" + RequestLog.id(req) + ": " + e.getMessage());
            OciErrors.send(req, res, StorageFailures.of("metadata could not be written", e));
            return;
        }
        if (StorageFailures.isBusy(e)) {
            LOG.log(
                    Level.WARNING,
                    "metadata database busy on " + req.prologue().method().text() + " "
                            + req.path().absolute().rawPath() + " id=" + RequestLog.id(req) + ": " + e.getMessage());
            OciErrors.send(req, res, StorageFailures.of("the request could not be completed", e));
            return;
        }
        unexpected(req, res, e);
    }

    /** Failures Helidon raises itself (no route, malformed request), answered in the OCI error format. */
    private static void httpFailure(ServerRequest req, ServerResponse res, HttpException e) {
        int status = e.status().code();
        String raw = req.path().absolute().rawPath();
        if (status == 404
                && raw.startsWith("/v2")
                && (raw.contains("/../") || raw.endsWith("/..") || raw.contains("/./") || raw.endsWith("/."))) {
            // Helidon resolved dot segments and the path left /v2: a traversal attempt on a repository name
            OciErrors.send(req, res, ErrorCode.NAME_INVALID, "repository names cannot contain dot segments");
            return;
        }
        ErrorCode code = switch (status) {
            case 404 -> ErrorCode.ROUTE_UNKNOWN;
            case 405 -> ErrorCode.UNSUPPORTED;
            case 413 -> ErrorCode.PAYLOAD_TOO_LARGE;
            default -> status >= 500 ? ErrorCode.INTERNAL : ErrorCode.BAD_REQUEST;
        };
        OciErrors.send(req, res, code, status >= 500 ? "internal error" : e.getMessage());
    }

    private static void unexpected(ServerRequest req, ServerResponse res, Throwable e) {
        LOG.log(
                Level.ERROR,
                "unexpected failure on " + req.prologue().method().text() + " "
                        + req.path().absolute().rawPath() + " id=" + RequestLog.id(req),
                e);
        OciErrors.send(req, res, ErrorCode.INTERNAL, "internal error");
    }

    public BerthHttpServer start() {
        server.start();
        if (server.port() > 0) {
            watch = new ListenerWatch(
                    listenerAddress(), server.port(), Duration.ofSeconds(1), why -> onListenerLost.accept(why));
        }
        tls.ifPresent(t -> {
            tlsReloader = Executors.newSingleThreadScheduledExecutor(
                    r -> Thread.ofPlatform().name("berth-tls-reload").daemon().unstarted(r));
            tlsReloader.scheduleWithFixedDelay(() -> t.changed().ifPresent(server::reloadTls), 2, 2, TimeUnit.SECONDS);
        });
        return this;
    }

    public int port() {
        return server.port();
    }

    /** The address the listener was bound to (http.host), as Helidon resolves it. */
    private InetAddress listenerAddress() {
        try {
            return InetAddress.getByName(host);
        } catch (UnknownHostException e) {
            throw new IllegalStateException("http.host " + host + " resolved when the listener started but not now", e);
        }
    }

    /**
     * What to do when the listener stops accepting connections without {@link #stop} (Helidon's accept
     * loop ended: no file descriptors left, or memory): {@code action} gets a line saying so. Readiness
     * answers 503 from then on. Without an action it is only logged.
     */
    public BerthHttpServer onListenerLost(Consumer<String> action) {
        this.onListenerLost = action;
        return this;
    }

    /**
     * Adds a component to {@code /healthz} (still 200: liveness): {@code problem} is empty while the
     * component is fine, else says what is wrong, e.g. {@code events: degraded (kafka unreachable …)}.
     */
    public BerthHttpServer withHealthCheck(String name, Supplier<Optional<String>> problem) {
        ops.addHealthCheck(name, problem);
        return this;
    }

    /** The /v2 route table (templates and methods). */
    public List<V2Routes.RouteInfo> routes() {
        return v2.table();
    }

    public HttpMetrics metrics() {
        return metrics;
    }

    /** How long {@link #stop} keeps serving with readiness at 503 before closing the listener. */
    public BerthHttpServer withShutdownGrace(Duration grace) {
        this.shutdownGrace = grace;
        return this;
    }

    /**
     * Graceful stop: readiness turns 503 while the listener keeps serving for the shutdown grace (a
     * load balancer sees the node leave before connections are refused), then the listener stops
     * accepting and in-flight requests get up to {@code timeout} to finish; those cut off are
     * logged.
     */
    public void stop(Duration timeout) {
        if (stopped.getAndSet(true)) {
            return; // once: a second stop would wait out the shutdown grace again
        }
        draining = true;
        if (watch != null) {
            watch.close(); // the listener is about to close on purpose
        }
        try {
            if (!shutdownGrace.isZero()) {
                LOG.log(
                        Level.INFO,
                        "draining: /readyz answers 503 for " + shutdownGrace.toMillis()
                                + " ms before the listener closes");
                Thread.sleep(shutdownGrace.toMillis());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        long deadline = System.nanoTime() + timeout.toNanos();
        server.stop();
        while (requestLog.inFlight() > 0 && System.nanoTime() < deadline) {
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        int cutOff = requestLog.inFlight();
        if (cutOff > 0) {
            LOG.log(
                    Level.WARNING,
                    "shutdown: " + cutOff + " request(s) still running after " + timeout.toSeconds()
                            + "s (http.shutdown-timeout) were cut off");
        }
        watchdog.close();
        sendWatchdog.close();
        guard.close();
        requestLog.close();
        if (tlsReloader != null) {
            tlsReloader.shutdownNow();
        }
    }
}
