package io.berth.testsupport.contract;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.berth.core.blob.BlobStore;
import io.berth.core.blob.StagedUploadLostException;
import io.berth.core.model.Digest;
import io.berth.core.model.DigestAlgorithm;
import io.berth.core.model.UploadId;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The contract every {@link BlobStore} passes; a backend's test extends this and says how to make one. */
public abstract class BlobStoreContract {
    @TempDir
    protected Path dir;

    protected BlobStore store;

    protected abstract BlobStore newStore(Path dir) throws IOException;

    @BeforeEach
    void open() throws IOException {
        store = newStore(dir);
    }

    @AfterEach
    void close() throws IOException {
        store.close();
    }

    protected static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private Digest stage(UploadId id, byte[] content) throws IOException {
        store.createUpload(id);
        store.append(id, 0, new ByteArrayInputStream(content));
        Digest d = Digest.compute(DigestAlgorithm.SHA256, content);
        store.commitUpload(id, d);
        return d;
    }

    @Test
    void committedUploadBecomesBlob() throws IOException {
        UploadId id = UploadId.random();
        Digest d = stage(id, bytes("hello blob"));
        assertEquals(10, store.size(d).orElseThrow());
        try (InputStream in = store.open(d, 0, 10)) {
            assertArrayEquals(bytes("hello blob"), in.readAllBytes());
        }
        assertEquals(-1, store.uploadSize(id));
        assertTrue(store.list().contains(d));
    }

    @Test
    void rangesReadPartOfABlob() throws IOException {
        Digest d = stage(UploadId.random(), bytes("0123456789"));
        try (InputStream in = store.open(d, 3, 4)) {
            assertArrayEquals(bytes("3456"), in.readAllBytes());
        }
    }

    @Test
    void absentBlobHasNoSizeAndCannotBeOpened() throws IOException {
        Digest d = Digest.compute(DigestAlgorithm.SHA256, bytes("nothing"));
        assertTrue(store.size(d).isEmpty());
        assertThrows(NoSuchFileException.class, () -> store.open(d, 0, 1));
        assertFalse(store.delete(d));
    }

    /**
     * A store that says it can ({@link BlobStore#readsUploadsWhileWritten}) hands out the bytes an
     * append is still writing: everything below the size it reports, in order, while the append waits
     * for more of its body (a pull-through cache's readers behind its window read there).
     */
    @Test
    void anUploadIsReadableWhileItIsStillWritten() throws Exception {
        if (!store.readsUploadsWhileWritten()) {
            return;
        }
        byte[] content = new byte[5 << 20];
        new Random(7).nextBytes(content);
        int pause = 3 << 20;
        CountDownLatch paused = new CountDownLatch(1);
        CountDownLatch resume = new CountDownLatch(1);
        InputStream body = new InputStream() {
            private int at;

            @Override
            public int read() {
                throw new UnsupportedOperationException();
            }

            @Override
            public int read(byte[] b, int off, int len) {
                if (at == pause && paused.getCount() > 0) {
                    paused.countDown();
                    try {
                        resume.await();
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }
                if (at >= content.length) {
                    return -1;
                }
                int n = Math.min(len, (at < pause ? pause : content.length) - at);
                System.arraycopy(content, at, b, off, n);
                at += n;
                return n;
            }
        };
        UploadId id = UploadId.random();
        store.createUpload(id);
        try (ExecutorService writer = Executors.newSingleThreadExecutor()) {
            Future<Long> appended = writer.submit(() -> store.append(id, 0, body));
            assertTrue(paused.await(30, TimeUnit.SECONDS));
            long written = 0;
            for (long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
                    written == 0 && System.nanoTime() < deadline; ) {
                written = store.uploadSize(id);
                Thread.sleep(10);
            }
            assertTrue(written > 0 && written <= pause, "written while the body waits: " + written);
            try (InputStream in = store.openUpload(id, 0, written)) {
                assertArrayEquals(Arrays.copyOf(content, (int) written), in.readAllBytes());
            }
            try (InputStream in = store.openUpload(id, written / 2, written - written / 2)) {
                assertArrayEquals(Arrays.copyOfRange(content, (int) (written / 2), (int) written), in.readAllBytes());
            }
            resume.countDown();
            assertEquals(content.length, appended.get(30, TimeUnit.SECONDS));
        }
        try (InputStream in = store.openUpload(id, 1000, content.length - 1000)) {
            assertArrayEquals(Arrays.copyOfRange(content, 1000, content.length), in.readAllBytes());
        }
    }

    @Test
    void appendsContinueAndRetriedChunksReplaceTheFailedTail() throws IOException {
        UploadId id = UploadId.random();
        store.createUpload(id);
        assertEquals(0, store.uploadSize(id));
        assertEquals(3, store.append(id, 0, new ByteArrayInputStream(bytes("abc"))));
        assertEquals(6, store.append(id, 3, new ByteArrayInputStream(bytes("XYZ"))));
        // a chunk retried at offset 3 replaces what was there
        assertEquals(6, store.append(id, 3, new ByteArrayInputStream(bytes("def"))));
        try (InputStream in = store.openUpload(id)) {
            assertArrayEquals(bytes("abcdef"), in.readAllBytes());
        }
        assertTrue(store.listUploads().contains(id));
        store.deleteUpload(id);
        assertEquals(-1, store.uploadSize(id));
        assertFalse(store.listUploads().contains(id));
    }

    @Test
    void committingContentThatExistsKeepsOneCopy() throws IOException {
        Digest a = stage(UploadId.random(), bytes("same"));
        Digest b = stage(UploadId.random(), bytes("same"));
        assertEquals(a, b);
        assertEquals(1, store.list().stream().filter(a::equals).count());
        assertTrue(store.listUploads().isEmpty());
    }

    @Test
    void deleteRemovesABlob() throws IOException {
        Digest d = stage(UploadId.random(), bytes("gone soon"));
        assertTrue(store.delete(d));
        assertTrue(store.size(d).isEmpty());
        assertTrue(store.modifiedAt(d).isEmpty());
        assertFalse(store.list().contains(d));
    }

    @Test
    void aBlobKnowsWhenItWasWritten() throws IOException {
        long before = System.currentTimeMillis() - 2000; // file times may be coarser than milliseconds
        Digest d = stage(UploadId.random(), bytes("written now"));
        long at = store.modifiedAt(d).orElseThrow();
        assertTrue(at >= before && at <= System.currentTimeMillis() + 2000, "modified at " + at);
    }

    @Test
    void largeContentStreamsInAndOut() throws IOException {
        byte[] big = new byte[9 * 1024 * 1024 + 17]; // each buffer of the largest O_DIRECT pair filled twice
        new Random(7).nextBytes(big);
        Digest d = stage(UploadId.random(), big);
        try (InputStream in = store.open(d, 0, big.length)) {
            assertArrayEquals(big, in.readAllBytes());
        }
    }

    @Test
    void unalignedChunksOfAnySizeJoinUp() throws IOException {
        byte[] all = new byte[6 * 1024 * 1024 + 4321];
        new Random(3).nextBytes(all);
        UploadId id = UploadId.random();
        store.createUpload(id);
        int[] cuts = {0, 5000, 5001, 2 * 1024 * 1024 + 77, 4 * 1024 * 1024, all.length};
        for (int i = 0; i + 1 < cuts.length; i++) {
            long size = store.append(id, cuts[i], new ByteArrayInputStream(all, cuts[i], cuts[i + 1] - cuts[i]));
            assertEquals(cuts[i + 1], size);
        }
        try (InputStream in = store.openUpload(id)) {
            assertArrayEquals(all, in.readAllBytes());
        }
    }

    @Test
    void appendingBeyondWhatIsStagedFailsInsteadOfLeavingAHole() throws IOException {
        UploadId id = UploadId.random();
        store.createUpload(id);
        store.append(id, 0, new ByteArrayInputStream(bytes("abc")));
        assertThrows(StagedUploadLostException.class, () -> store.append(id, 10, new ByteArrayInputStream(bytes("x"))));
        assertEquals(3, store.uploadSize(id), "nothing written");
        UploadId missing = UploadId.random();
        assertThrows(
                StagedUploadLostException.class, () -> store.append(missing, 2, new ByteArrayInputStream(bytes("x"))));
        // an upload whose staging file was never created starts from nothing
        assertEquals(1, store.append(missing, 0, new ByteArrayInputStream(bytes("x"))));
    }

    @Test
    void truncatingDropsUnacknowledgedBytes() throws IOException {
        UploadId id = UploadId.random();
        store.createUpload(id);
        store.append(id, 0, new ByteArrayInputStream(bytes("abcdef")));
        store.truncateUpload(id, 2);
        assertEquals(2, store.uploadSize(id));
        store.truncateUpload(id, 5); // never grows
        assertEquals(2, store.uploadSize(id));
        store.truncateUpload(UploadId.random(), 0); // absent: nothing to do
    }

    @Test
    void aStoredBlobIsReplacedByANewCommitOfTheSameDigest() throws IOException {
        Digest d = stage(UploadId.random(), bytes("mend me"));
        // damage the stored copy, then commit the verified bytes again
        damage(d, bytes("bad"));
        assertEquals(3, store.size(d).orElseThrow());
        stage(UploadId.random(), bytes("mend me"));
        try (InputStream in = store.open(d, 0, 7)) {
            assertArrayEquals(bytes("mend me"), in.readAllBytes());
        }
    }

    /** Replaces what the store holds under {@code d} with {@code content}, as a failing disk or hand would. */
    protected void damage(Digest d, byte[] content) throws IOException {
        try (OutputStream out = Files.newOutputStream(store.localFile(d).orElseThrow())) {
            out.write(content);
        }
    }

    @Test
    void readingPastTheEndOfAShortBlobFailsLoudly() throws IOException {
        Digest d = stage(UploadId.random(), bytes("0123456789"));
        try (InputStream in = store.open(d, 0, 20)) {
            assertThrows(IOException.class, in::readAllBytes);
        }
    }

    @Test
    void reportsAvailability() throws IOException {
        store.checkAvailable();
    }

    @Test
    void aFinalChunkAppendedBeforeCommitIsStored() throws IOException {
        UploadId id = UploadId.random();
        store.createUpload(id);
        byte[] content = {9, 8, 7, 6, 5};
        assertEquals(5, store.appendBeforeCommit(id, 0, new ByteArrayInputStream(content)));
        Digest d = Digest.compute(DigestAlgorithm.SHA256, content);
        store.commitUpload(id, d);
        try (var in = store.open(d, 0, 5)) {
            assertArrayEquals(content, in.readAllBytes());
        }
    }
}
