package io.berth.launcher.process;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.berth.core.config.ConfigKeys;
import io.berth.proto.admin.v1.GetServerInfoRequest;
import io.berth.proto.admin.v1.RegistryAdminGrpc;
import io.berth.proto.admin.v1.ServerInfo;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthGrpc;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PipedInputStream;
import java.io.PipedOutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code berth serve} started as its own process: endpoints, configuration, signals. */
@Tag("process")
class ServeProcessTest {
    static final HttpClient HTTP =
            HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

    @TempDir
    Path dir;

    static HttpResponse<String> get(String url, String... headers) throws IOException, InterruptedException {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(30));
        for (int i = 0; i < headers.length; i += 2) {
            b.header(headers[i], headers[i + 1]);
        }
        return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void servesEndpointsWithEmbeddedDefaultsAndExitsCleanlyOnSigterm() throws Exception {
        try (BerthProcess b = BerthProcess.start(dir, List.of(), Map.of())) {
            HttpResponse<String> v2 = get(b.base() + "/v2/");
            assertEquals(200, v2.statusCode());
            assertEquals(
                    "registry/2.0",
                    v2.headers().firstValue("Docker-Distribution-API-Version").orElseThrow());
            assertEquals(200, get(b.base() + "/healthz").statusCode());
            assertEquals(200, get(b.base() + "/readyz").statusCode());
            assertEquals(
                    "req-42",
                    get(b.base() + "/v2/", "X-Request-Id", "req-42")
                            .headers()
                            .firstValue("X-Request-Id")
                            .orElseThrow());
            HttpResponse<String> metrics = get(b.base() + "/metrics");
            assertEquals(200, metrics.statusCode());
            assertTrue(
                    metrics.headers().firstValue("Content-Type").orElseThrow().startsWith("text/plain"));
            assertTrue(
                    metrics.body().contains("berth_http_requests_total{method=\"GET\",route=\"/v2/\",status=\"200\"}"),
                    metrics.body());
            assertTrue(metrics.body()
                    .contains("berth_http_request_duration_seconds_bucket{method=\"GET\",route=\"/v2/\""));
            assertTrue(metrics.body().contains("jvm_memory_used_bytes{area=\"heap\""));
            // embedded defaults: blobs and SQLite under ./data
            assertTrue(Files.isDirectory(dir.resolve("data/blobs")));
            assertTrue(Files.isRegularFile(dir.resolve("data/berth.db")));
            // one access-log line per request, with the request id
            assertTrue(
                    b.output()
                            .lines()
                            .anyMatch(l -> l.contains("berth.access")
                                    && l.contains("GET /v2/ 200")
                                    && l.contains("id=req-42")),
                    b.output());
            // the gRPC admin port answers; with no admin.tokens it serves health only, and says so
            assertTrue(b.output().contains("(health only: no admin.tokens)"), b.output());
            ManagedChannel ch = ManagedChannelBuilder.forAddress("127.0.0.1", b.adminPort)
                    .usePlaintext()
                    .build();
            try {
                StatusRuntimeException off = Assertions.assertThrows(
                        StatusRuntimeException.class,
                        () -> RegistryAdminGrpc.newBlockingStub(ch)
                                .withDeadlineAfter(10, TimeUnit.SECONDS)
                                .getServerInfo(GetServerInfoRequest.getDefaultInstance()));
                assertEquals(Status.Code.UNAUTHENTICATED, off.getStatus().getCode());
                assertEquals(
                        HealthCheckResponse.ServingStatus.SERVING,
                        HealthGrpc.newBlockingStub(ch)
                                .withDeadlineAfter(10, TimeUnit.SECONDS)
                                .check(HealthCheckRequest.getDefaultInstance())
                                .getStatus());
            } finally {
                ch.shutdownNow();
            }
            try (BerthProcess withTokens =
                    BerthProcess.start(dir.resolve("tokens"), List.of(), Map.of("BERTH_ADMIN_TOKENS", "s3cret"))) {
                ServerInfo info = withTokens
                        .admin("s3cret")
                        .withDeadlineAfter(10, TimeUnit.SECONDS)
                        .getServerInfo(GetServerInfoRequest.getDefaultInstance());
                assertEquals("filesystem", info.getBlobStorage());
                assertEquals("sqlite", info.getMetadataStorage());
                assertFalse(withTokens.output().contains("s3cret"), "tokens are never logged");
            }
            assertEquals(0, b.terminate());
            assertTrue(b.output().contains("stopped"), b.output());
        }
    }

    @Test
    void inFlightRequestsFinishAfterSigterm() throws Exception {
        try (BerthProcess b = BerthProcess.start(dir, List.of(), Map.of())) {
            HttpResponse<String> start = HTTP.send(
                    HttpRequest.newBuilder(URI.create(b.base() + "/v2/drain/test/blobs/uploads/"))
                            .POST(HttpRequest.BodyPublishers.noBody())
                            .build(),
                    HttpResponse.BodyHandlers.ofString());
            String location = start.headers().firstValue("Location").orElseThrow();
            // a PATCH whose body arrives slowly: SIGTERM lands while it is in flight
            PipedOutputStream pipe = new PipedOutputStream();
            PipedInputStream body = new PipedInputStream(pipe, 1 << 16);
            CompletableFuture<HttpResponse<String>> patch = HTTP.sendAsync(
                    HttpRequest.newBuilder(URI.create(b.base() + location))
                            .method("PATCH", HttpRequest.BodyPublishers.ofInputStream(() -> body))
                            .build(),
                    HttpResponse.BodyHandlers.ofString());
            writeSlowly(pipe, 3);
            Thread.sleep(300);
            b.process.process().destroy();
            writeSlowly(pipe, 3);
            pipe.close();
            HttpResponse<String> done = patch.get(60, TimeUnit.SECONDS);
            assertEquals(202, done.statusCode(), done.body());
            assertEquals("0-6143", done.headers().firstValue("Range").orElseThrow());
            assertTrue(b.process.process().waitFor(60, TimeUnit.SECONDS));
            assertEquals(0, b.process.process().exitValue());
        }
    }

    private static void writeSlowly(OutputStream out, int chunks) throws IOException, InterruptedException {
        for (int i = 0; i < chunks; i++) {
            out.write(new byte[1024]);
            out.flush();
            Thread.sleep(150);
        }
    }

    @Test
    void configurationPrecedenceDefaultFileEnvironment() throws Exception {
        Path file = dir.resolve("custom.yaml");
        Files.writeString(
                file,
                "storage:\n  filesystem:\n    root: ./from-file\nmetadata:\n  sqlite:\n"
                        + "    path: ./from-file.db\nhttp:\n  access-log: false\n");
        try (BerthProcess b = BerthProcess.start(
                dir, List.of(), Map.of("BERTH_METADATA_SQLITE_PATH", "./from-env.db"), "--config", file.toString())) {
            assertEquals(200, get(b.base() + "/v2/").statusCode());
            assertTrue(Files.isDirectory(dir.resolve("from-file/blobs")), "file beats default");
            assertTrue(Files.exists(dir.resolve("from-env.db")), "environment beats file");
            assertFalse(Files.exists(dir.resolve("from-file.db")));
            assertFalse(b.output().contains("berth.access"), "access log disabled by the file");
            assertEquals(0, b.terminate());
        }
        // ./berth.yaml is read when no --config is given
        Path local = Files.createDirectories(dir.resolve("local"));
        Files.writeString(local.resolve("berth.yaml"), "storage:\n  filesystem:\n    root: ./local-root\nbogus: 1\n");
        try (BerthProcess b = BerthProcess.start(local, List.of(), Map.of())) {
            assertTrue(Files.isDirectory(local.resolve("local-root/blobs")));
            assertTrue(b.output().contains("unknown configuration key 'bogus'"), b.output());
            assertEquals(0, b.terminate());
        }
    }

    @Test
    void invalidValuesStopStartupWithOneClearLineAndExitCode2() throws Exception {
        BerthProcess.Result r = BerthProcess.run(dir, Map.of("BERTH_HTTP_PORT", "abc"), "serve");
        assertEquals(2, r.exitCode(), r.output());
        List<String> lines =
                r.output().lines().filter(l -> l.startsWith("berth:")).toList();
        assertEquals(1, lines.size(), r.output());
        assertTrue(lines.get(0).contains("http.port") && lines.get(0).contains("abc"), lines.get(0));
        BerthProcess.Result storage = BerthProcess.run(dir, Map.of("BERTH_STORAGE_TYPE", "tape"), "serve");
        assertEquals(2, storage.exitCode());
        assertTrue(storage.output().contains("storage.type"), storage.output());
    }

    @Test
    void helpExplainsEveryOptionOfEveryCommand() throws Exception {
        BerthProcess.Result top = BerthProcess.run(dir, Map.of(), "--help");
        assertEquals(0, top.exitCode());
        for (String word : List.of("serve", "replicate", "webhooks", "admin")) {
            assertTrue(top.output().contains(word), top.output());
        }
        BerthProcess.Result serve = BerthProcess.run(dir, Map.of(), "serve", "--help");
        assertEquals(0, serve.exitCode());
        for (var key : ConfigKeys.all()) {
            assertTrue(serve.output().contains(key.name()) && serve.output().contains(key.envName()), key.name());
        }
        assertTrue(serve.output().contains("--config"));
        BerthProcess.Result replicate = BerthProcess.run(dir, Map.of(), "replicate");
        assertEquals(2, replicate.exitCode(), "--config is required");
        assertTrue(replicate.output().contains("--config"), replicate.output());
    }
}
