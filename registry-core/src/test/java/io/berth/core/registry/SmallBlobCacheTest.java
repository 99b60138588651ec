package io.berth.core.registry;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.berth.core.model.Digest;
import io.berth.core.model.DigestAlgorithm;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class SmallBlobCacheTest {
    private static Digest d(String s) {
        return Digest.compute(DigestAlgorithm.SHA256, s.getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void boundedInBytesLeastRecentlyUsedOut() {
        SmallBlobCache cache = new SmallBlobCache(100);
        cache.put(d("a"), new byte[40]);
        cache.put(d("b"), new byte[40]);
        cache.get(d("a")); // a is now the most recently used
        cache.put(d("c"), new byte[40]);
        assertNull(cache.get(d("b")), "the least recently used went");
        assertEquals(40, cache.get(d("a")).length);
        assertEquals(40, cache.get(d("c")).length);
        assertEquals(80, cache.bytes());
    }

    @Test
    void largeBlobsAndReplacementsKeepTheCount() {
        SmallBlobCache cache = new SmallBlobCache(1 << 20);
        cache.put(d("big"), new byte[SmallBlobCache.MAX_ENTRY + 1]);
        assertNull(cache.get(d("big")));
        cache.put(d("x"), new byte[10]);
        cache.put(d("x"), new byte[12]);
        assertEquals(12, cache.bytes());
        cache.remove(d("x"));
        assertEquals(0, cache.bytes());
        assertEquals(0, cache.size());
        SmallBlobCache off = new SmallBlobCache(0);
        off.put(d("y"), new byte[1]);
        assertNull(off.get(d("y")), "capacity 0 keeps nothing");
    }

    @Test
    void keepsTheBytesItWasGiven() {
        SmallBlobCache cache = new SmallBlobCache(1 << 20);
        byte[] content = "config".getBytes(StandardCharsets.UTF_8);
        cache.put(d("config"), content);
        assertArrayEquals(content, cache.get(d("config")));
    }
}
