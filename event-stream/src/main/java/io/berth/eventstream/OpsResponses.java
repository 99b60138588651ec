package io.berth.eventstream;

import com.sun.net.httpserver.HttpExchange;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;

/**
 * Answers of the small operations listeners of the event consumers ({@code /healthz}, {@code /metrics},
 * {@code /status} of {@code berth webhooks} and {@code berth replicate}): a text body, none to HEAD.
 */
public final class OpsResponses {
    private OpsResponses() {}

    public static void send(HttpExchange x, int status, String type, String body) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        x.getResponseHeaders().set("Content-Type", type);
        boolean head = "HEAD".equals(x.getRequestMethod());
        x.sendResponseHeaders(status, head ? -1 : bytes.length);
        if (!head) {
            try (OutputStream out = x.getResponseBody()) {
                out.write(bytes);
            }
        }
        x.close();
    }
}
