package io.berth.core.blob;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Reading a blob's byte range through pooled buffers: exactly the range, never a quietly short body,
 * and a pool that bounds the buffers in use, refuses when exhausted and gets each one back.
 */
class BlobReadBuffersTest {
    @TempDir
    Path dir;

    Path file(int size) throws IOException {
        byte[] bytes = new byte[size];
        for (int i = 0; i < size; i++) {
            bytes[i] = (byte) (i * 31 + 7);
        }
        Path f = dir.resolve("blob-" + size);
        Files.write(f, bytes);
        return f;
    }

    static FileRangeInputStream range(Path f, long offset, long length, BufferPool pool) throws IOException {
        return new FileRangeInputStream(FileChannel.open(f, StandardOpenOption.READ), offset, length, pool);
    }

    @Test
    void aRangeReadsExactlyItsBytesThroughBuffersSmallerThanIt() throws Exception {
        Path f = file(1000);
        byte[] all = Files.readAllBytes(f);
        BufferPool pool = BufferPool.direct("test", 64, 0, 1, Duration.ofSeconds(1));
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (FileRangeInputStream in = range(f, 100, 300, pool)) {
            assertEquals(300, in.available(), "before the first read: the whole range");
            assertEquals(0, in.read(new byte[8], 0, 0), "nothing asked, nothing read");
            assertEquals(0, pool.inUse(), "no buffer before the first read");
            int first = in.read();
            assertEquals(all[100] & 0xff, first);
            assertEquals(1, pool.inUse());
            assertEquals(299, in.available());
            out.write(first);
            byte[] chunk = new byte[100];
            for (int n; (n = in.read(chunk, 0, chunk.length)) > 0; ) {
                assertTrue(n <= 64, "at most a buffer per read: " + n);
                out.write(chunk, 0, n);
            }
            assertEquals(-1, in.read(chunk, 0, chunk.length), "the end stays the end");
            assertEquals(-1, in.read());
            assertEquals(0, in.available());
        }
        assertArrayEquals(Arrays.copyOfRange(all, 100, 400), out.toByteArray());
        assertEquals(0, pool.inUse(), "the buffer is given back on close");
        try (FileRangeInputStream empty = range(f, 1000, 0, pool)) {
            assertEquals(-1, empty.read(new byte[8], 0, 8), "an empty range at the end of the file");
            assertEquals(0, pool.inUse(), "takes no buffer");
        }
    }

    @Test
    void aFileShorterThanItsRecordedLengthFailsInsteadOfEndingQuietly() throws Exception {
        Path f = file(100);
        BufferPool pool = BufferPool.heap("test", 64, 1, Duration.ofSeconds(1));
        try (FileRangeInputStream in = range(f, 0, 150, pool)) {
            byte[] b = new byte[200];
            assertEquals(64, in.read(b, 0, b.length));
            assertEquals(36, in.read(b, 0, b.length));
            EOFException e = assertThrows(EOFException.class, () -> in.read(b, 0, b.length));
            assertEquals("blob file ends at byte 100, 50 bytes before the end recorded for it", e.getMessage());
        }
        FileRangeInputStream closed = range(f, 0, 10, pool);
        closed.close();
        closed.close();
        assertEquals(0, pool.inUse(), "closing twice gives back nothing twice");
        assertEquals(
                "stream closed",
                assertThrows(IOException.class, () -> closed.read(new byte[4], 0, 4))
                        .getMessage());
    }

    @Test
    void aPoolBoundsItsBuffersAndRefusesWhenExhausted() throws Exception {
        BufferPool pool = BufferPool.direct("reads", 4096, 512, 2, Duration.ofMillis(50));
        assertEquals(4096, pool.bufferSize());
        assertEquals(2, pool.max());
        ByteBuffer[] two = pool.acquire(2);
        for (ByteBuffer b : two) {
            assertTrue(b.isDirect());
            assertEquals(4096, b.capacity());
            assertEquals(4096, b.remaining(), "handed out cleared");
            assertEquals(0, b.alignmentOffset(0, 512), "aligned for O_DIRECT");
        }
        assertEquals(2, pool.inUse());
        assertNull(pool.tryAcquire(1), "none free now: the caller takes another path");
        BufferPool.PoolExhaustedException e = assertThrows(BufferPool.PoolExhaustedException.class, pool::acquire);
        assertEquals("reads buffers: all 2 in use for 0s", e.getMessage());
        two[0].put((byte) 1);
        pool.release(two[0]);
        pool.release(null);
        assertEquals(1, pool.inUse(), "null is not a buffer");
        ByteBuffer again = pool.tryAcquire(1)[0];
        assertTrue(again == two[0], "a direct buffer is kept and handed out again");
        assertEquals(0, again.position(), "cleared when handed out again");
        pool.release(again);
        pool.release(two[1]);
        assertEquals(0, pool.inUse());

        BufferPool heap = BufferPool.heap("heap", 16, 1, Duration.ofMillis(50));
        ByteBuffer h = heap.acquire();
        assertTrue(h.hasArray(), "a heap pool's buffers have arrays");
        heap.release(h);
        assertTrue(heap.acquire() != h, "a heap buffer is left to the collector, not kept");
        assertThrows(IllegalArgumentException.class, () -> BufferPool.heap("x", 0, 1, Duration.ZERO));
        assertThrows(IllegalArgumentException.class, () -> BufferPool.heap("x", 1, 0, Duration.ZERO));
        assertTrue(
                BufferPool.direct("plain", 100, 0, 1, Duration.ZERO).acquire().isDirect());
    }
}
