package io.berth.core.blob;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.berth.core.model.Digest;
import io.berth.core.model.DigestAlgorithm;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.security.MessageDigest;
import java.util.Random;
import org.junit.jupiter.api.Test;

class DigestingInputStreamTest {
    @Test
    void hashesEveryByteWhateverTheReadSizes() throws IOException {
        byte[] data = new byte[5 * 1024 * 1024 + 123];
        new Random(42).nextBytes(data);
        MessageDigest md = DigestAlgorithm.SHA256.newMessageDigest();
        try (DigestingInputStream in = new DigestingInputStream(new ByteArrayInputStream(data), md)) {
            byte[] buf = new byte[7919];
            int n;
            long total = 0;
            while ((n = in.read(buf)) > 0) {
                total += n;
            }
            assertEquals(data.length, total);
            assertEquals(data.length, in.count());
            assertArrayEquals(DigestAlgorithm.SHA256.newMessageDigest().digest(data), in.finish().digest());
        }
    }

    @Test
    void emptyStreamHashesToTheEmptyDigest() throws IOException {
        MessageDigest md = DigestAlgorithm.SHA512.newMessageDigest();
        try (DigestingInputStream in = new DigestingInputStream(new ByteArrayInputStream(new byte[0]), md)) {
            assertEquals(-1, in.read());
            assertEquals(Digest.compute(DigestAlgorithm.SHA512, new byte[0]),
                    Digest.of(DigestAlgorithm.SHA512, in.finish().digest()));
        }
    }
}
