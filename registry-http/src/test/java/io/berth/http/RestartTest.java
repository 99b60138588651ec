package io.berth.http;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.berth.core.model.Digest;
import io.berth.core.model.DigestAlgorithm;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A chunked upload begun before a restart of the registry completes after it. */
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
}
