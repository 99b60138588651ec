package io.berth.oci;

import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.berth.core.model.RepositoryName;
import io.berth.core.model.Tag;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The bearer tokens a client keeps, one per repository scope: a pull-through cache asks for whatever
 * names its clients send, so they must not pile up for good.
 */
class TokenCacheTest {
    HttpServer server;
    final AtomicInteger tokens = new AtomicInteger();

    @BeforeEach
    void start() throws IOException {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        String realm = "http://127.0.0.1:" + server.getAddress().getPort() + "/token";
        server.createContext("/token", x -> answer(x, 200, "{\"token\":\"t" + tokens.incrementAndGet() + "\"}"));
        server.createContext("/v2/", x -> {
            if (x.getRequestHeaders().getFirst("Authorization") == null) {
                x.getResponseHeaders().add("WWW-Authenticate", "Bearer realm=\"" + realm + "\",service=\"test\"");
                answer(x, 401, "{}");
            } else {
                answer(x, 404, "{}");
            }
        });
        server.start();
    }

    @AfterEach
    void stop() {
        server.stop(0);
    }

    private static void answer(HttpExchange x, int status, String body) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        x.sendResponseHeaders(status, bytes.length);
        x.getResponseBody().write(bytes);
        x.close();
    }

    @Test
    void tokensOfManyRepositoriesAreBounded() throws IOException {
        OciClient client = new OciClient(
                URI.create("http://127.0.0.1:" + server.getAddress().getPort()),
                null,
                null,
                null,
                Duration.ofSeconds(5));
        int names = OciClient.MAX_TOKENS + 50;
        for (int i = 0; i < names; i++) {
            client.manifestDigest(RepositoryName.of("library/r" + i), new Tag("latest"));
        }
        assertTrue(tokens.get() >= names, "a token per repository: " + tokens.get());
        assertTrue(
                client.tokensHeld() <= OciClient.MAX_TOKENS,
                "tokens held: " + client.tokensHeld() + ", one per name any client asked for");
    }
}
