package io.berth.storage.s3;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.InterruptedIOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The rules of the shared part buffers, without S3: a client has a quarter of the pool as its share
 * and borrows beyond it only while more than a share is free, so one client never holds the last
 * quarter; a buffer given back goes to a waiter its rules admit.
 */
class PartBuffersTest {
    private static CompletableFuture<byte[]> takeLater(S3BlobStore.PartBuffers pool, String client) {
        CompletableFuture<byte[]> taken = new CompletableFuture<>();
        Thread.ofVirtual().start(() -> {
            try {
                taken.complete(pool.take(client));
            } catch (InterruptedIOException e) {
                taken.completeExceptionally(new UncheckedIOException(e));
            }
        });
        return taken;
    }

    @Test
    void oneClientBorrowsUpToAllButAShareAndTheRestStaysForOthers() throws Exception {
        S3BlobStore.PartBuffers pool = new S3BlobStore.PartBuffers(8);
        assertEquals(2, pool.share());
        List<byte[]> mine = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            mine.add(pool.take("10.0.0.1")); // borrowed while more than a share was free
        }
        CompletableFuture<byte[]> seventh = takeLater(pool, "10.0.0.1");
        Thread.sleep(200);
        assertFalse(seventh.isDone(), "the last share of the pool is not the first client's");
        assertTrue(pool.othersWaiting("10.0.0.2"));
        assertFalse(pool.othersWaiting("10.0.0.1"), "only its own part waits");
        // another client takes the rest at once
        byte[] a = pool.take("10.0.0.2");
        byte[] b = pool.take("10.0.0.2");
        assertEquals(8, pool.inUse());
        assertEquals(6, pool.heldBy("10.0.0.1"));
        // a buffer the other client gives back: the first client is still beyond its share while the pool is busy
        pool.give(b, "10.0.0.2");
        Thread.sleep(200);
        assertFalse(seventh.isDone());
        // with more than a share free again, it borrows again
        for (int i = 0; i < 4; i++) {
            pool.give(mine.remove(0), "10.0.0.1");
        }
        byte[] again = seventh.get(5, TimeUnit.SECONDS);
        assertEquals(3, pool.heldBy("10.0.0.1"));
        pool.give(again, "10.0.0.1");
        pool.give(a, "10.0.0.2");
        for (byte[] buf : mine) {
            pool.give(buf, "10.0.0.1");
        }
        assertEquals(0, pool.inUse());
        assertEquals(0, pool.heldBy("10.0.0.1"));
    }

    @Test
    void partsWithoutAClientTakeAnyFreeBufferAndOnlyThose() throws Exception {
        S3BlobStore.PartBuffers pool = new S3BlobStore.PartBuffers(2);
        assertEquals(1, pool.share());
        byte[] a = pool.take(null);
        byte[] b = pool.take(null);
        CompletableFuture<byte[]> third = takeLater(pool, null);
        Thread.sleep(200);
        assertFalse(third.isDone(), "never more than the pool has");
        pool.give(a, null);
        pool.give(third.get(5, TimeUnit.SECONDS), null);
        pool.give(b, null);
        assertEquals(0, pool.inUse());
    }
}
