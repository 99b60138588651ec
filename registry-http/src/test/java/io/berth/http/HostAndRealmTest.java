package io.berth.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.security.crypto.bcrypt.BCrypt;

/**
 * The Host header never decides where clients send credentials: the token realm comes from
 * {@code http.public-url} (https behind a TLS proxy) or the address the connection reached; and a
 * registry without access control on loopback serves only loopback names (DNS rebinding), unless
 * {@code http.allowed-hosts} says otherwise.
 */
class HostAndRealmTest {
    @TempDir
    Path dir;

    static String request(TestRegistry r, String path, String host) throws Exception {
        return r.raw("GET " + path + " HTTP/1.1\r\nHost: " + host + "\r\nConnection: close\r\n\r\n");
    }

    static String status(String response) {
        return response.substring(9, 12);
    }

    static String header(String response, String name) {
        return response.lines()
                .filter(l -> l.regionMatches(true, 0, name + ":", 0, name.length() + 1))
                .map(l -> l.substring(name.length() + 1).trim())
                .findFirst()
                .orElse("");
    }

    Map<String, String> token(String... more) throws Exception {
        Path users = dir.resolve("htpasswd");
        Files.writeString(
                users, "alice:" + BCrypt.hashpw("pw", BCrypt.gensalt(4)).replace("$2a$", "$2y$") + "\n");
        Map<String, String> s = new HashMap<>(Map.of(
                "auth.type",
                "token",
                "auth.htpasswd.path",
                users.toString(),
                "auth.token.key-file",
                dir.resolve("key.pem").toString()));
        for (int i = 0; i < more.length; i += 2) {
            s.put(more[i], more[i + 1]);
        }
        return s;
    }

    @Test
    void theRealmComesFromThePublicUrlNotTheHostHeader() throws Exception {
        try (TestRegistry r =
                new TestRegistry(dir.resolve("a"), token("http.public-url", "https://registry.example.com:8443/"))) {
            String res = request(r, "/v2/", "evil.example:5000");
            assertEquals("401", status(res), res);
            assertEquals(
                    "Bearer realm=\"https://registry.example.com:8443/auth/token\",service=\"berth\"",
                    header(res, "WWW-Authenticate"));
        }
    }

    @Test
    void withoutAPublicUrlTheRealmIsTheAddressTheConnectionReached() throws Exception {
        try (TestRegistry r = new TestRegistry(dir.resolve("b"), token())) {
            String res = request(r, "/v2/team/app/tags/list", "evil.example:5000");
            assertEquals("401", status(res), res);
            assertEquals(
                    "Bearer realm=\"http://127.0.0.1:" + r.port() + "/auth/token\",service=\"berth\","
                            + "scope=\"repository:team/app:pull\"",
                    header(res, "WWW-Authenticate"));
        }
    }

    @Test
    void withoutAccessControlOnLoopbackOnlyLoopbackNamesAreServed() throws Exception {
        try (TestRegistry r = new TestRegistry(dir.resolve("c"))) {
            for (String host : new String[] {
                "localhost:" + r.port(),
                "127.0.0.1:" + r.port(),
                "127.0.0.2",
                "[::1]:" + r.port(),
                "LOCALHOST",
                "app.localhost:" + r.port(),
                "localhost."
            }) {
                assertEquals("200", status(request(r, "/v2/", host)), host);
            }
            for (String host : new String[] {
                "evil.example",
                "evil.example:" + r.port(),
                "localhost.evil.example",
                "127.0.0.1.nip.io",
                "127.0.0.1.evil.example:" + r.port(),
                "0.0.0.0:" + r.port(),
                "[::2]"
            }) {
                String res = request(r, "/v2/_catalog", host);
                assertEquals("403", status(res), host + "\n" + res);
                assertTrue(res.contains("\"code\":\"DENIED\"") && res.contains("http.allowed-hosts"), res);
            }
            assertEquals("403", status(request(r, "/healthz", "evil.example")), "every route");
        }
        try (TestRegistry r =
                new TestRegistry(dir.resolve("d"), Map.of("http.public-url", "http://registry.lan:5000"))) {
            assertEquals("200", status(request(r, "/v2/", "registry.lan:5000")));
            assertEquals("200", status(request(r, "/v2/", "localhost")));
            assertEquals("403", status(request(r, "/v2/", "evil.example")));
        }
        try (TestRegistry r = new TestRegistry(
                dir.resolve("e"), Map.of("http.allowed-hosts", "registry.internal, " + "build-01.internal"))) {
            assertEquals("200", status(request(r, "/v2/", "Registry.Internal:5000")));
            assertEquals("200", status(request(r, "/v2/", "build-01.internal")));
            assertEquals("403", status(request(r, "/v2/", "localhost")), "the list replaces the loopback names");
        }
        try (TestRegistry r = new TestRegistry(dir.resolve("f"), Map.of("http.allowed-hosts", "*"))) {
            assertEquals("200", status(request(r, "/v2/", "evil.example")));
        }
        // with access control the caller's credentials decide, whatever the Host
        try (TestRegistry r = new TestRegistry(dir.resolve("g"), token())) {
            assertEquals("401", status(request(r, "/v2/", "evil.example")));
        }
    }
}
