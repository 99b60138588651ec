package io.berth.launcher.process;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.berth.core.model.Digest;
import io.berth.testsupport.GeneratedContent;
import io.berth.testsupport.oci.OciClient;
import io.berth.testsupport.oci.StreamedBlob;
import io.berth.testsupport.oci.Upload;
import java.net.http.HttpRequest;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Streaming, not buffering: 5 GiB blobs pushed chunked and monolithically and pulled back through a
 * registry whose heap is 256 MiB. Size is {@code -Dberth.test.large-blob-bytes} (default 5 GiB).
 */
@Tag("process")
class LargeBlobTest {
    static final long SIZE = Long.getLong("berth.test.large-blob-bytes", 5L << 30);
    static final long CHUNK = 1L << 30;

    @TempDir
    Path dir;

    static HttpRequest.BodyPublisher body(long seed, long from, long length) {
        return HttpRequest.BodyPublishers.fromPublisher(
                HttpRequest.BodyPublishers.ofInputStream(() -> new GeneratedContent(seed, from, length)), length);
    }

    @Test
    void fiveGibChunkedAndMonolithicThroughA256MibHeap() throws Exception {
        try (BerthProcess b = BerthProcess.start(dir, List.of("-Xmx256m"), Map.of("BERTH_HTTP_ACCESS_LOG", "false"))) {
            OciClient oci = b.oci().withTimeout(Duration.ofMinutes(20));
            // chunked: 1 GiB PATCHes with Content-Range, then PUT with the digest
            long chunkedSeed = 1;
            Digest chunked = GeneratedContent.digest(chunkedSeed, SIZE);
            Upload upload = oci.startUpload("big/blob");
            for (long from = 0; from < SIZE; from += CHUNK) {
                long offset = from;
                long len = Math.min(CHUNK, SIZE - from);
                upload = oci.patch(upload, () -> new GeneratedContent(chunkedSeed, offset, len), len);
            }
            oci.complete(upload, chunked);
            assertPulled(oci, chunked);

            // monolithic: one POST carrying the whole blob
            long monoSeed = 2;
            Digest mono = GeneratedContent.digest(monoSeed, SIZE);
            oci.sendBody("POST", "/v2/big/blob/blobs/uploads/?digest=" + mono, body(monoSeed, 0, SIZE))
                    .expect(201);
            assertPulled(oci, mono);

            assertTrue(b.process.process().isAlive());
            assertFalse(b.output().contains("OutOfMemoryError"), b.output());
            assertEquals(0, b.terminate());
        }
    }

    /** Pulls a blob without holding it: all of it arrives, as announced, with its digest. */
    static void assertPulled(OciClient oci, Digest d) {
        StreamedBlob pulled = oci.pullBlobStreaming("big/blob", d);
        assertEquals(SIZE, pulled.contentLength());
        assertEquals(SIZE, pulled.length());
        assertEquals(d, pulled.digest());
    }
}
