package io.berth.testsupport;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;

/**
 * A registry that misbehaves: a real HTTP server in front of a real registry (or of nothing), whose
 * {@link Rule}s answer some requests their own way and pass the rest through unchanged. Every request
 * it sees is recorded (method, path and query, and its Authorization header) for the test to check.
 */
public final class HostileRegistry implements AutoCloseable {
    /** Answers a request itself (true), or leaves it to the next rule and then to the registry behind. */
    @FunctionalInterface
    public interface Rule {
        boolean answer(HttpExchange x) throws IOException;
    }

    /** A request as it arrived. */
    public record Seen(String method, String uri, String authorization) {}

    private final HttpServer server;
    private volatile URI behind;
    private final HttpClient http =
            HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NEVER).build();
    public final List<Rule> rules = new CopyOnWriteArrayList<>();
    public final List<Seen> seen = new CopyOnWriteArrayList<>();

    /** In front of {@code behind} (null: nothing behind, every unanswered request is a 404). */
    public HostileRegistry(String host, URI behind) throws IOException {
        this.behind = behind;
        server = HttpServer.create(new InetSocketAddress(host, 0), 64);
        server.setExecutor(
                Executors.newCachedThreadPool(r -> Thread.ofPlatform().daemon().unstarted(r)));
        server.createContext("/", x -> {
            try (x) {
                seen.add(new Seen(
                        x.getRequestMethod(),
                        x.getRequestURI().toString(),
                        x.getRequestHeaders().getFirst("Authorization")));
                for (Rule r : rules) {
                    if (r.answer(x)) {
                        return;
                    }
                }
                pass(x);
            } catch (IOException | RuntimeException e) {
                // the client went away: a hostile server does not care
            }
        });
        server.start();
    }

    public HostileRegistry(URI behind) throws IOException {
        this("127.0.0.1", behind);
    }

    public URI uri() {
        return URI.create("http://" + server.getAddress().getHostString() + ":"
                + server.getAddress().getPort() + "/");
    }

    public int port() {
        return server.getAddress().getPort();
    }

    public HostileRegistry rule(Rule r) {
        rules.add(r);
        return this;
    }

    /** Requests whose path starts with {@code prefix}. */
    public List<Seen> seen(String prefix) {
        return seen.stream().filter(s -> s.uri().startsWith(prefix)).toList();
    }

    public static void answer(HttpExchange x, int status, String type, byte[] body, String... headers)
            throws IOException {
        if (type != null) {
            x.getResponseHeaders().set("Content-Type", type);
        }
        for (int i = 0; i + 1 < headers.length; i += 2) {
            x.getResponseHeaders().add(headers[i], headers[i + 1]);
        }
        boolean head = x.getRequestMethod().equals("HEAD");
        x.sendResponseHeaders(status, head || body.length == 0 ? -1 : body.length);
        if (!head && body.length > 0) {
            x.getResponseBody().write(body);
        }
    }

    /** Passes the request to the registry behind and its answer back, headers and body unchanged. */
    public void pass(HttpExchange x) throws IOException {
        URI behind = this.behind;
        if (behind == null) {
            answer(x, 404, "text/html", "<html>default backend - 404</html>".getBytes());
            return;
        }
        HttpRequest.Builder b =
                HttpRequest.newBuilder(behind.resolve(x.getRequestURI().toString()));
        for (String h : List.of("Accept", "Authorization", "Range", "Content-Type", "Content-Range")) {
            Optional.ofNullable(x.getRequestHeaders().getFirst(h)).ifPresent(v -> b.header(h, v));
        }
        byte[] body = x.getRequestBody().readAllBytes();
        b.method(
                x.getRequestMethod(),
                body.length == 0 ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofByteArray(body));
        HttpResponse<InputStream> r;
        try {
            r = http.send(b.build(), HttpResponse.BodyHandlers.ofInputStream());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException(e);
        }
        r.headers().map().forEach((k, v) -> {
            if (!List.of("content-length", "transfer-encoding", "connection", ":status")
                    .contains(k.toLowerCase())) {
                v.forEach(value -> x.getResponseHeaders()
                        .add(
                                k,
                                value.replace(
                                        behind.getAuthority(),
                                        server.getAddress().getHostString() + ":"
                                                + server.getAddress().getPort())));
            }
        });
        long length = r.headers().firstValueAsLong("Content-Length").orElse(-1);
        boolean head = x.getRequestMethod().equals("HEAD");
        try (InputStream in = r.body()) {
            x.sendResponseHeaders(r.statusCode(), head || length == 0 ? -1 : length < 0 ? 0 : length);
            if (!head) {
                OutputStream out = x.getResponseBody();
                in.transferTo(out);
            }
        }
    }

    /** What stands behind from now on (null: nothing, every unanswered request is a 404). */
    public void behind(URI behind) {
        this.behind = behind;
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
