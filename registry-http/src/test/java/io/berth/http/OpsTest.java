package io.berth.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.berth.core.model.Digest;
import java.io.IOException;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Health, readiness and metrics on the HTTP port. */
class OpsTest {
    @TempDir
    Path dir;

    @Test
    void readinessFollowsStorage() throws IOException {
        try (TestRegistry r = new TestRegistry(dir)) {
            assertEquals(200, r.get("/healthz").statusCode());
            assertEquals(200, r.get("/readyz").statusCode());
            Path uploads = dir.resolve("blobs/uploads");
            Files.delete(uploads);
            HttpResponse<byte[]> notReady = r.get("/readyz");
            assertEquals(503, notReady.statusCode());
            assertEquals(200, r.get("/healthz").statusCode(), "liveness does not depend on storage");
            Files.createDirectories(uploads);
            assertEquals(200, r.get("/readyz").statusCode());
        }
    }

    @Test
    void readinessFollowsMetadata() throws IOException {
        TestRegistry r = new TestRegistry(dir);
        try {
            r.registry.metadata().close();
            assertEquals(503, r.get("/readyz").statusCode());
            // and a request that needs metadata is a 500 in the OCI format, not a stack trace
            HttpResponse<byte[]> res = r.get("/v2/a/b/tags/list");
            assertEquals(500, res.statusCode());
            String body = new String(res.body());
            assertTrue(body.contains("\"UNKNOWN\"") && !body.contains("Exception"), body);
        } finally {
            r.server.stop(Duration.ofSeconds(1));
        }
    }

    @Test
    void aBlobLostFromStorageIsACleanNotFound() throws IOException {
        try (TestRegistry r = new TestRegistry(dir)) {
            Digest d = r.pushBlob("lost/blob", "gone from disk".getBytes());
            assertTrue(r.registry.blobStore().delete(d));
            HttpResponse<byte[]> res = r.get("/v2/lost/blob/blobs/" + d);
            assertEquals(404, res.statusCode());
            assertTrue(new String(res.body()).contains("BLOB_UNKNOWN"));
            assertEquals(
                    Integer.toString(res.body().length),
                    res.headers().firstValue("Content-Length").orElseThrow());
        }
    }

    @Test
    void metricsCountRequestsByRouteMethodAndStatus() throws IOException {
        try (TestRegistry r = new TestRegistry(dir)) {
            r.get("/v2/");
            r.get("/v2/x/y/manifests/missing");
            String metrics = new String(r.get("/metrics").body());
            assertTrue(
                    metrics.contains("berth_http_requests_total{method=\"GET\","
                            + "route=\"/v2/{name}/manifests/{reference}\",status=\"404\"} 1.0"),
                    metrics);
            assertTrue(
                    metrics.contains("berth_http_request_duration_seconds_bucket{method=\"GET\",route=\"/v2/\","
                            + "status=\"200\",le=\"+Inf\"} 1"),
                    metrics);
            assertTrue(
                    metrics.contains("berth_http_request_duration_seconds_bucket{method=\"GET\",route=\"/v2/\","
                            + "status=\"200\",le=\"0.001\"}"),
                    "the latency buckets: " + metrics);
            assertTrue(metrics.contains("berth_http_requests_in_flight"));
            // the JVM's own figures come from Micrometer's binders in the same registry
            assertTrue(metrics.contains("jvm_memory_used_bytes{"), metrics);
            assertTrue(metrics.contains("jvm_gc_"), metrics);
        }
    }

    @Test
    void duringTheShutdownGraceReadinessIsDownWhileRequestsAreStillServed() throws Exception {
        TestRegistry r = new TestRegistry(dir, Map.of("http.shutdown-grace", "3s"));
        try {
            assertEquals(200, r.get("/readyz").statusCode());
            Thread stopper = Thread.ofVirtual().start(() -> r.server.stop(Duration.ofSeconds(5)));
            long deadline = System.currentTimeMillis() + 2000;
            while (r.get("/readyz").statusCode() != 503 && System.currentTimeMillis() < deadline) {
                Thread.sleep(10);
            }
            assertEquals(503, r.get("/readyz").statusCode(), "the load balancer sees the node leave");
            assertEquals(200, r.get("/v2/").statusCode(), "while requests are still served");
            assertEquals(200, r.get("/healthz").statusCode());
            stopper.join();
        } finally {
            r.registry.close();
        }
    }
}
