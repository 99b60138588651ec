package io.berth.storage.s3;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.berth.core.model.Digest;
import io.berth.http.TestRegistry;
import io.berth.testsupport.S3Endpoint;
import io.berth.testsupport.TcpForwarder;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The registry on S3 while the object store goes away and comes back: every request that needs it
 * answers 503 with an OCI body at once (never hangs, never leaves a partial blob), readiness says
 * so, and all is well again once the store is back.
 */
@Tag("services")
class S3OutageTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    @Test
    void anUnreachableStoreIs503AndReadinessUntilItIsBack() throws Exception {
        S3Endpoint s3 = S3Endpoint.shared();
        int s3Port = URI.create(s3.endpoint()).getPort();
        try (TcpForwarder link = new TcpForwarder(s3Port);
                TestRegistry r = new TestRegistry(
                        dir,
                        Map.of(
                                "storage.type",
                                "s3",
                                "storage.s3.endpoint",
                                "http://127.0.0.1:" + link.port(),
                                "storage.s3.access-key",
                                s3.accessKey(),
                                "storage.s3.secret-key",
                                s3.secretKey(),
                                "storage.s3.bucket",
                                "berth-outage",
                                "storage.s3.prefix",
                                "outage-" + ProcessHandle.current().pid() + "/"))) {
            Digest before = r.pushBlob("s3/app", "stored before the outage".getBytes(StandardCharsets.UTF_8));
            assertEquals(200, r.get("/readyz").statusCode());

            link.cut();
            long start = System.nanoTime();
            HttpResponse<byte[]> read = r.get("/v2/s3/app/blobs/" + before);
            assertEquals(503, read.statusCode(), new String(read.body()));
            assertEquals(
                    "UNAVAILABLE",
                    JSON.readTree(read.body()).get("errors").get(0).get("code").asText());
            assertTrue(read.headers().firstValue("Retry-After").isPresent());
            byte[] during = "pushed during the outage".getBytes(StandardCharsets.UTF_8);
            Digest duringDigest = TestRegistry.sha256(during);
            HttpResponse<byte[]> push = r.send(
                    "POST",
                    "/v2/s3/app/blobs/uploads/?digest=" + duringDigest,
                    during,
                    "Content-Type",
                    "application/octet-stream");
            assertEquals(503, push.statusCode(), new String(push.body()));
            assertEquals(503, r.get("/readyz").statusCode());
            assertTrue((System.nanoTime() - start) / 1_000_000_000L < 60, "answers come without waiting for the store");

            link.restore();
            long deadline = System.currentTimeMillis() + 30_000;
            while (r.get("/readyz").statusCode() != 200 && System.currentTimeMillis() < deadline) {
                Thread.sleep(500);
            }
            assertEquals(200, r.get("/readyz").statusCode());
            assertEquals(
                    404,
                    r.send("HEAD", "/v2/s3/app/blobs/" + duringDigest, null).statusCode(),
                    "the refused push left no blob");
            assertEquals(
                    201,
                    r.send(
                                    "POST",
                                    "/v2/s3/app/blobs/uploads/?digest=" + duringDigest,
                                    during,
                                    "Content-Type",
                                    "application/octet-stream")
                            .statusCode());
            assertArrayEquals(
                    "stored before the outage".getBytes(StandardCharsets.UTF_8),
                    r.get("/v2/s3/app/blobs/" + before).body());
        }
    }

    @Test
    void withRedirectsBlobGetsSendClientsToTheStoreAndHeadStaysHere() throws Exception {
        S3Endpoint s3 = S3Endpoint.shared();
        try (TestRegistry r = new TestRegistry(
                dir,
                Map.of(
                        "storage.type",
                        "s3",
                        "storage.s3.endpoint",
                        s3.endpoint(),
                        "storage.s3.access-key",
                        s3.accessKey(),
                        "storage.s3.secret-key",
                        s3.secretKey(),
                        "storage.s3.bucket",
                        "berth-redirect",
                        "storage.s3.redirect",
                        "true"))) {
            byte[] content = "served by the object store".getBytes(StandardCharsets.UTF_8);
            Digest d = r.pushBlob("s3/redirected", content);
            HttpResponse<byte[]> get = r.get("/v2/s3/redirected/blobs/" + d);
            assertEquals(307, get.statusCode());
            String location = get.headers().firstValue("Location").orElseThrow();
            assertTrue(location.startsWith(s3.endpoint() + "/berth-redirect/"), location);
            assertEquals(
                    d.toString(),
                    get.headers().firstValue("Docker-Content-Digest").orElseThrow());
            HttpResponse<byte[]> followed = HttpClient.newBuilder()
                    .followRedirects(HttpClient.Redirect.NORMAL)
                    .build()
                    .send(
                            HttpRequest.newBuilder(r.uri("/v2/s3/redirected/blobs/" + d))
                                    .build(),
                            HttpResponse.BodyHandlers.ofByteArray());
            assertEquals(200, followed.statusCode());
            assertArrayEquals(content, followed.body());
            HttpResponse<byte[]> head = r.send("HEAD", "/v2/s3/redirected/blobs/" + d, null);
            assertEquals(200, head.statusCode());
            assertEquals(
                    String.valueOf(content.length),
                    head.headers().firstValue("Content-Length").orElseThrow());
            assertEquals(
                    404,
                    r.get("/v2/s3/redirected/blobs/sha256:" + "2".repeat(64)).statusCode(),
                    "unknown blobs are not redirected");
        }
    }
}
