package io.berth.http;

import io.berth.core.error.ErrorCode;
import io.helidon.http.DirectHandler;
import io.helidon.http.HeaderNames;
import io.helidon.http.ServerResponseHeaders;
import io.helidon.http.Status;
import java.util.Map;

/**
 * Answers requests Helidon rejects before any route runs (a malformed request line, a backslash in
 * the path, a URI or header section too long, bad header syntax) in the OCI error format, keeping
 * Helidon's status: {@code NAME_INVALID} when the path addresses a repository, a {@code BAD_REQUEST}
 * body otherwise. A HEAD request gets status and headers only. Each is logged with a request id and
 * the client's address; a TLS handshake on this plain-HTTP port (docker and skopeo try TLS first) is
 * answered alike — an HTTP answer the client reports as such — but logged and counted as what it is.
 */
final class RejectedRequests implements DirectHandler {
    private final RequestLog log;

    RejectedRequests(RequestLog log) {
        this.log = log;
    }

    @Override
    public TransportResponse handle(
            TransportRequest request,
            EventType eventType,
            Status status,
            ServerResponseHeaders headers,
            String message) {
        String path = request.path() == null ? "" : request.path();
        String method = request.method() == null ? "" : request.method();
        boolean keepAlive = eventType.keepAlive();
        String why = null;
        if (status.code() == 501) {
            why = "unsupported Transfer-Encoding: only chunked is accepted (as the last and only coding)";
            // Helidon's only 501 before routing is a transfer coding it does not decode: the client's
            // mistake, and its body cannot be framed, so the connection closes after the answer
            status = Status.BAD_REQUEST_400;
            keepAlive = false;
        }
        ErrorCode code = code(status, path);
        String id = RequestLog.requestId(request.headers());
        headers.set(OciHeaders.REQUEST_ID, id);
        headers.set(HeaderNames.CONTENT_TYPE, "application/json");
        if (path.startsWith("/v2")) {
            headers.set(OciHeaders.API_VERSION, "registry/2.0");
        }
        TransportResponse.Builder response =
                TransportResponse.builder().status(status).headers(headers).keepAlive(keepAlive);
        if (!"HEAD".equalsIgnoreCase(method)) {
            response.entity(OciErrors.body(code, why != null ? why : describe(code, status), Map.of()));
        }
        log.rejected(method, path, status.code(), id, ConnectionGuard.currentPeer());
        ConnectionGuard.requestDone();
        return response.build();
    }

    private static ErrorCode code(Status status, String path) {
        int s = status.code();
        if (s == 505) {
            return ErrorCode.UNSUPPORTED; // the client's HTTP version: not a server failure
        }
        if (s >= 500) {
            return ErrorCode.INTERNAL;
        }
        if (s == 413) {
            return ErrorCode.PAYLOAD_TOO_LARGE;
        }
        if (s == 400 && path.startsWith("/v2/") && path.indexOf('\\') >= 0) {
            return ErrorCode.NAME_INVALID;
        }
        return ErrorCode.BAD_REQUEST;
    }

    /** A fixed description: Helidon's own message may quote the request, so it is not echoed back. */
    private static String describe(ErrorCode code, Status status) {
        return switch (code) {
            case NAME_INVALID -> "invalid repository name: a name cannot contain a backslash";
            case UNSUPPORTED -> "HTTP version not supported: this registry serves HTTP/1.1 only (not HTTP/1.0)";
            case INTERNAL -> "internal server error";
            case PAYLOAD_TOO_LARGE -> "request body too large";
            default ->
                switch (status.code()) {
                    case 414 -> "request line or URI too long";
                    case 431 -> "request header section too large";
                    default -> "malformed request";
                };
        };
    }
}
