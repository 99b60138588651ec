package io.berth.bench;

import io.berth.core.blob.BufferPool;
import io.berth.core.blob.DigestingInputStream;
import io.berth.testsupport.GeneratedContent;
import java.io.InputStream;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * SHA-256 of 1 GiB in 16 streams read at once through {@link DigestingInputStream} (hashed on
 * other threads, as uploads are), six times in this JVM; prints MB/s per pass and asserts nothing about time. On CPUs with
 * AVX-512 the JIT's 512-bit code made whole passes 10-20 times slower at random (100-200 MB/s
 * instead of 1.3-2 GB/s); {@code bin/berth} therefore caps it at AVX2. Compare:
 * {@code bin/test -pl registry-core -Dgroups=benchmark -Dberth.test.excluded-groups= -Dtest=HashingBenchmark}
 * with and without {@code -DargLine=-XX:UseAVX=2}.
 */
@Tag("benchmark")
class HashingBenchmark {
    private static final long TOTAL = 1L << 30;
    private static final int STREAMS = 16;

    @Test
    void oneGibibyteHashedWhileRead() throws Exception {
        BufferPool pool = BufferPool.heap("hashing", 1 << 16, 64, Duration.ofSeconds(30));
        for (int pass = 1; pass <= 6; pass++) {
            long start = System.nanoTime();
            try (var streams = Executors.newVirtualThreadPerTaskExecutor()) {
                for (int s = 0; s < STREAMS; s++) {
                    streams.submit(() -> {
                        MessageDigest md = MessageDigest.getInstance("SHA-256");
                        InputStream content = new GeneratedContent(1, 0, TOTAL / STREAMS);
                        try (InputStream in = new DigestingInputStream(content, md, pool)) {
                            byte[] buf = new byte[256 * 1024];
                            while (in.read(buf) >= 0) {
                                // the bytes pass through; the digest is what is measured
                            }
                        }
                        return md.digest();
                    });
                }
            }
            double seconds = (System.nanoTime() - start) / 1e9;
            System.out.printf("hashing pass %d: %.0f MB/s%n", pass, TOTAL / 1e6 / seconds);
        }
    }
}
