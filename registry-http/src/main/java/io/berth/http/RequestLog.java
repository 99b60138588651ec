package io.berth.http;

import io.helidon.webserver.http.Filter;
import io.helidon.webserver.http.FilterChain;
import io.helidon.webserver.http.RoutingRequest;
import io.helidon.webserver.http.RoutingResponse;
import io.helidon.webserver.http.ServerRequest;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Pattern;

/**
 * Wraps every request: assigns the request id ({@code X-Request-Id} from the client when sane, else
 * generated) and echoes it, counts requests in flight (for graceful shutdown), records metrics by
 * route, and writes one access-log line.
 */
public final class RequestLog implements Filter {
    private static final Logger ACCESS = System.getLogger("berth.access");
    private static final Pattern SANE_ID = Pattern.compile("[A-Za-z0-9._:-]{1,128}");

    /** Per-request facts the handlers fill in for the log and metrics. */
    static final class Info {
        volatile String route = "unmatched";
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

    public int inFlight() {
        return inFlight.get();
    }

    @Override
    public void filter(FilterChain chain, RoutingRequest req, RoutingResponse res) {
        long start = System.nanoTime();
        String id = req.headers().first(OciHeaders.REQUEST_ID).filter(v -> SANE_ID.matcher(v).matches())
                .orElseGet(() -> UUID.randomUUID().toString());
        res.header(OciHeaders.REQUEST_ID, id);
        Info info = new Info();
        req.context().register(info);
        inFlight.incrementAndGet();
        try {
            chain.proceed();
        } finally {
            inFlight.decrementAndGet();
            long nanos = System.nanoTime() - start;
            int status = res.status().code();
            String method = req.prologue().method().text();
            metrics.request(info.route, method, status, nanos);
            if (accessLog) {
                ACCESS.log(Level.INFO, () -> String.format("%s %s %d %d %.1fms id=%s", method,
                        req.path().absolute().rawPath(), status, res.bytesWritten(), nanos / 1e6, id));
            }
        }
    }
}
