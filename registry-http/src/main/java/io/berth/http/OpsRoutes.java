package io.berth.http;

import io.berth.core.registry.Registry;
import io.helidon.http.HeaderNames;
import io.helidon.http.Status;
import io.helidon.webserver.http.HttpRules;
import io.helidon.webserver.http.HttpService;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;
import java.nio.charset.StandardCharsets;
import java.util.function.BooleanSupplier;

/** Operations endpoints outside /v2: {@code /healthz}, {@code /readyz}, {@code /metrics}. */
public final class OpsRoutes implements HttpService {
    private final Registry registry;
    private final HttpMetrics metrics;
    private final BooleanSupplier draining;

    public OpsRoutes(Registry registry, HttpMetrics metrics, BooleanSupplier draining) {
        this.registry = registry;
        this.metrics = metrics;
        this.draining = draining;
    }

    @Override
    public void routing(HttpRules rules) {
        rules.get("/healthz", this::healthz)
                .get("/readyz", this::readyz)
                .get("/metrics", this::metrics);
    }

    private void healthz(ServerRequest req, ServerResponse res) {
        RequestLog.route(req, "/healthz");
        text(res, Status.OK_200, "ok\n");
    }

    private void readyz(ServerRequest req, ServerResponse res) {
        RequestLog.route(req, "/readyz");
        if (draining.getAsBoolean()) {
            text(res, Status.SERVICE_UNAVAILABLE_503, "shutting down\n");
            return;
        }
        try {
            registry.checkReady();
            text(res, Status.OK_200, "ready\n");
        } catch (Exception e) {
            text(res, Status.SERVICE_UNAVAILABLE_503, "not ready: storage or metadata unavailable\n");
        }
    }

    private void metrics(ServerRequest req, ServerResponse res) {
        RequestLog.route(req, "/metrics");
        res.header(HeaderNames.CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8");
        res.send(metrics.scrape().getBytes(StandardCharsets.UTF_8));
    }

    private static void text(ServerResponse res, Status status, String body) {
        res.status(status);
        res.header(HeaderNames.CONTENT_TYPE, "text/plain; charset=utf-8");
        res.send(body.getBytes(StandardCharsets.UTF_8));
    }
}
