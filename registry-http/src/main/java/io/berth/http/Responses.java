package io.berth.http;

import io.helidon.http.HeaderNames;
import io.helidon.http.Method;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;

/**
 * The one way a handler sends a body it holds in memory. A response to HEAD never carries body bytes
 * (RFC 9110 §9.3.2): it keeps status and headers and announces in {@code Content-Length} the size a
 * GET would have returned. Helidon 4.5 writes whatever it is given, so this is where HEAD is honoured.
 */
final class Responses {
    private Responses() {
    }

    static boolean isHead(ServerRequest req) {
        return req.prologue().method() == Method.HEAD;
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
