package io.berth.replicator;

import io.berth.core.io.ExactLengthInputStream;
import io.github.resilience4j.ratelimiter.RateLimiter;
import java.io.InputStream;
import java.util.function.LongConsumer;

/** Views of a blob's byte stream for one chunk of an upload. */
final class Streams {
    private Streams() {}

    /**
     * At most {@code length} bytes of {@code in}, throttled by {@code limiter} (one permit per KiB, when
     * given), counted by {@code counted}; closing it leaves {@code in} open for the next chunk.
     */
    static InputStream chunk(InputStream in, long length, RateLimiter limiter, LongConsumer counted) {
        return new ExactLengthInputStream(in, length, "the source") {
            @Override
            protected void consumed(int n) {
                if (limiter != null) {
                    limiter.acquirePermission(Math.max(1, n >> 10));
                }
                counted.accept(n);
            }

            @Override
            public void close() {
                // the next chunk reads on from the same stream
            }
        };
    }
}
