package io.berth.http;

import io.helidon.http.HeaderValues;
import io.helidon.http.Headers;
import io.helidon.webserver.CloseConnectionException;
import io.helidon.webserver.http.Filter;
import io.helidon.webserver.http.FilterChain;
import io.helidon.webserver.http.RoutingRequest;
import io.helidon.webserver.http.RoutingResponse;
import io.helidon.webserver.http.ServerRequest;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Pattern;

/**
 * Wraps every request: assigns the request id ({@code X-Request-Id} from the client when sane, else
 * generated) and echoes it, counts requests in flight (for graceful shutdown), records metrics by
 * route, and writes one access-log line. Requests the HTTP layer rejects before routing are logged
 * through {@link #rejected}.
 */
public final class RequestLog implements Filter {
    private static final Logger ACCESS = System.getLogger("berth.access");
    private static final Pattern SANE_ID = Pattern.compile("[A-Za-z0-9._:-]{1,128}");
    /** Methods recorded by name in metrics; any other token a client sends is {@code other}. */
    private static final Set<String> KNOWN_METHODS = Set.of("GET", "HEAD", "PUT", "POST", "PATCH", "DELETE",
            "OPTIONS");
    /** nginx's status for a request the client abandoned: never counted as a server error. */
    static final int CLIENT_CLOSED = 499;

    /** Per-request facts the handlers fill in for the log and metrics. */
    static final class Info {
        final String id;
        volatile String route = "unmatched";
        volatile boolean clientAborted;
        volatile String serverAborted;

        Info(String id) {
            this.id = id;
        }
    }

    private final HttpMetrics metrics;
    private final boolean accessLog;
    private final AtomicInteger inFlight = new AtomicInteger();

    public RequestLog(HttpMetrics metrics, boolean accessLog) {
        this.metrics = metrics;
        this.accessLog = accessLog;
    }

    /** Names the route template a request matched (for metrics labels). */
    static void route(ServerRequest req, String template) {
        req.context().get(Info.class).ifPresent(i -> i.route = template);
    }

    /** Marks a request whose client went away: logged and counted as {@link #CLIENT_CLOSED}. */
    static void clientAborted(ServerRequest req) {
        req.context().get(Info.class).ifPresent(i -> i.clientAborted = true);
    }

    /** Marks a response the server cut off after its headers went out (counted as a 500). */
    static void aborted(ServerRequest req, String why) {
        req.context().get(Info.class).ifPresent(i -> i.serverAborted = why);
    }

    /** The request's id, for log lines about it. */
    static String id(ServerRequest req) {
        return req.context().get(Info.class).map(i -> i.id).orElse("-");
    }

    /** The client's {@code X-Request-Id} when it is sane, else a new id. */
    static String requestId(Headers headers) {
        return headers.first(OciHeaders.REQUEST_ID).filter(v -> SANE_ID.matcher(v).matches())
                .orElseGet(() -> UUID.randomUUID().toString());
    }

    static String metricMethod(String method) {
        return KNOWN_METHODS.contains(method) ? method : "other";
    }

    public int inFlight() {
        return inFlight.get();
    }

    @Override
    public void filter(FilterChain chain, RoutingRequest req, RoutingResponse res) {
        long start = System.nanoTime();
        Info info = new Info(requestId(req.headers()));
        res.header(OciHeaders.REQUEST_ID, info.id);
        req.context().register(info);
        inFlight.incrementAndGet();
        try {
            chain.proceed();
            if (res.isSent() && res.headers().containsToken(HeaderValues.CONNECTION_CLOSE)) {
                // Helidon 4.5 writes the header but keeps reading the connection: end it as the answer says
                throw new CloseConnectionException("response announced Connection: close");
            }
        } finally {
            inFlight.decrementAndGet();
            int status = info.clientAborted ? CLIENT_CLOSED : info.serverAborted != null ? 500 : res.status().code();
            record(req.prologue().method().text(), req.path().absolute().rawPath(), info.route, status,
                    res.bytesWritten(), System.nanoTime() - start,
                    info.serverAborted == null ? info.id : info.id + " aborted=" + info.serverAborted.replace(' ', '-'));
        }
    }

    /** Logs and counts a request the HTTP layer answered before routing (malformed, too long). */
    void rejected(String method, String path, int status, String id) {
        record(method == null || method.isEmpty() ? "-" : method, path == null || path.isEmpty() ? "-" : path,
                "rejected", status, 0, 0, id);
    }

    private void record(String method, String path, String route, int status, long bytes, long nanos, String id) {
        metrics.request(route, metricMethod(method), status, nanos);
        if (accessLog) {
            ACCESS.log(Level.INFO, () -> String.format("%s %s %d %d %.1fms id=%s", method, path, status, bytes,
                    nanos / 1e6, id));
        }
    }
}
