package io.berth.core.blob;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.berth.core.model.Digest;
import io.berth.core.model.DigestAlgorithm;
import io.berth.core.model.UploadId;
import io.berth.testsupport.contract.BlobStoreContract;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * The contract with uploads written with O_DIRECT. It runs in the build directory (a disk
 * filesystem) rather than the temporary directory, which may be a tmpfs where O_DIRECT falls back to
 * buffered writes, and asserts that the O_DIRECT path is the one that ran.
 */
class FilesystemBlobStoreTest extends BlobStoreContract {
    @Override
    protected BlobStore newStore(Path dir) throws IOException {
        // a container of its own per store, so that a file written beside the root would be seen
        Path onDisk = Path.of("target", "direct-io-tests", UUID.randomUUID().toString(), "root")
                .toAbsolutePath();
        FilesystemBlobStore store = new FilesystemBlobStore(onDisk, true);
        Assumptions.assumeTrue(store.directIo(), "the build directory's filesystem does not support O_DIRECT");
        return store;
    }

    private Path root() {
        return ((FilesystemBlobStore) store).root();
    }

    @Test
    void theDirectPathIsTheOneThatRuns() {
        assertTrue(((FilesystemBlobStore) store).directIo());
    }

    @Test
    void everyFileStaysUnderTheRoot() throws IOException {
        UploadId id = UploadId.random();
        store.createUpload(id);
        store.append(id, 0, new ByteArrayInputStream(new byte[] {1, 2, 3}));
        Digest d = Digest.compute(DigestAlgorithm.SHA256, new byte[] {1, 2, 3});
        store.commitUpload(id, d);
        Path container = root().getParent();
        Path root = root().toRealPath();
        try (Stream<Path> all = Files.walk(container)) {
            List<Path> files = all.filter(Files::isRegularFile).toList();
            assertFalse(files.isEmpty());
            files.forEach(p -> assertTrue(p.toAbsolutePath().startsWith(root), p.toString()));
        }
        assertTrue(store.localFile(d).isPresent());
        assertFalse(store.localFile(Digest.compute(DigestAlgorithm.SHA256, new byte[0]))
                .isPresent());
    }

    /** Records every flush, {@code dir <path>} or {@code data <path>}, in order. */
    private static FileSync recording(List<String> forced) {
        return new FileSync() {
            @Override
            public void directory(Path directory) {
                forced.add("dir " + directory);
            }

            @Override
            public void data(Path file, FileChannel channel) {
                forced.add("data " + file);
            }
        };
    }

    @Test
    void everyCreatedOrRenamedNameIsForcedToDisk() throws IOException {
        List<String> forced = new ArrayList<>();
        Path root = dir.resolve("synced");
        FilesystemBlobStore s = new FilesystemBlobStore(root, true, false, recording(forced));
        // start-up: blobs/ and uploads/ were created under a new root
        assertEquals(
                List.of("dir " + dir, "dir " + root, "dir " + root),
                forced,
                "parents of the created root, blobs and uploads");
        forced.clear();

        Path uploads = root.resolve("uploads");
        UploadId id = UploadId.random();
        s.createUpload(id);
        assertEquals(List.of(), forced, "an empty session's staging file needs no flush");

        s.append(id, 0, new ByteArrayInputStream(new byte[] {4, 5, 6}));
        assertEquals(
                List.of("data " + uploads.resolve(id.value()), "dir " + uploads),
                forced,
                "an acknowledged chunk: its bytes, then (first chunk) the staging file's name");
        forced.clear();
        s.append(id, 3, new ByteArrayInputStream(new byte[] {7}));
        assertEquals(List.of("data " + uploads.resolve(id.value())), forced, "later chunks: their bytes only");
        forced.clear();
        Digest d = Digest.compute(DigestAlgorithm.SHA256, new byte[] {4, 5, 6, 7});
        s.commitUpload(id, d);
        Path alg = root.resolve("blobs/sha256");
        Path prefix = alg.resolve(d.hex().substring(0, 2));
        assertEquals(
                List.of(
                        "data " + uploads.resolve(id.value()),
                        "dir " + root.resolve("blobs"),
                        "dir " + alg,
                        "dir " + prefix),
                forced,
                "the staged bytes, each created directory's parent, then the directory holding the renamed blob");
        forced.clear();

        // a final chunk committed at once (PUT with a body), under the same prefix directory: three
        // flushes in all — the bytes once, at commit, and the rename's directory
        UploadId again = UploadId.random();
        s.createUpload(again);
        s.appendBeforeCommit(again, 0, new ByteArrayInputStream(new byte[] {4, 5, 6, 7}));
        assertEquals(List.of(), forced, "a final chunk is flushed by the commit that follows");
        s.commitUpload(again, d);
        assertEquals(List.of("data " + uploads.resolve(again.value()), "dir " + prefix), forced);
    }

    /**
     * Linux reports a writeback error (EIO, ENOSPC) to one fsync of a file description: when the flush
     * behind the writes meets it, the acknowledging flush on the same channel then succeeds, so the
     * flush behind must go through the same seam and its failure must fail the chunk.
     */
    @Test
    void aFlushBehindThatFailsFailsTheChunkThoughTheLastFlushSucceeds() throws IOException {
        Thread caller = Thread.currentThread();
        List<String> behind = Collections.synchronizedList(new ArrayList<>());
        List<String> acknowledging = new ArrayList<>();
        FileSync failsBehind = new FileSync() {
            @Override
            public void directory(Path directory) {}

            @Override
            public void data(Path file, FileChannel channel) throws IOException {
                if (Thread.currentThread() == caller) {
                    acknowledging.add("data " + file);
                    return;
                }
                behind.add("data " + file);
                throw new IOException("Input/output error");
            }
        };
        FilesystemBlobStore s = new FilesystemBlobStore(dir.resolve("eio"), true, false, failsBehind);
        byte[] content = new byte[(int) (2 * DirectWriter.FLUSH_BEHIND) + 4099];
        UploadId id = UploadId.random();
        s.createUpload(id);
        IOException e = assertThrows(IOException.class, () -> s.append(id, 0, new ByteArrayInputStream(content)));
        assertEquals("Input/output error", e.getMessage());
        assertFalse(behind.isEmpty(), "a flush started behind the writes, through the store's FileSync");
        assertEquals(List.of(), acknowledging, "nothing acknowledged");
        UploadId again = UploadId.random();
        s.createUpload(again);
        assertThrows(IOException.class, () -> s.appendBeforeCommit(again, 0, new ByteArrayInputStream(content)));
    }

    @Test
    void withoutFsyncNothingIsForced() throws IOException {
        List<String> forced = new ArrayList<>();
        FilesystemBlobStore s = new FilesystemBlobStore(dir.resolve("unsynced"), false, false, recording(forced));
        UploadId id = UploadId.random();
        s.createUpload(id);
        s.append(id, 0, new ByteArrayInputStream(new byte[] {1}));
        s.append(id, 1, new ByteArrayInputStream(new byte[] {2}));
        s.commitUpload(id, Digest.compute(DigestAlgorithm.SHA256, new byte[] {1, 2}));
        assertTrue(forced.isEmpty(), forced.toString());
    }

    /**
     * The first uploads at once write through large aligned pairs, the next through small ones, and
     * the rest through the page cache; every one of them ends with exactly the bytes it was sent.
     */
    @Test
    void uploadsBeyondTheLargePairsTakeSmallOnesAndThenThePageCache() throws Exception {
        byte[] content = DirectSourceTest.random(5 * 1024 * 1024 + 4099, 11);
        int holders = AlignedPairs.LARGE_PAIRS + AlignedPairs.SMALL_PAIRS;
        int uploads = holders + 2;
        CountDownLatch waiting = new CountDownLatch(uploads);
        CountDownLatch go = new CountDownLatch(1);
        List<UploadId> ids = new ArrayList<>();
        List<Thread> threads = new ArrayList<>();
        List<Throwable> failures = Collections.synchronizedList(new ArrayList<>());
        for (int i = 0; i < uploads; i++) {
            UploadId id = UploadId.random();
            store.createUpload(id);
            ids.add(id);
            threads.add(Thread.ofVirtual().start(() -> {
                try {
                    store.append(id, 0, new PausingStream(content, 100_000, waiting, go));
                } catch (Throwable e) {
                    failures.add(e);
                }
            }));
        }
        assertTrue(waiting.await(30, TimeUnit.SECONDS), "every upload under way");
        assertEquals(2 * holders, store.buffersInUse().get("direct_write"), "a pair for each of the first ones");
        go.countDown();
        for (Thread t : threads) {
            t.join();
        }
        assertEquals(List.of(), failures);
        assertEquals(0, store.buffersInUse().get("direct_write"), "every pair given back");
        for (UploadId id : ids) {
            try (InputStream in = store.openUpload(id)) {
                assertTrue(Arrays.equals(content, in.readAllBytes()), "content of " + id.value());
            }
        }
    }

    /** Serves {@code content}, waiting after the first {@code pauseAt} bytes until {@code go} opens. */
    private static final class PausingStream extends InputStream {
        private final byte[] content;
        private final int pauseAt;
        private final CountDownLatch waiting;
        private final CountDownLatch go;
        private int pos;

        PausingStream(byte[] content, int pauseAt, CountDownLatch waiting, CountDownLatch go) {
            this.content = content;
            this.pauseAt = pauseAt;
            this.waiting = waiting;
            this.go = go;
        }

        @Override
        public int read() {
            throw new UnsupportedOperationException();
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            if (pos == pauseAt) {
                waiting.countDown();
                try {
                    go.await();
                } catch (InterruptedException e) {
                    throw new InterruptedIOException();
                }
            }
            if (pos == content.length) {
                return -1;
            }
            int n = Math.min(len, (pos < pauseAt ? pauseAt : content.length) - pos);
            System.arraycopy(content, pos, b, off, n);
            pos += n;
            return n;
        }
    }
}
