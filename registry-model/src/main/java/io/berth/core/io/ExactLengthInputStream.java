package io.berth.core.io;

import java.io.EOFException;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;

/**
 * Exactly {@code length} bytes of a stream: it ends after them, and fails loudly (an
 * {@link EOFException} naming {@code what}) when the stream ends before — a short read must never
 * pass as a complete blob. Subclasses see every read through {@link #consumed}.
 */
public class ExactLengthInputStream extends FilterInputStream {
    private final String what;
    private long left;

    public ExactLengthInputStream(InputStream in, long length, String what) {
        super(in);
        this.left = length;
        this.what = what;
    }

    /** Called with the size of every successful read (throttling, counting). */
    protected void consumed(int n) {}

    @Override
    public int read() throws IOException {
        byte[] one = new byte[1];
        return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
        if (left <= 0) {
            return -1;
        }
        int n = super.read(b, off, (int) Math.min(len, left));
        if (n < 0) {
            throw new EOFException(what + " ended " + left + " bytes early");
        }
        left -= n;
        consumed(n);
        return n;
    }
}
