package io.berth.http;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.berth.core.model.Digest;
import io.helidon.http.Method;
import java.io.IOException;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * HTTP message framing on the wire, as Go clients (docker, containerd, skopeo) read it: on one
 * keep-alive connection every response must parse exactly and leave the connection usable. A HEAD
 * response never carries body bytes, whatever its status and whoever produced it.
 */
class WireFramingTest {
    static final ObjectMapper JSON = new ObjectMapper();
    static final String REPO = "wire/test";

    @TempDir
    static Path dir;

    static TestRegistry r;
    static Digest blob;
    static byte[] blobBytes = "wire blob content".getBytes(StandardCharsets.UTF_8);
    static Digest manifest;
    static byte[] manifestBytes;

    @BeforeAll
    static void start() throws IOException {
        r = new TestRegistry(dir);
        manifest = r.pushImage(REPO, "v1", "wire", "");
        manifestBytes = r.get("/v2/" + REPO + "/manifests/v1").body();
        blob = r.pushBlob(REPO, blobBytes);
    }

    @AfterAll
    static void stop() {
        r.close();
    }

    static void assertBase(WireClient.Response res) throws IOException {
        assertEquals(200, res.status(), res.toString());
        assertEquals("{}", res.text());
    }

    /** The HEAD answer matches the GET answer in everything but the body. */
    static void assertHeadMatchesGet(WireClient.Response head, WireClient.Response get) {
        assertEquals(get.status(), head.status(), head + " vs " + get);
        assertEquals(0, head.body().length);
        assertEquals(get.header("Content-Type"), head.header("Content-Type"), head.toString());
        assertEquals(get.header("Docker-Distribution-API-Version"), head.header("Docker-Distribution-API-Version"));
        String announced = head.header("Content-Length");
        assertTrue(
                announced == null || Integer.parseInt(announced) == get.body().length || head.status() >= 400,
                "HEAD announces the GET length: " + head + " / " + get);
    }

    @Test
    void headResponsesCarryNoBodyOnAKeepAliveConnection() throws IOException {
        Digest missing = TestRegistry.sha256("never pushed".getBytes(StandardCharsets.UTF_8));
        List<String> paths = List.of(
                "/v2/" + REPO + "/blobs/" + missing, // 404 blob
                "/v2/" + REPO + "/manifests/missing", // 404 manifest by tag
                "/v2/" + REPO + "/manifests/" + missing, // 404 manifest by digest
                "/v2/" + REPO + "/blobs/" + blob, // 200 blob
                "/v2/" + REPO + "/manifests/v1", // 200 manifest
                "/v2/" + REPO + "/manifests/" + manifest, // 200 manifest by digest
                "/v2/" + REPO + "/nothing/here", // unknown route under /v2
                "/no/such/route", // unknown route outside /v2
                "/v2/Invalid..Name/manifests/v1", // invalid name
                "/v2/" + REPO + "/blobs/sha256:not-a-digest"); // invalid digest
        try (WireClient c = new WireClient(r.server.port())) {
            for (String path : paths) {
                WireClient.Response head = c.exchange("HEAD", path, null);
                WireClient.Response get = c.exchange("GET", path, null);
                assertHeadMatchesGet(head, get);
                if (head.status() >= 400) {
                    assertEquals("application/json", head.header("Content-Type"), path);
                    assertTrue(get.text().startsWith("{\"errors\":["), get.toString());
                }
                if (path.startsWith("/v2/")) {
                    assertEquals("registry/2.0", head.header("Docker-Distribution-API-Version"), path);
                }
                assertBase(c.exchange("GET", "/v2/", null));
            }
            WireClient.Response blobHead = c.exchange("HEAD", "/v2/" + REPO + "/blobs/" + blob, null);
            assertEquals(Integer.toString(blobBytes.length), blobHead.header("Content-Length"));
            assertEquals(blob.toString(), blobHead.header("Docker-Content-Digest"));
            WireClient.Response manifestHead = c.exchange("HEAD", "/v2/" + REPO + "/manifests/v1", null);
            assertEquals(Integer.toString(manifestBytes.length), manifestHead.header("Content-Length"));
            assertEquals(manifest.toString(), manifestHead.header("Docker-Content-Digest"));
            WireClient.Response blobGet = c.exchange("GET", "/v2/" + REPO + "/blobs/" + blob, null);
            assertArrayEquals(blobBytes, blobGet.body());
            c.assertNothingMore(300);
        }
    }

    /**
     * Fills a route template with values that exist (in a repository of its own: the loop deletes),
     * or with values that do not.
     */
    static List<String> samplePaths(String template, String repo, Digest existing, String upload) {
        Digest missing = TestRegistry.sha256("absent".getBytes(StandardCharsets.UTF_8));
        List<String> out = new ArrayList<>();
        out.add(template.replace("{name}", repo)
                .replace("{reference}", "v1")
                .replace("{digest}", existing.toString())
                .replace("{uuid}", upload));
        out.add(template.replace("{name}", "wire/absent")
                .replace("{reference}", "nope")
                .replace("{digest}", missing.toString())
                .replace("{uuid}", UUID.randomUUID().toString()));
        out.add(template.replace("{name}", "Bad_Name_")
                .replace("{reference}", "%20bad")
                .replace("{digest}", "sha256:zz")
                .replace("{uuid}", "not-a-uuid"));
        return out;
    }

    @Test
    void everyRouteAndMethodOfTheApiTableKeepsTheConnectionUsable() throws IOException {
        List<V2Routes.RouteInfo> table = r.server.routes();
        assertTrue(table.size() >= 8, "the whole table: " + table);
        List<String> methods = List.of("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "FOO");
        List<String> extra = List.of("/healthz", "/readyz", "/metrics", "/v2/", "/v2", "/nope");
        int checked = 0;
        String repo = "wire/table";
        try (WireClient c = new WireClient(r.server.port())) {
            for (V2Routes.RouteInfo route : table) {
                for (Method m : route.methods()) {
                    assertTrue(methods.contains(m.text()), "a method the loop does not try: " + m);
                }
                r.pushImage(repo, "v1", "table", "");
                Digest existing = r.pushBlob(repo, "table blob".getBytes(StandardCharsets.UTF_8));
                String upload = c.exchange("POST", "/v2/" + repo + "/blobs/uploads/", null)
                        .header("Docker-Upload-UUID");
                assertNotNull(upload);
                for (String path : samplePaths(route.template(), repo, existing, upload)) {
                    checked += exerciseAllMethods(c, path, methods);
                }
            }
            for (String path : extra) {
                checked += exerciseAllMethods(c, path, methods);
            }
            c.assertNothingMore(300);
        }
        assertTrue(checked > 200, "requests checked: " + checked);
    }

    private int exerciseAllMethods(WireClient c, String path, List<String> methods) throws IOException {
        int n = 0;
        for (String method : methods) {
            // HEAD is compared with GET before GET may change anything
            byte[] body = Set.of("POST", "PUT", "PATCH").contains(method)
                    ? "{\"not\":\"a manifest\"}".getBytes(StandardCharsets.UTF_8)
                    : null;
            WireClient.Response res = c.exchange(method, path, body, "Content-Type", "application/octet-stream");
            String context = method + " " + path + ": " + res;
            assertTrue(res.status() < 500, context);
            if (res.status() >= 400 && !method.equals("HEAD")) {
                JsonNode errors = JSON.readTree(res.body()).get("errors");
                assertNotNull(errors, context);
                assertEquals("application/json", res.header("Content-Type"), context);
            }
            if (method.equals("HEAD")) {
                WireClient.Response get = c.exchange("GET", path, null);
                assertEquals(get.status(), res.status(), context + " vs " + get);
                assertEquals(get.header("Content-Type"), res.header("Content-Type"), context);
            }
            assertBase(c.exchange("GET", "/v2/", null));
            n++;
        }
        return n;
    }

    @Test
    void noContentAndNotModifiedCarryNoBody() throws IOException {
        try (WireClient c = new WireClient(r.server.port())) {
            WireClient.Response start = c.exchange("POST", "/v2/" + REPO + "/blobs/uploads/", null);
            String location = start.header("Location");
            WireClient.Response status = c.exchange("GET", location, null);
            assertEquals(204, status.status());
            WireClient.Response cancel = c.exchange("DELETE", location, null);
            assertEquals(204, cancel.status());
            assertBase(c.exchange("GET", "/v2/", null));
            c.assertNothingMore(200);
        }
    }

    @Test
    void rangesAndErrorsAnnounceExactlyTheBytesSent() throws IOException {
        try (WireClient c = new WireClient(r.server.port())) {
            WireClient.Response part = c.exchange("GET", "/v2/" + REPO + "/blobs/" + blob, null, "Range", "bytes=2-5");
            assertEquals(206, part.status());
            assertEquals("4", part.header("Content-Length"));
            assertEquals("re b", part.text());
            WireClient.Response unsatisfiable =
                    c.exchange("GET", "/v2/" + REPO + "/blobs/" + blob, null, "Range", "bytes=999-");
            assertEquals(416, unsatisfiable.status());
            assertBase(c.exchange("GET", "/v2/", null));
            c.assertNothingMore(200);
        }
    }

    @Test
    void requestsRejectedBeforeRoutingGetAnOciBody() throws IOException {
        record Case(String request, int status, String code) {}
        List<Case> cases = List.of(
                new Case("GET /v2/a\\b/tags/list HTTP/1.1\r\nHost: localhost\r\n\r\n", 400, "NAME_INVALID"),
                new Case(
                        "GET /v2/" + "a/".repeat(5000) + "tags/list HTTP/1.1\r\nHost: localhost\r\n\r\n",
                        414,
                        "UNSUPPORTED"),
                new Case("GET /v2/ HTTP/1.1\r\nHost: localhost\r\nBad Header: x\r\n\r\n", 400, "UNSUPPORTED"),
                new Case(
                        "GET /v2/ HTTP/1.1\r\nHost: localhost\r\nX-Big: " + "a".repeat(70_000) + "\r\n\r\n",
                        400,
                        "UNSUPPORTED"));
        for (Case k : cases) {
            try (WireClient c = new WireClient(r.server.port())) {
                c.sendRaw(k.request());
                WireClient.Response res = c.read("GET");
                String context =
                        k.request().substring(0, Math.min(60, k.request().length())) + " -> " + res;
                assertEquals(k.status(), res.status(), context);
                assertEquals("application/json", res.header("Content-Type"), context);
                assertEquals(
                        k.code(),
                        JSON.readTree(res.body())
                                .get("errors")
                                .get(0)
                                .get("code")
                                .asText(),
                        context);
                assertNotNull(res.header("X-Request-Id"), context);
                assertFalse(res.text().contains("Exception"), context);
            }
        }
        // the same rejection to a HEAD request: status and headers, no body
        try (WireClient c = new WireClient(r.server.port())) {
            c.sendRaw("HEAD /v2/a\\b/tags/list HTTP/1.1\r\nHost: localhost\r\n\r\n");
            WireClient.Response res = c.read("HEAD");
            assertEquals(400, res.status());
            assertEquals("application/json", res.header("Content-Type"));
            c.assertClosedByServer();
        }
    }

    /** A client's own mistakes Helidon refuses before routing are never called a server error. */
    @Test
    void clientMistakesBeforeRoutingAreNotInternalServerErrors() throws IOException {
        try (WireClient c = new WireClient(r.server.port())) {
            c.sendRaw("GET /v2/ HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n");
            WireClient.Response res = c.read("GET");
            assertEquals(505, res.status(), res.toString());
            assertEquals(
                    "UNSUPPORTED",
                    JSON.readTree(res.body()).get("errors").get(0).get("code").asText(),
                    res.toString());
            assertTrue(res.text().contains("HTTP/1.0"), res.toString());
            assertFalse(res.text().contains("internal server error"), res.toString());
        }
        try (WireClient c = new WireClient(r.server.port())) {
            c.sendRaw("POST /v2/" + REPO + "/blobs/uploads/ HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                    + "Transfer-Encoding: gzip, chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n");
            WireClient.Response res = c.read("POST");
            assertEquals(400, res.status(), res.toString());
            assertEquals(
                    "UNSUPPORTED",
                    JSON.readTree(res.body()).get("errors").get(0).get("code").asText(),
                    res.toString());
            assertTrue(res.text().contains("Transfer-Encoding"), res.toString());
            assertFalse(res.text().contains("internal server error"), res.toString());
            c.assertClosedByServer();
        }
    }

    @Test
    void opsEndpointsAnswerHeadLikeGet() throws IOException {
        try (WireClient c = new WireClient(r.server.port())) {
            for (String path : List.of("/healthz", "/readyz", "/metrics")) {
                WireClient.Response head = c.exchange("HEAD", path, null);
                WireClient.Response get = c.exchange("GET", path, null);
                assertEquals(200, head.status(), path);
                assertEquals(get.header("Content-Type"), head.header("Content-Type"));
            }
            c.assertNothingMore(200);
        }
        HttpResponse<byte[]> health = r.get("/healthz");
        assertTrue(new String(health.body()).startsWith("status: ok"), new String(health.body()));
    }
}
