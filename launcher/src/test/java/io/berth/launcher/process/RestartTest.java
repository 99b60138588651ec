package io.berth.launcher.process;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.berth.core.model.Digest;
import io.berth.core.model.DigestAlgorithm;
import io.berth.http.WireClient;
import io.berth.testsupport.oci.OciClient;
import io.berth.testsupport.oci.Upload;
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
    @TempDir
    Path dir;

    @Test
    void chunkedUploadSurvivesRestart() throws Exception {
        byte[] content = new byte[3 * 1024 * 1024 + 5];
        new Random(7).nextBytes(content);
        byte[] first = Arrays.copyOfRange(content, 0, 2 * 1024 * 1024);
        byte[] rest = Arrays.copyOfRange(content, first.length, content.length);
        Digest digest = Digest.compute(DigestAlgorithm.SHA256, content);
        Upload upload;
        try (BerthProcess before = BerthProcess.start(dir, List.of(), Map.of())) {
            OciClient oci = before.oci();
            upload = oci.patch(oci.startUpload("restart/app"), first);
            assertEquals(0, before.terminate());
        }
        try (BerthProcess after = BerthProcess.start(dir, List.of(), Map.of())) {
            OciClient oci = after.oci();
            Upload status = oci.uploadStatus(upload);
            assertEquals(first.length, status.offset());
            oci.complete(status, digest, rest);
            assertArrayEquals(content, oci.pullBlob("restart/app", digest));
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
        Upload upload;
        try (BerthProcess before = BerthProcess.start(dir, List.of(), Map.of())) {
            OciClient oci = before.oci();
            oci.pushBlob("killed/app", acked);
            upload = oci.patch(oci.startUpload("killed/app"), first);
            // the second chunk is half sent when the process dies
            try (WireClient c = new WireClient(before.httpPort)) {
                c.sendRaw("PATCH " + upload.location()
                        + " HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/octet-stream\r\n"
                        + "Content-Range: " + cut + "-" + (content.length - 1) + "\r\nContent-Length: " + second.length
                        + "\r\n\r\n");
                c.sendRaw(new String(Arrays.copyOfRange(second, 0, second.length / 2), StandardCharsets.ISO_8859_1));
                Thread.sleep(300);
                before.process.process().destroyForcibly().waitFor();
            }
        }
        try (BerthProcess after = BerthProcess.start(dir, List.of(), Map.of())) {
            OciClient oci = after.oci();
            assertArrayEquals(acked, oci.pullBlob("killed/app", ackedDigest));
            Upload status = oci.uploadStatus(upload);
            assertEquals(cut, status.offset(), "only the acknowledged chunk counts");
            oci.complete(oci.patch(status, second), digest);
            assertArrayEquals(content, oci.pullBlob("killed/app", digest));
        }
    }
}
