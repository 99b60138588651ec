package io.berth.launcher.process;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

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
 * before a kill is there after it, also for bodies written through the page cache past several
 * flush-behind steps (storage.filesystem.direct-io false, the default).
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

    @Test
    void sigkillWhileLargeBodiesAreFlushedBehindKeepsEveryAcknowledgedByte() throws Exception {
        int mib = 1 << 20;
        Random random = new Random(13);
        // each body crosses the flush-behind step (32 MiB) at least once
        byte[] monolithic = new byte[40 * mib + 3];
        byte[] chunked = new byte[76 * mib + 5];
        byte[] open = new byte[41 * mib + 7];
        byte[] killed = new byte[96 * mib];
        for (byte[] b : List.of(monolithic, chunked, open, killed)) {
            random.nextBytes(b);
        }
        Digest monolithicDigest = Digest.compute(DigestAlgorithm.SHA256, monolithic);
        Digest chunkedDigest = Digest.compute(DigestAlgorithm.SHA256, chunked);
        int cut = 40 * mib;
        Upload acknowledged;
        Upload interrupted;
        try (BerthProcess before = BerthProcess.start(dir, List.of(), Map.of())) {
            assertTrue(
                    before.process.output().contains("(buffered, fsync)"),
                    "writes through the page cache, flushed: " + before.process.output());
            OciClient oci = before.oci();
            oci.pushBlob("flushed/app", monolithic); // one POST: the body is flushed by the commit
            Upload upload = oci.patch(oci.startUpload("flushed/app"), Arrays.copyOfRange(chunked, 0, cut));
            oci.complete(upload, chunkedDigest, Arrays.copyOfRange(chunked, cut, chunked.length));
            acknowledged = oci.patch(oci.startUpload("flushed/app"), open);
            interrupted = oci.patch(oci.startUpload("flushed/app"), Arrays.copyOfRange(killed, 0, mib));
            // the next chunk is well past a flush-behind step when the process dies
            try (WireClient c = new WireClient(before.httpPort)) {
                c.sendRaw("PATCH " + interrupted.location()
                        + " HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/octet-stream\r\n"
                        + "Content-Range: " + mib + "-" + (killed.length - 1) + "\r\nContent-Length: "
                        + (killed.length - mib) + "\r\n\r\n");
                c.sendRaw(killed, mib, 70 * mib);
                Thread.sleep(300);
                before.process.process().destroyForcibly().waitFor();
            }
        }
        try (BerthProcess after = BerthProcess.start(dir, List.of(), Map.of())) {
            OciClient oci = after.oci();
            assertArrayEquals(monolithic, oci.pullBlob("flushed/app", monolithicDigest));
            assertArrayEquals(chunked, oci.pullBlob("flushed/app", chunkedDigest));
            Upload status = oci.uploadStatus(acknowledged);
            assertEquals(open.length, status.offset(), "the acknowledged PATCH is whole");
            Digest openDigest = Digest.compute(DigestAlgorithm.SHA256, open);
            oci.complete(status, openDigest);
            assertArrayEquals(open, oci.pullBlob("flushed/app", openDigest));
            Upload resumed = oci.uploadStatus(interrupted);
            assertEquals(mib, resumed.offset(), "only the acknowledged chunk of the killed upload counts");
            Digest killedDigest = Digest.compute(DigestAlgorithm.SHA256, killed);
            oci.complete(resumed, killedDigest, Arrays.copyOfRange(killed, mib, killed.length));
            assertArrayEquals(killed, oci.pullBlob("flushed/app", killedDigest));
        }
    }
}
