package io.berth.http;

import io.berth.core.logging.AccessRecord;
import io.berth.core.logging.LogContext;
import io.berth.core.logging.Redaction;
import io.berth.http.helidon.HelidonFastPaths;
import io.helidon.http.HeaderNames;
import io.helidon.http.HeaderValues;
import io.helidon.http.Headers;
import io.helidon.webserver.CloseConnectionException;
import io.helidon.webserver.http.Filter;
import io.helidon.webserver.http.FilterChain;
import io.helidon.webserver.http.RoutingRequest;
import io.helidon.webserver.http.RoutingResponse;
import io.helidon.webserver.http.ServerRequest;
import io.micrometer.core.instrument.Counter;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.logging.Level;
import java.util.logging.Logger;
import java.util.regex.Pattern;

/**
 * Wraps every request: assigns the request id ({@code X-Request-Id} from the client when sane, else
 * generated) and echoes it, counts requests in flight (for graceful shutdown), records metrics by
 * route, and writes one access-log line. Requests the HTTP layer rejects before routing are logged
 * through {@link #rejected}.
 */
public final class RequestLog implements Filter {
    /** JDK logging directly: the access record travels as the log record's parameter (see LogFormat). */
    private static final Logger ACCESS = Logger.getLogger("berth.access");

    private static final Pattern SANE_ID = Pattern.compile("[A-Za-z0-9._:-]{1,128}");
    /** Methods recorded by name in metrics; any other token a client sends is {@code other}. */
    private static final Set<String> KNOWN_METHODS = Set.of("GET", "HEAD", "PUT", "POST", "PATCH", "DELETE", "OPTIONS");
    /** nginx's status for a request the client abandoned: never counted as a server error. */
    static final int CLIENT_CLOSED = 499;

    /** Per-request facts the handlers fill in for the log and metrics. */
    static final class Info {
        final String id;
        final AtomicLong bodyBytes = new AtomicLong();
        volatile String route = "unmatched";
        volatile boolean clientAborted;
        volatile String serverAborted;
        volatile InputStream body;
        final HelidonFastPaths fastPaths;

        Info(String id, HelidonFastPaths fastPaths) {
            this.id = id;
            this.fastPaths = fastPaths;
        }
    }

    /** Query parameters whose values are secrets: never written to the log. */
    private static final Pattern SECRET_PARAM = Pattern.compile(
            "(?i)([?&][^=&]*(?:token|password|passwd|secret|signature|credential|sig|key)[^=&]*=)[^&]*");

    /**
     * The path and query of a request as the log shows it, secrets redacted: values of parameters
     * named like secrets, and anything that looks like a credential wherever it appears (a robot
     * secret in a path segment or an oddly named parameter, {@link Redaction}).
     */
    static String loggedPath(String rawPath, String rawQuery) {
        String full = rawQuery == null || rawQuery.isEmpty() ? rawPath : rawPath + "?" + rawQuery;
        return Redaction.redact(SECRET_PARAM.matcher(full).replaceAll("$1REDACTED"));
    }

    /** The counter request bodies add their bytes to (for the access log). */
    static AtomicLong bodyCounter(ServerRequest req) {
        return req.context().get(Info.class).map(i -> i.bodyBytes).orElseGet(AtomicLong::new);
    }

    /** The fast paths of the server {@code req} arrived at; all off for a request that did not pass the log. */
    static HelidonFastPaths fastPaths(ServerRequest req) {
        return req.context().get(Info.class).map(i -> i.fastPaths).orElse(HelidonFastPaths.OFF);
    }

    /** What a lingering close reads at most before it gives up on the client reading the answer. */
    static final long LINGER_BYTES = 64L << 20;

    static final long LINGER_NANOS = 5_000_000_000L;

    private final HttpMetrics metrics;
    private final boolean accessLog;
    private final HelidonFastPaths fastPaths;
    private final AtomicInteger inFlight = new AtomicInteger();
    private final Counter tlsOnPlainPort;

    /** @param fastPaths Helidon's internals the server may use (the requests' handlers get them from here) */
    public RequestLog(HttpMetrics metrics, boolean accessLog, HelidonFastPaths fastPaths) {
        this.metrics = metrics;
        this.accessLog = accessLog;
        this.fastPaths = fastPaths;
        this.tlsOnPlainPort = Counter.builder("berth.http.tls.on.plain.port")
                .description("Connections that began with a TLS handshake on this plain-HTTP listener (docker and "
                        + "skopeo try TLS first; each was answered 400 and closed).")
                .register(metrics.registry());
    }

    /** Stops the lingering-read watchdog (at shutdown). */
    void close() {
        lingerWatchdog.close();
    }

    /** Lingering reads stop when the client sends nothing for this long. */
    private final BodyWatchdog lingerWatchdog = new BodyWatchdog(Duration.ofSeconds(1));

    /** Registers the raw body stream a handler reads, so that a lingering close can go on reading it. */
    static void bodyStream(ServerRequest req, InputStream body) {
        req.context().get(Info.class).ifPresent(i -> i.body = body);
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
        return headers.first(OciHeaders.REQUEST_ID)
                .filter(v -> SANE_ID.matcher(v).matches())
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
        fastPaths.releaseConsumed(req); // the earlier requests of this connection are garbage now
        Info info = new Info(requestId(req.headers()), fastPaths);
        res.header(OciHeaders.REQUEST_ID, info.id);
        req.context().register(info);
        LogContext.requestId(info.id);
        inFlight.incrementAndGet();
        try {
            chain.proceed();
            if (res.isSent() && res.headers().containsToken(HeaderValues.CONNECTION_CLOSE)) {
                // Helidon 4.5 writes the header but keeps reading the connection: end it as the answer says,
                // after a lingering read of the unread body so that a client still sending sees the answer
                // instead of a reset (as nginx's lingering close)
                linger(req, info);
                throw new CloseConnectionException("response announced Connection: close");
            }
        } finally {
            inFlight.decrementAndGet();
            LogContext.clear();
            int status = info.clientAborted
                    ? CLIENT_CLOSED
                    : info.serverAborted != null ? 500 : res.status().code();
            String method = req.prologue().method().text();
            record(
                    info.route,
                    status,
                    System.nanoTime() - start,
                    new AccessRecord(
                            method,
                            loggedPath(
                                    req.path().absolute().rawPath(), req.query().rawValue()),
                            status,
                            info.bodyBytes.get(),
                            responseBodyBytes(method, res),
                            0,
                            client(req),
                            user(req),
                            req.headers().first(HeaderNames.USER_AGENT).orElse("-"),
                            info.id,
                            info.serverAborted == null ? "" : "aborted=" + info.serverAborted.replace(' ', '-')));
            ConnectionGuard.requestDone(); // the connection now waits for its next request
        }
    }

    private void linger(RoutingRequest req, Info info) {
        try {
            InputStream raw = info.body;
            if (raw == null) {
                if (!req.content().hasEntity() || req.content().consumed()) {
                    return;
                }
                raw = req.content().inputStream();
            }
            InputStream in = new RequestBody(raw, info.bodyBytes, lingerWatchdog);
            byte[] sink = new byte[64 * 1024];
            long read = 0;
            long deadline = System.nanoTime() + LINGER_NANOS;
            int n;
            while (read < LINGER_BYTES && System.nanoTime() < deadline && (n = in.read(sink)) >= 0) {
                read += n;
            }
        } catch (IOException | RuntimeException gone) {
            // the client stopped sending or went away: nothing more to wait for
        }
    }

    /** Body bytes of a response: what Content-Length announced, none for HEAD, 204 and 304. */
    private static long responseBodyBytes(String method, RoutingResponse res) {
        int status = res.status().code();
        if ("HEAD".equals(method) || status == 204 || status == 304) {
            return 0;
        }
        return res.headers().contentLength().orElse(Math.max(0, res.bytesWritten()));
    }

    /** Who the access gate let in, when access control is on and they were not anonymous. */
    private static String user(ServerRequest req) {
        Access access = Access.of(req);
        return access == null ? "" : access.principal().subject();
    }

    static String client(ServerRequest req) {
        return req.remotePeer().address() instanceof InetSocketAddress a && a.getAddress() != null
                ? a.getAddress().getHostAddress()
                : String.valueOf(req.remotePeer().address());
    }

    /**
     * Logs and counts a request the HTTP layer answered before routing (malformed, too long), from the
     * client at {@code peer}'s address. A TLS handshake on this plain port is no malformed request: it
     * is logged as {@code tls-handshake-on-plain-port} and counted in
     * {@code berth_http_tls_on_plain_port_total}, not among the requests (a 400 each docker push would
     * add to what operators alert on).
     */
    void rejected(String method, String path, int status, String id, Optional<ConnectionGuard.Peer> peer) {
        String client = peer.map(ConnectionGuard.Peer::address).orElse("-");
        if (peer.isPresent() && peer.get().tlsHandshake()) {
            tlsOnPlainPort.increment();
            if (accessLog) {
                ACCESS.log(
                        Level.INFO,
                        "{0}",
                        new AccessRecord(
                                "-", "-", status, 0, 0, 0, client, "", "-", id, "tls-handshake-on-plain-port"));
            }
            return;
        }
        String m = method == null || method.isEmpty() ? "-" : method;
        String p = path == null || path.isEmpty()
                ? "-"
                : loggedPath(path.length() > 300 ? path.substring(0, 300) + "…" : path, null);
        record(
                "rejected",
                status,
                0,
                new AccessRecord(m, p, status, 0, 0, 0, client, "", "-", id, "rejected-before-routing"));
    }

    private void record(String route, int status, long nanos, AccessRecord access) {
        metrics.request(route, metricMethod(access.method()), status, nanos);
        if (accessLog) {
            AccessRecord timed = new AccessRecord(
                    access.method(),
                    access.path(),
                    access.status(),
                    access.requestBytes(),
                    access.responseBytes(),
                    nanos / 1e6,
                    access.client(),
                    access.user(),
                    access.userAgent(),
                    access.requestId(),
                    access.note());
            ACCESS.log(Level.INFO, "{0}", timed);
        }
    }
}
