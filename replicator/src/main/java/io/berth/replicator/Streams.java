package io.berth.replicator;

import io.github.resilience4j.ratelimiter.RateLimiter;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.function.LongConsumer;

/** Views of a blob's byte stream for one chunk of an upload. */
final class Streams {
    private Streams() {
    }

    /**
     * At most {@code length} bytes of {@code in}, throttled by {@code limiter} (one permit per KiB, when
     * given), counted by {@code counted}; closing it leaves {@code in} open for the next chunk.
     */
    static InputStream chunk(InputStream in, long length, RateLimiter limiter, LongConsumer counted) {
        return new FilterInputStream(in) {
            long left = length;

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
                    throw new IOException("the source ended " + left + " bytes early");
                }
                left -= n;
                if (limiter != null) {
                    limiter.acquirePermission(Math.max(1, n >> 10));
                }
                counted.accept(n);
                return n;
            }

            @Override
            public void close() {
                // the next chunk reads on from the same stream
            }
        };
    }
}
