package io.berth.core.blob;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.berth.core.model.Digest;
import io.berth.core.model.DigestAlgorithm;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Test;

class DigestingInputStreamTest {
    final BufferPool pool = BufferPool.heap("test", 1 << 16, 64, Duration.ofSeconds(5));

    @AfterEach
    void everyBufferIsBack() {
        assertEquals(0, pool.inUse(), "buffers returned to the pool");
    }

    @Test
    void aTinySharedPoolStillHashesEverythingFromSeveralStreams() throws Exception {
        // two buffers for four concurrent streams of 3 MiB: they wait for each other, none fails
        BufferPool tiny = BufferPool.heap("tiny", 1 << 16, 2, Duration.ofSeconds(30));
        List<Future<Boolean>> results = new ArrayList<>();
        try (var pool4 = Executors.newVirtualThreadPerTaskExecutor()) {
            for (int t = 0; t < 4; t++) {
                int seed = t;
                results.add(pool4.submit(() -> {
                    byte[] data = new byte[3 << 20];
                    new Random(seed).nextBytes(data);
                    MessageDigest md = DigestAlgorithm.SHA256.newMessageDigest();
                    try (DigestingInputStream in = new DigestingInputStream(new ByteArrayInputStream(data), md, tiny)) {
                        in.transferTo(OutputStream.nullOutputStream());
                        return Arrays.equals(
                                DigestAlgorithm.SHA256.newMessageDigest().digest(data),
                                in.finish().digest());
                    }
                }));
            }
            for (var r : results) {
                Assertions.assertTrue(r.get());
            }
        }
        assertEquals(0, tiny.inUse());
        Assertions.assertTrue(tiny.max() == 2);
    }

    @Test
    void hashesEveryByteWhateverTheReadSizes() throws IOException {
        byte[] data = new byte[5 * 1024 * 1024 + 123];
        new Random(42).nextBytes(data);
        MessageDigest md = DigestAlgorithm.SHA256.newMessageDigest();
        try (DigestingInputStream in = new DigestingInputStream(new ByteArrayInputStream(data), md, pool)) {
            byte[] buf = new byte[7919];
            int n;
            long total = 0;
            while ((n = in.read(buf)) > 0) {
                total += n;
            }
            assertEquals(data.length, total);
            assertEquals(data.length, in.count());
            assertArrayEquals(
                    DigestAlgorithm.SHA256.newMessageDigest().digest(data),
                    in.finish().digest());
        }
    }

    @Test
    void emptyStreamHashesToTheEmptyDigest() throws IOException {
        MessageDigest md = DigestAlgorithm.SHA512.newMessageDigest();
        try (DigestingInputStream in = new DigestingInputStream(new ByteArrayInputStream(new byte[0]), md, pool)) {
            assertEquals(-1, in.read());
            assertEquals(
                    Digest.compute(DigestAlgorithm.SHA512, new byte[0]),
                    Digest.of(DigestAlgorithm.SHA512, in.finish().digest()));
        }
    }

    @Test
    void inlineHashingGivesTheSameDigestWithoutAThreadOrBuffers() throws IOException {
        byte[] data = new byte[300_000];
        new Random(7).nextBytes(data);
        MessageDigest md = DigestAlgorithm.SHA256.newMessageDigest();
        try (DigestingInputStream in = DigestingInputStream.inline(new ByteArrayInputStream(data), md)) {
            byte[] copy = in.readAllBytes();
            assertArrayEquals(data, copy);
            assertEquals(data.length, in.count());
            assertEquals(
                    Digest.compute(DigestAlgorithm.SHA256, data),
                    Digest.of(DigestAlgorithm.SHA256, in.finish().digest()));
            assertEquals(0, in.skip(10), "no byte may be skipped unhashed");
        }
    }
}
