package io.berth.testsupport;

import java.io.InputStream;

/** {@code length} bytes: {@code block} over and over, without holding more than the block in memory. */
public final class RepeatingStream extends InputStream {
    private final byte[] block;
    private long left;
    private int pos;

    public RepeatingStream(byte[] block, long length) {
        this.block = block;
        this.left = length;
    }

    @Override
    public int read() {
        byte[] one = new byte[1];
        return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
    }

    @Override
    public int read(byte[] b, int off, int len) {
        if (left == 0) {
            return -1;
        }
        if (pos == block.length) {
            pos = 0;
        }
        int n = (int) Math.min(Math.min(len, block.length - pos), left);
        System.arraycopy(block, pos, b, off, n);
        pos += n;
        left -= n;
        return n;
    }
}
