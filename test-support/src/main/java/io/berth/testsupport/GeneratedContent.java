package io.berth.testsupport;

import io.berth.core.model.Digest;
import io.berth.core.model.DigestAlgorithm;
import java.io.IOException;
import java.io.InputStream;
import java.security.MessageDigest;
import java.util.Random;

/** Large, deterministic, non-repeating-enough content streamed from a seed without holding it in memory. */
public final class GeneratedContent extends InputStream {
    private static final int BLOCK = 1 << 20;
    private final byte[] block = new byte[BLOCK];
    private final long length;
    private final long start;
    private long position;

    public GeneratedContent(long seed, long start, long length) {
        new Random(seed).nextBytes(block);
        this.start = start;
        this.position = start;
        this.length = length;
    }

    @Override
    public int read() {
        byte[] one = new byte[1];
        return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
    }

    @Override
    public int read(byte[] b, int off, int len) {
        long remaining = start + length - position;
        if (remaining <= 0) {
            return -1;
        }
        int n = (int) Math.min(len, remaining);
        int done = 0;
        while (done < n) {
            long blockIndex = position / BLOCK;
            int inBlock = (int) (position % BLOCK);
            int k = Math.min(n - done, BLOCK - inBlock);
            System.arraycopy(block, inBlock, b, off + done, k);
            // stamp the block number into its first 8 bytes so blocks differ
            for (int i = 0; i < 8; i++) {
                int at = i - inBlock;
                if (at >= 0 && at < k) {
                    b[off + done + at] = (byte) (blockIndex >>> (8 * i));
                }
            }
            done += k;
            position += k;
        }
        return n;
    }

    public static Digest digest(long seed, long length) throws IOException {
        MessageDigest md = DigestAlgorithm.SHA256.newMessageDigest();
        try (InputStream in = new GeneratedContent(seed, 0, length)) {
            byte[] buf = new byte[BLOCK];
            int n;
            while ((n = in.read(buf)) > 0) {
                md.update(buf, 0, n);
            }
        }
        return Digest.of(DigestAlgorithm.SHA256, md.digest());
    }
}
