package io.berth.replicator;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Executors;

/**
 * An HTTP hop in front of a registry that forwards every request as it is, unless {@link Rule} answers
 * it itself or changes where it goes: a target that refuses mounts, or fails one upload.
 */
final class Interposer implements AutoCloseable {
    /** What to do with one request before it is forwarded. */
    interface Rule {
        /**
         * The path and query to forward to, or null when the rule has answered the request itself.
         */
        String apply(HttpExchange x, String pathAndQuery) throws IOException;
    }

    private static final Set<String> NOT_FORWARDED =
            Set.of("host", "content-length", "connection", "expect", "upgrade", "transfer-encoding", "date");

    private final HttpServer server;
    private final HttpClient http = HttpClient.newHttpClient();
    private final String behind;

    Interposer(URI registry, Rule rule) throws IOException {
        this.behind = registry.toString().replaceAll("/+$", "");
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.setExecutor(Executors.newCachedThreadPool());
        server.createContext("/", x -> {
            try {
                String pathAndQuery = x.getRequestURI().getRawPath()
                        + (x.getRequestURI().getRawQuery() == null
                                ? ""
                                : "?" + x.getRequestURI().getRawQuery());
                String to = rule.apply(x, pathAndQuery);
                if (to != null) {
                    forward(x, to);
                }
            } catch (IOException | RuntimeException e) {
                try {
                    x.sendResponseHeaders(502, -1);
                } catch (IOException | RuntimeException again) {
                    // the answer had begun
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } finally {
                x.close();
            }
        });
        server.start();
    }

    URI uri() {
        return URI.create("http://127.0.0.1:" + server.getAddress().getPort() + "/");
    }

    private void forward(HttpExchange x, String pathAndQuery) throws IOException, InterruptedException {
        byte[] body;
        try (InputStream in = x.getRequestBody()) {
            body = in.readAllBytes();
        }
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(behind + pathAndQuery))
                .method(
                        x.getRequestMethod(),
                        body.length == 0
                                ? HttpRequest.BodyPublishers.noBody()
                                : HttpRequest.BodyPublishers.ofByteArray(body));
        for (Map.Entry<String, List<String>> h : x.getRequestHeaders().entrySet()) {
            if (!NOT_FORWARDED.contains(h.getKey().toLowerCase())) {
                h.getValue().forEach(v -> b.header(h.getKey(), v));
            }
        }
        HttpResponse<byte[]> r = http.send(b.build(), HttpResponse.BodyHandlers.ofByteArray());
        r.headers().map().forEach((name, values) -> {
            if (!NOT_FORWARDED.contains(name.toLowerCase()) && !name.startsWith(":")) {
                // the registry's own address in a Location becomes this hop's
                values.forEach(v -> x.getResponseHeaders()
                        .add(name, v.replace(behind, uri().toString().replaceAll("/$", ""))));
            }
        });
        boolean head = x.getRequestMethod().equals("HEAD");
        r.headers()
                .firstValue("Content-Length")
                .filter(v -> head)
                .ifPresent(v -> x.getResponseHeaders().set("Content-Length", v));
        x.sendResponseHeaders(r.statusCode(), head || r.body().length == 0 ? -1 : r.body().length);
        if (!head && r.body().length > 0) {
            try (OutputStream out = x.getResponseBody()) {
                out.write(r.body());
            }
        }
    }

    /** Answers {@code status} with an OCI error body. */
    static void answer(HttpExchange x, int status, String code) throws IOException {
        byte[] b = ("{\"errors\":[{\"code\":\"" + code + "\",\"message\":\"interposed\"}]}").getBytes();
        x.getResponseHeaders().set("Content-Type", "application/json");
        x.sendResponseHeaders(status, b.length);
        try (OutputStream out = x.getResponseBody()) {
            out.write(b);
        }
    }

    @Override
    public void close() {
        server.stop(0);
        http.close();
    }
}
