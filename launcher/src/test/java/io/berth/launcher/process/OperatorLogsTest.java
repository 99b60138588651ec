package io.berth.launcher.process;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.berth.core.model.Digest;
import io.berth.testsupport.oci.OciClient;
import io.berth.testsupport.oci.Upload;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What an operator reads: the start-up line, access lines with their fields, JSON logs, quiet libraries. */
@Tag("process")
class OperatorLogsTest {
    static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    @Test
    void textLogsStartWithOneLineSayingWhatIsInUseAndLibrariesStayQuiet() throws Exception {
        try (BerthProcess b = BerthProcess.start(dir, List.of(), Map.of())) {
            b.oci()
                    .get("/v2/", "User-Agent", "docker/28.2.2", "X-Request-Id", "req-text-1")
                    .expect(200);
            assertEquals(0, b.terminate());
            String out = b.output();
            List<String> start =
                    out.lines().filter(l -> l.contains(" serving http://")).toList();
            assertEquals(1, start.size(), out);
            String line = start.get(0);
            assertTrue(line.matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z INFO berth: .*"), line);
            assertTrue(line.contains("serving http://127.0.0.1:" + b.httpPort), line);
            assertTrue(line.contains("admin gRPC 127.0.0.1:" + b.adminPort), line);
            assertTrue(line.contains("; config none;"), line);
            assertTrue(
                    line.contains(
                            "; blobs filesystem " + dir.resolve("data/blobs").toAbsolutePath()),
                    line);
            assertTrue(
                    line.contains(
                            "; metadata sqlite " + dir.resolve("data/berth.db").toAbsolutePath()),
                    line);
            assertTrue(line.contains("; events recorded (no kafka)"), line);
            // Helidon's internals are used: the running Helidon is the one they were tested with
            assertTrue(line.endsWith("; fast paths sendfile, socket-reads, reader-unlinking"), line);
            assertFalse(out.contains("Helidon SE 4.5.0 features") || out.contains("Started all channels"), out);
            assertFalse(out.contains("sun.misc.Unsafe"), out);
            String access = out.lines()
                    .filter(l -> l.contains("berth.access"))
                    .findFirst()
                    .orElseThrow();
            assertTrue(
                    access.contains("GET /v2/ 200 in=0 out=2 ")
                            && access.contains("client=127.0.0.1")
                            && access.contains("agent=\"docker/28.2.2\"")
                            && access.contains("id=req-text-1"),
                    access);
        }
    }

    @Test
    void jsonLogsCarryTheFieldsShippersExpect() throws Exception {
        try (BerthProcess b = BerthProcess.start(dir, List.of(), Map.of("BERTH_LOG_FORMAT", "json"))) {
            OciClient oci = b.oci();
            Upload upload = oci.startUpload("logs/app");
            oci.withHeader("X-Request-Id", "req-json-1").patch(upload, new byte[1234]);
            oci.get(
                    "/v2/logs/app/tags/list?n=5&last=a&access_token=s3cr3t&X-Amz-Signature=abc",
                    "X-Request-Id",
                    "req-json-2");
            // a warning written while serving a request carries its id: an unreadable blob
            assertEquals(0, b.terminate());
            List<JsonNode> lines = new ArrayList<>();
            for (String l : b.output().lines().toList()) {
                if (l.isBlank()) {
                    continue;
                }
                lines.add(JSON.readTree(l)); // every line is one JSON object
            }
            for (JsonNode n : lines) {
                for (String field : List.of("timestamp", "level", "logger", "message")) {
                    assertNotNull(n.get(field), field + " in " + n);
                }
            }
            JsonNode patch = lines.stream()
                    .filter(n -> "req-json-1".equals(n.path("request_id").asText()))
                    .findFirst()
                    .orElseThrow();
            assertEquals("berth.access", patch.get("logger").asText());
            assertEquals("PATCH", patch.get("method").asText());
            assertEquals(upload.location(), patch.get("path").asText());
            assertEquals(202, patch.get("status").asInt());
            assertEquals(1234, patch.get("request_bytes").asLong(), "the upload's size is visible");
            assertEquals(0, patch.get("response_bytes").asLong(), "headers are not body bytes");
            assertTrue(patch.get("duration_ms").isNumber());
            assertEquals("127.0.0.1", patch.get("client").asText());
            JsonNode tags = lines.stream()
                    .filter(n -> "req-json-2".equals(n.path("request_id").asText()))
                    .findFirst()
                    .orElseThrow();
            assertEquals(
                    "/v2/logs/app/tags/list?n=5&last=a&access_token=REDACTED&X-Amz-Signature=REDACTED",
                    tags.get("path").asText(),
                    "query strings are logged, secrets are not");
            assertFalse(b.output().contains("s3cr3t"));
        }
    }

    @Test
    void warningsWhileServingCarryTheRequestId() throws Exception {
        try (BerthProcess b = BerthProcess.start(dir, List.of(), Map.of())) {
            Digest d = b.oci().pushBlob("warn/app", "soon short".getBytes());
            Files.delete(dir.resolve("data/blobs/blobs/sha256")
                    .resolve(d.hex().substring(0, 2))
                    .resolve(d.hex()));
            b.oci().get("/v2/warn/app/blobs/" + d, "X-Request-Id", "req-warn-1");
            assertEquals(0, b.terminate());
            String damaged = b.output()
                    .lines()
                    .filter(l -> l.contains("cannot be read") && l.contains(d.toString()))
                    .findFirst()
                    .orElseThrow(() -> new AssertionError(b.output()));
            assertTrue(damaged.contains("ERROR") && damaged.contains("id=req-warn-1"), damaged);
        }
    }
}
