package io.berth.core.registry;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.berth.core.error.ErrorCode;
import io.berth.core.error.RegistryException;
import io.berth.core.model.Digest;
import io.berth.core.model.DigestAlgorithm;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.NoSuchFileException;
import java.util.Arrays;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** How a fill's readers get its bytes: from its window, from what it wrote, from the stored blob. */
class BlobFillTest {
    private static final int MIB = 1 << 20;

    private final ExecutorService readers = Executors.newCachedThreadPool();

    @AfterEach
    void stop() {
        readers.shutdownNow();
    }

    private static byte[] content(int size) {
        byte[] b = new byte[size];
        new Random(size).nextBytes(b);
        return b;
    }

    private static BlobFill fill(byte[] content, AtomicBoolean committed) {
        return new BlobFill(Digest.compute(DigestAlgorithm.SHA256, content), content.length, (offset, length) -> {
            assertTrue(committed.get(), "the stored blob is opened only once committed");
            return new ByteArrayInputStream(content, (int) offset, (int) length);
        });
    }

    private static void arrive(BlobFill fill, byte[] content, int from, int to) {
        for (int at = from; at < to; at += 64 * 1024) {
            fill.arrived(content, at, Math.min(64 * 1024, to - at));
        }
    }

    /** What the fill wrote so far: the first {@code written} bytes of {@code content}. */
    private static BlobFill.Staged staged(byte[] content, AtomicLong written) {
        return new BlobFill.Staged() {
            @Override
            public long written() {
                return written.get();
            }

            @Override
            public InputStream open(long offset, long length) {
                assertTrue(offset + length <= written.get(), "only written bytes are read");
                return new ByteArrayInputStream(content, (int) offset, (int) length);
            }
        };
    }

    /** What a fill wrote, {@code written} bytes, whose file is gone when opened: {@code onOpen} first. */
    private static BlobFill.Staged vanishingOnOpen(long written, Runnable onOpen) {
        return new BlobFill.Staged() {
            @Override
            public long written() {
                return written;
            }

            @Override
            public InputStream open(long offset, long length) throws IOException {
                onOpen.run();
                throw new NoSuchFileException("staging file");
            }
        };
    }

    private Future<byte[]> read(BlobFill fill, long offset, long length, int count) {
        return readers.submit(() -> {
            try (InputStream in = fill.open(offset, length)) {
                return in.readNBytes(count);
            }
        });
    }

    @Test
    void aReaderBehindTheWindowReadsWhatIsWrittenWithoutWaitingForTheCommit() throws Exception {
        byte[] content = content(8 * MIB);
        AtomicBoolean committed = new AtomicBoolean();
        BlobFill fill = fill(content, committed);
        arrive(fill, content, 0, 4 * MIB);
        fill.staging(staged(content, new AtomicLong(4 * MIB)));

        // the old fill made this reader wait for the commit: a slow client stalled for the whole blob
        byte[] first = read(fill, 0, content.length, 4 * MIB).get(10, TimeUnit.SECONDS);
        assertArrayEquals(Arrays.copyOf(content, 4 * MIB), first);

        Future<byte[]> all = read(fill, 0, content.length, content.length);
        arrive(fill, content, 4 * MIB, content.length);
        committed.set(true);
        fill.committed();
        assertArrayEquals(content, all.get(10, TimeUnit.SECONDS));
    }

    @Test
    void aReaderBehindTheWindowWaitsForBytesTheFillHasNotWrittenYet() throws Exception {
        byte[] content = content(8 * MIB);
        AtomicBoolean committed = new AtomicBoolean();
        AtomicLong written = new AtomicLong(MIB);
        BlobFill fill = fill(content, committed);
        arrive(fill, content, 0, 4 * MIB); // arrived, but the write of the rest is still in flight
        fill.staging(staged(content, written));

        Future<byte[]> reader = read(fill, 0, content.length, 3 * MIB);
        assertThrows(TimeoutException.class, () -> reader.get(300, TimeUnit.MILLISECONDS));
        written.set(4 * MIB);
        assertArrayEquals(Arrays.copyOf(content, 3 * MIB), reader.get(10, TimeUnit.SECONDS));
    }

    @Test
    void writtenBytesStillHoldBackTheTailUntilVerified() throws Exception {
        byte[] content = content(4 * MIB);
        AtomicBoolean committed = new AtomicBoolean();
        BlobFill fill = fill(content, committed);
        arrive(fill, content, 0, content.length);
        fill.staging(staged(content, new AtomicLong(content.length)));

        int released = content.length - BlobFill.HOLD_BACK;
        byte[] before = read(fill, 0, content.length, released).get(10, TimeUnit.SECONDS);
        assertArrayEquals(Arrays.copyOf(content, released), before);
        Future<byte[]> whole = read(fill, 0, content.length, content.length);
        assertThrows(TimeoutException.class, () -> whole.get(300, TimeUnit.MILLISECONDS));
        committed.set(true);
        fill.committed();
        assertArrayEquals(content, whole.get(10, TimeUnit.SECONDS));
    }

    @Test
    void writtenBytesThatVanishWithTheCommitAreReadFromTheStoredBlob() throws Exception {
        byte[] content = content(4 * MIB);
        AtomicBoolean committed = new AtomicBoolean();
        BlobFill fill = fill(content, committed);
        arrive(fill, content, 0, content.length);
        // the staging file is renamed into the stored blob between the reader's look and its open
        fill.staging(vanishingOnOpen(content.length, () -> {
            committed.set(true);
            fill.committed();
        }));
        assertArrayEquals(content, read(fill, 0, content.length, content.length).get(10, TimeUnit.SECONDS));
    }

    @Test
    void aFillThatFailsWhileItsWrittenBytesAreReadFailsTheReader() throws Exception {
        byte[] content = content(4 * MIB);
        BlobFill fill = fill(content, new AtomicBoolean());
        arrive(fill, content, 0, 2 * MIB);
        RegistryException wrong = new RegistryException(ErrorCode.UPSTREAM_FAILED, "bytes that do not match");
        // failed, and the staging file deleted with it
        fill.staging(vanishingOnOpen(2 * MIB, () -> fill.failed(wrong)));
        Future<byte[]> reader = read(fill, 0, content.length, content.length);
        Exception e = assertThrows(Exception.class, () -> reader.get(10, TimeUnit.SECONDS));
        BlobFill.FillFailedException failed = (BlobFill.FillFailedException) e.getCause();
        assertEquals(wrong, failed.failure());
    }

    /**
     * The commit renames the staging file, then records the blob (a durable transaction), and only then
     * says committed: a reader that opens the staging file in between finds it gone. That is not a
     * damaged blob; the reader waits for the commit and reads the stored blob.
     */
    @Test
    void aStagingFileRenamedBeforeTheFillSaysCommittedSendsTheReaderToTheStoredBlob() throws Exception {
        byte[] content = content(4 * MIB);
        AtomicBoolean committed = new AtomicBoolean();
        BlobFill fill = fill(content, committed);
        arrive(fill, content, 0, content.length);
        CountDownLatch renamed = new CountDownLatch(1);
        // renamed; committed() not yet called
        fill.staging(vanishingOnOpen(content.length, renamed::countDown));
        Future<byte[]> reader = read(fill, 0, content.length, content.length);
        assertTrue(renamed.await(10, TimeUnit.SECONDS));
        Thread.sleep(100); // the metadata transaction
        committed.set(true);
        fill.committed();
        assertArrayEquals(content, reader.get(10, TimeUnit.SECONDS));
    }

    /** A failed fill deletes its staging file before it says failed: the reader gets the fill's failure. */
    @Test
    void aStagingFileDeletedBeforeTheFillSaysFailedFailsTheReaderWithTheFillsFailure() throws Exception {
        byte[] content = content(4 * MIB);
        BlobFill fill = fill(content, new AtomicBoolean());
        arrive(fill, content, 0, content.length);
        CountDownLatch deleted = new CountDownLatch(1);
        // deleted; failed() not yet called
        fill.staging(vanishingOnOpen(content.length, deleted::countDown));
        Future<byte[]> reader = read(fill, 0, content.length, content.length);
        assertTrue(deleted.await(10, TimeUnit.SECONDS));
        Thread.sleep(100);
        RegistryException wrong = new RegistryException(ErrorCode.UPSTREAM_FAILED, "bytes that do not match");
        fill.failed(wrong);
        Exception e = assertThrows(Exception.class, () -> reader.get(10, TimeUnit.SECONDS));
        BlobFill.FillFailedException failed = assertInstanceOf(BlobFill.FillFailedException.class, e.getCause());
        assertEquals(wrong, failed.failure());
    }

    /**
     * The file grows a write buffer (up to 2 MiB) at a time while chunks of a few KiB arrive: a reader
     * waiting for the next write looks at the file once per poll, not once per chunk (a stat per chunk
     * per reader, for every reader of the blob).
     */
    @Test
    void aReaderWaitingForTheNextWriteLooksAtTheFileOncePerPollNotPerChunk() throws Exception {
        byte[] content = content(8 * MIB);
        AtomicBoolean committed = new AtomicBoolean();
        BlobFill fill = fill(content, committed);
        arrive(fill, content, 0, 4 * MIB);
        AtomicLong looks = new AtomicLong();
        fill.staging(new BlobFill.Staged() {
            @Override
            public long written() {
                looks.incrementAndGet();
                return MIB;
            }

            @Override
            public InputStream open(long offset, long length) {
                return new ByteArrayInputStream(content, (int) offset, (int) length);
            }
        });
        Future<byte[]> reader = read(fill, 0, content.length, content.length);
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(300);
        int at = 4 * MIB;
        while (System.nanoTime() < deadline && at < content.length - 64) {
            fill.arrived(content, at, 64);
            at += 64;
            LockSupport.parkNanos(20_000);
        }
        long seen = looks.get();
        assertTrue(
                seen < 150,
                "looked at the file " + seen + " times in 300 ms while " + (at - 4 * MIB) / 64 + " chunks arrived");
        arrive(fill, content, at, content.length);
        committed.set(true);
        fill.committed();
        assertArrayEquals(content, reader.get(10, TimeUnit.SECONDS));
    }
}
