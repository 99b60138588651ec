package io.berth.http;

import io.berth.core.blob.BlobStore;
import io.berth.core.error.Failures;
import io.berth.core.registry.Registry;
import io.berth.core.registry.StorageHealth;
import io.helidon.http.HeaderNames;
import io.helidon.http.Method;
import io.helidon.http.Status;
import io.helidon.webserver.http.Handler;
import io.helidon.webserver.http.HttpRules;
import io.helidon.webserver.http.HttpService;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/**
 * Operations endpoints outside /v2: {@code /healthz}, {@code /readyz}, {@code /metrics}, each for GET
 * and HEAD (load balancers probe with HEAD).
 */
public final class OpsRoutes implements HttpService {
    private static final System.Logger LOG = System.getLogger(OpsRoutes.class.getName());
    private final AtomicReference<String> lastNotReady = new AtomicReference<>("");
    private final Registry registry;
    private final HttpMetrics metrics;
    private final BooleanSupplier draining;
    private final Map<String, Supplier<Optional<String>>> checks = new ConcurrentSkipListMap<>();

    private final List<Supplier<Optional<String>>> readinessChecks = new CopyOnWriteArrayList<>();

    /** Adds a condition to /readyz: {@code problem} is empty while the registry may be sent requests. */
    void addReadinessCheck(Supplier<Optional<String>> problem) {
        readinessChecks.add(problem);
    }

    /** Adds a component to /healthz: {@code problem} is empty while it is fine (e.g. the event relay). */
    void addHealthCheck(String name, Supplier<Optional<String>> problem) {
        checks.put(name, problem);
    }

    public OpsRoutes(Registry registry, HttpMetrics metrics, BooleanSupplier draining) {
        this.registry = registry;
        this.metrics = metrics;
        this.draining = draining;
        metrics.gauge(
                "berth.storage.free.bytes",
                "Bytes still usable on the blob storage.",
                () -> space().map(s -> (double) s.usable()).orElse(Double.NaN));
        metrics.gauge(
                "berth.storage.total.bytes",
                "Size of the blob storage.",
                () -> space().map(s -> (double) s.total()).orElse(Double.NaN));
        metrics.gauge(
                "berth.storage.failing",
                "1 while blob storage writes fail.",
                () -> registry.storageHealth().problem().isPresent() ? 1 : 0);
        metrics.gauge(
                "berth.blobs.damaged",
                "Blobs found unreadable as recorded and not repaired since.",
                () -> registry.storageHealth().damagedBlobs().size());
    }

    private Optional<BlobStore.Space> space() {
        return registry.blobStore().space();
    }

    @Override
    public void routing(HttpRules rules) {
        route(rules, "/healthz", this::healthz);
        route(rules, "/readyz", this::readyz);
        route(rules, "/metrics", this::metrics);
    }

    private static void route(HttpRules rules, String path, Handler handler) {
        rules.route(Method.GET, path, handler).route(Method.HEAD, path, handler);
    }

    /**
     * Liveness: 200 while the process runs, whatever its dependencies do (restarting would not mend a
     * full disk). The body says what is degraded, for operators and monitoring.
     */
    private void healthz(ServerRequest req, ServerResponse res) {
        RequestLog.route(req, "/healthz");
        StringBuilder body = new StringBuilder();
        Optional<StorageHealth.Problem> problem = registry.storageHealth().problem();
        List<StorageHealth.Damage> damaged = registry.storageHealth().damagedBlobs();
        Map<String, Optional<String>> components = new LinkedHashMap<>();
        checks.forEach((name, check) -> components.put(name, check.get()));
        boolean degraded = problem.isPresent()
                || !damaged.isEmpty()
                || components.values().stream().anyMatch(Optional::isPresent);
        body.append("status: ").append(degraded ? "degraded" : "ok").append('\n');
        body.append("storage: ");
        if (problem.isPresent()) {
            body.append(problem.get().code().equals("STORAGE_FULL") ? "full" : "failing")
                    .append(" (")
                    .append(problem.get().message())
                    .append(", since ")
                    .append(Instant.ofEpochMilli(problem.get().since()))
                    .append(')');
        } else {
            body.append("ok");
        }
        space().ifPresent(s ->
                body.append("; ").append(s.usable()).append(" bytes free of ").append(s.total()));
        body.append('\n');
        if (!damaged.isEmpty()) {
            StorageHealth.Damage last = damaged.get(damaged.size() - 1);
            body.append("blobs: ")
                    .append(damaged.size())
                    .append(" damaged (unreadable as recorded; push again to ")
                    .append("repair), latest ")
                    .append(last.digest())
                    .append(": ")
                    .append(last.reason())
                    .append('\n');
        }
        components.forEach((name, p) -> body.append(name)
                .append(": ")
                .append(p.map(why -> "degraded (" + why + ")").orElse("ok"))
                .append('\n'));
        text(req, res, Status.OK_200, body.toString());
    }

    private void readyz(ServerRequest req, ServerResponse res) {
        RequestLog.route(req, "/readyz");
        if (draining.getAsBoolean()) {
            text(req, res, Status.SERVICE_UNAVAILABLE_503, "shutting down\n");
            return;
        }
        for (Supplier<Optional<String>> check : readinessChecks) {
            Optional<String> why = check.get();
            if (why.isPresent()) {
                readiness(why.get());
                text(req, res, Status.SERVICE_UNAVAILABLE_503, "not ready: " + why.get() + "\n");
                return;
            }
        }
        try {
            registry.checkReady();
            readiness(null);
            text(req, res, Status.OK_200, "ready\n");
        } catch (Exception e) {
            String why = Failures.describe(e);
            readiness(why);
            text(req, res, Status.SERVICE_UNAVAILABLE_503, "not ready: " + why + "\n");
        }
    }

    /** Logs when readiness changes (not on every probe). */
    private void readiness(String notReadyBecause) {
        String before = lastNotReady.getAndSet(notReadyBecause == null ? "" : notReadyBecause);
        if (notReadyBecause != null && before.isEmpty()) {
            LOG.log(System.Logger.Level.WARNING, "not ready: " + notReadyBecause);
        } else if (notReadyBecause == null && !before.isEmpty()) {
            LOG.log(System.Logger.Level.INFO, "ready again (was: " + before + ")");
        }
    }

    private void metrics(ServerRequest req, ServerResponse res) {
        RequestLog.route(req, "/metrics");
        res.header(HeaderNames.CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8");
        Responses.send(req, res, metrics.scrape().getBytes(StandardCharsets.UTF_8));
    }

    private static void text(ServerRequest req, ServerResponse res, Status status, String body) {
        res.status(status);
        res.header(HeaderNames.CONTENT_TYPE, "text/plain; charset=utf-8");
        Responses.send(req, res, body.getBytes(StandardCharsets.UTF_8));
    }
}
