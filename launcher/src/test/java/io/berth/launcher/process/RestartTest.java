package io.berth.launcher.process;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.berth.core.model.Digest;
import io.berth.core.model.DigestAlgorithm;
import io.berth.http.WireClient;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A chunked upload begun before a restart of the registry completes after it, whether the registry
 * stopped gracefully or was killed with SIGKILL in the middle of a PATCH; what was acknowledged
 * before a kill is there after it.
 */
@Tag("process")
class RestartTest {
    static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

    @TempDir
    Path dir;

    @Test
    void chunkedUploadSurvivesRestart() throws Exception {
        byte[] content = new byte[3 * 1024 * 1024 + 5];
        new Random(7).nextBytes(content);
        byte[] first = Arrays.copyOfRange(content, 0, 2 * 1024 * 1024);
        byte[] rest = Arrays.copyOfRange(content, first.length, content.length);
        Digest digest = Digest.compute(DigestAlgorithm.SHA256, content);
        String location;
        try (BerthProcess before = BerthProcess.start(dir, List.of(), Map.of())) {
            location = HTTP.send(HttpRequest.newBuilder(URI.create(before.base() + "/v2/restart/app/blobs/uploads/"))
                    .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.discarding())
                    .headers().firstValue("Location").orElseThrow();
            HttpResponse<String> patch = HTTP.send(HttpRequest.newBuilder(URI.create(before.base() + location))
                    .header("Content-Range", "0-" + (first.length - 1))
                    .method("PATCH", HttpRequest.BodyPublishers.ofByteArray(first)).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(202, patch.statusCode());
            assertEquals(0, before.terminate());
        }
        try (BerthProcess after = BerthProcess.start(dir, List.of(), Map.of())) {
            HttpResponse<String> status = HTTP.send(HttpRequest.newBuilder(URI.create(after.base() + location)).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(204, status.statusCode());
            assertEquals("0-" + (first.length - 1), status.headers().firstValue("Range").orElseThrow());
            HttpResponse<String> put = HTTP.send(HttpRequest.newBuilder(URI.create(after.base() + location
                    + "?digest=" + digest)).header("Content-Range", first.length + "-" + (content.length - 1))
                    .PUT(HttpRequest.BodyPublishers.ofByteArray(rest)).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(201, put.statusCode(), put.body());
            HttpResponse<byte[]> pulled = HTTP.send(HttpRequest.newBuilder(URI.create(after.base()
                    + "/v2/restart/app/blobs/" + digest)).build(), HttpResponse.BodyHandlers.ofByteArray());
            assertEquals(200, pulled.statusCode());
            assertEquals(digest, Digest.compute(DigestAlgorithm.SHA256, pulled.body()));
            assertArrayEquals(content, pulled.body());
        }
    }

    @Test
    void sigkillInTheMiddleOfAPatchLosesOnlyTheUnacknowledgedChunk() throws Exception {
        byte[] content = new byte[4 * 1024 * 1024 + 11];
        new Random(11).nextBytes(content);
        int cut = 2 * 1024 * 1024;
        byte[] first = Arrays.copyOfRange(content, 0, cut);
        byte[] second = Arrays.copyOfRange(content, cut, content.length);
        Digest digest = Digest.compute(DigestAlgorithm.SHA256, content);
        byte[] acked = "acknowledged before the kill".getBytes(StandardCharsets.UTF_8);
        Digest ackedDigest = Digest.compute(DigestAlgorithm.SHA256, acked);
        String location;
        try (BerthProcess before = BerthProcess.start(dir, List.of(), Map.of())) {
            HttpResponse<String> mono = HTTP.send(HttpRequest.newBuilder(URI.create(before.base()
                    + "/v2/killed/app/blobs/uploads/?digest=" + ackedDigest))
                    .POST(HttpRequest.BodyPublishers.ofByteArray(acked)).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(201, mono.statusCode());
            location = HTTP.send(HttpRequest.newBuilder(URI.create(before.base() + "/v2/killed/app/blobs/uploads/"))
                    .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.discarding())
                    .headers().firstValue("Location").orElseThrow();
            assertEquals(202, HTTP.send(HttpRequest.newBuilder(URI.create(before.base() + location))
                    .header("Content-Range", "0-" + (cut - 1))
                    .method("PATCH", HttpRequest.BodyPublishers.ofByteArray(first)).build(),
                    HttpResponse.BodyHandlers.ofString()).statusCode());
            // the second chunk is half sent when the process dies
            try (WireClient c = new WireClient(before.httpPort)) {
                c.sendRaw("PATCH " + location + " HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/octet-stream\r\n"
                        + "Content-Range: " + cut + "-" + (content.length - 1) + "\r\nContent-Length: " + second.length
                        + "\r\n\r\n");
                c.sendRaw(new String(Arrays.copyOfRange(second, 0, second.length / 2),
                        StandardCharsets.ISO_8859_1));
                Thread.sleep(300);
                before.process.process().destroyForcibly().waitFor();
            }
        }
        try (BerthProcess after = BerthProcess.start(dir, List.of(), Map.of())) {
            HttpResponse<byte[]> survived = HTTP.send(HttpRequest.newBuilder(URI.create(after.base()
                    + "/v2/killed/app/blobs/" + ackedDigest)).build(), HttpResponse.BodyHandlers.ofByteArray());
            assertEquals(200, survived.statusCode());
            assertArrayEquals(acked, survived.body());
            HttpResponse<String> status = HTTP.send(HttpRequest.newBuilder(URI.create(after.base() + location)).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(204, status.statusCode());
            assertEquals("0-" + (cut - 1), status.headers().firstValue("Range").orElseThrow(),
                    "only the acknowledged chunk counts");
            assertEquals(202, HTTP.send(HttpRequest.newBuilder(URI.create(after.base() + location))
                    .header("Content-Range", cut + "-" + (content.length - 1))
                    .method("PATCH", HttpRequest.BodyPublishers.ofByteArray(second)).build(),
                    HttpResponse.BodyHandlers.ofString()).statusCode());
            HttpResponse<String> put = HTTP.send(HttpRequest.newBuilder(URI.create(after.base() + location
                    + "?digest=" + digest)).PUT(HttpRequest.BodyPublishers.noBody()).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(201, put.statusCode(), put.body());
            HttpResponse<byte[]> pulled = HTTP.send(HttpRequest.newBuilder(URI.create(after.base()
                    + "/v2/killed/app/blobs/" + digest)).build(), HttpResponse.BodyHandlers.ofByteArray());
            assertArrayEquals(content, pulled.body());
        }
    }
}
