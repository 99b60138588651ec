package io.berth.http;

import io.helidon.http.HeaderNames;
import io.helidon.http.Method;
import io.helidon.http.Status;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;
import java.util.Optional;

/**
 * The one way a handler sends a body it holds in memory. A response to HEAD never carries body bytes
 * (RFC 9110 §9.3.2): it keeps status and headers and announces in {@code Content-Length} the size a
 * GET would have returned. Helidon 4.5 writes whatever it is given, so this is where HEAD is honoured.
 */
final class Responses {
    private Responses() {}

    static boolean isHead(ServerRequest req) {
        return req.prologue().method() == Method.HEAD;
    }

    /**
     * Answers 304 Not Modified (no body) when the request's {@code If-None-Match} names
     * {@code etag} (or is {@code *}); the caller has set the validator headers already.
     *
     * @return whether the response was sent
     */
    static boolean notModified(ServerRequest req, ServerResponse res, String etag) {
        Optional<String> header = req.headers().first(HeaderNames.IF_NONE_MATCH);
        if (header.isEmpty()) {
            return false;
        }
        for (String candidate : header.get().split(",")) {
            String c = candidate.trim();
            if (c.startsWith("W/")) {
                c = c.substring(2);
            }
            if (c.equals("*") || c.equals(etag)) {
                res.headers().remove(HeaderNames.CONTENT_LENGTH);
                res.status(Status.NOT_MODIFIED_304);
                res.send();
                return true;
            }
        }
        return false;
    }

    static void send(ServerRequest req, ServerResponse res, byte[] body) {
        if (isHead(req)) {
            res.header(HeaderNames.CONTENT_LENGTH, Integer.toString(body.length));
            res.send();
        } else {
            res.send(body);
        }
    }
}
