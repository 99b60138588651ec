package io.berth.http;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.berth.core.error.ErrorCode;
import io.berth.core.error.RegistryException;
import io.berth.core.registry.UploadRangeException;
import io.helidon.http.HeaderNames;
import io.helidon.http.Status;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** The one place that turns error codes into HTTP statuses and OCI error bodies. */
public final class OciErrors {
    private static final ObjectMapper JSON = new ObjectMapper();
    /** Seconds a client is asked to wait before retrying a request the server could not serve now. */
    static final String RETRY_AFTER_SECONDS = "10";
    /**
     * Unread request bodies up to this size are drained, so that the client keeps its connection;
     * larger (or chunked) ones get {@code Connection: close} and a lingering close (see RequestLog).
     */
    static final long DRAIN_LIMIT = 1L << 20;

    private OciErrors() {}

    /** The HTTP status of each code, as the distribution spec gives it. */
    public static int status(ErrorCode code) {
        return switch (code) {
            case BLOB_UNKNOWN, BLOB_UPLOAD_UNKNOWN, MANIFEST_UNKNOWN, NAME_UNKNOWN, ROUTE_UNKNOWN -> 404;
            case BLOB_UPLOAD_INVALID,
                    DIGEST_INVALID,
                    MANIFEST_BLOB_UNKNOWN,
                    MANIFEST_INVALID,
                    NAME_INVALID,
                    SIZE_INVALID,
                    PAGINATION_NUMBER_INVALID,
                    BAD_REQUEST -> 400;
            case PAYLOAD_TOO_LARGE -> 413;
            case RANGE_INVALID -> 416;
            case UNAUTHORIZED -> 401;
            case DENIED -> 403;
            case UNSUPPORTED -> 405;
            case REFERENCED, IMMUTABLE, FAILED_PRECONDITION -> 409;
            case NOT_FOUND -> 404;
            case INVALID_ARGUMENT -> 400;
            case TOOMANYREQUESTS -> 429;
            case STORAGE_FULL -> 507;
            case STORAGE_UNAVAILABLE, UPSTREAM_UNAVAILABLE -> 503;
            case UPSTREAM_FAILED -> 502;
            case INTERNAL -> 500;
        };
    }

    /** Whether a client should retry later: such answers carry {@code Retry-After}. */
    static boolean retryLater(ErrorCode code) {
        return code == ErrorCode.STORAGE_FULL
                || code == ErrorCode.STORAGE_UNAVAILABLE
                || code == ErrorCode.UPSTREAM_UNAVAILABLE
                || code == ErrorCode.TOOMANYREQUESTS;
    }

    /** Writes {@code {"errors":[{code,message,detail}]}} with the code's status (no body to HEAD). */
    public static void send(ServerRequest req, ServerResponse res, RegistryException e) {
        if (res.isSent()) {
            return;
        }
        res.status(Status.create(status(e.code())));
        if (e instanceof UploadRangeException r) {
            res.header(OciHeaders.RANGE, OciHeaders.range(r.currentSize()));
            res.header(OciHeaders.UPLOAD_UUID, r.uploadId().value());
            res.header(HeaderNames.LOCATION, "/v2/" + r.repository() + "/blobs/uploads/" + r.uploadId());
        }
        sendBody(req, res, e.code(), e.getMessage(), e.detail());
    }

    public static void send(ServerRequest req, ServerResponse res, ErrorCode code, String message) {
        if (res.isSent()) {
            return;
        }
        res.status(Status.create(status(code)));
        sendBody(req, res, code, message, Map.of());
    }

    private static void sendBody(
            ServerRequest req, ServerResponse res, ErrorCode code, String message, Map<String, Object> detail) {
        // a handler may have announced its own entity before failing
        res.headers().remove(HeaderNames.CONTENT_LENGTH);
        res.headers().remove(HeaderNames.CONTENT_RANGE);
        res.headers().remove(HeaderNames.TRANSFER_ENCODING);
        res.headers().remove(HeaderNames.ETAG);
        // nor its X-Berth-Cache: a fill that failed before its first byte had already set "miss"
        res.headers().remove(OciHeaders.BERTH_CACHE);
        res.header(HeaderNames.CONTENT_TYPE, "application/json");
        if (req.content().hasEntity()
                && !req.content().consumed()
                && req.headers().contentLength().orElse(Long.MAX_VALUE) > DRAIN_LIMIT) {
            // refused before a large (or chunked) body was read, e.g. a 429: close rather than drain gigabytes
            res.header(HeaderNames.CONNECTION, "close");
        }
        if (retryLater(code) && !res.headers().contains(HeaderNames.RETRY_AFTER)) {
            // an upstream's own Retry-After (a pull-through cache passing on a 429) wins over ours
            Object upstream = detail.get(RegistryException.RETRY_AFTER);
            res.header(
                    HeaderNames.RETRY_AFTER,
                    upstream instanceof Number seconds ? Long.toString(seconds.longValue()) : RETRY_AFTER_SECONDS);
        }
        Responses.send(req, res, body(code, message, detail));
    }

    /** The JSON error body of one code. */
    static byte[] body(ErrorCode code, String message, Map<String, Object> detail) {
        Map<String, Object> error = new LinkedHashMap<>();
        error.put("code", code.wireCode());
        error.put("message", message == null ? code.message() : message);
        error.put("detail", detail.isEmpty() ? null : detail);
        try {
            return JSON.writeValueAsBytes(Map.of("errors", List.of(error)));
        } catch (JsonProcessingException ex) {
            return ("{\"errors\":[{\"code\":\"" + code.wireCode() + "\"}]}").getBytes(StandardCharsets.UTF_8);
        }
    }
}
