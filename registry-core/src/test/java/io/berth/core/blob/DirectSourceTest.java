package io.berth.core.blob;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.berth.core.model.Digest;
import io.berth.core.model.DigestAlgorithm;
import io.berth.core.model.UploadId;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.Random;
import java.util.Set;
import java.util.UUID;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * Bodies read straight into a store's buffers ({@link DirectSource}): hashed where they land
 * ({@link DigestingInputStream#overDirect}), written with O_DIRECT at any offset, and each buffer
 * released to the source before it is filled again.
 */
class DirectSourceTest {
    /**
     * A body read in pieces of random sizes (as a socket returns them), that checks its caller: a
     * buffer it read into must be released before it is filled again from its start.
     */
    static final class SocketLikeBody extends InputStream implements DirectSource {
        private final byte[] data;
        private final Random sizes = new Random(7);
        private final Set<ByteBuffer> holding = Collections.newSetFromMap(new IdentityHashMap<>());
        private int pos;
        int directReads;

        SocketLikeBody(byte[] data) {
            this.data = data;
        }

        private int next(int max) {
            return Math.min(Math.min(max, data.length - pos), 1 + sizes.nextInt(200_000));
        }

        @Override
        public int read(ByteBuffer dst) {
            if (dst.position() == 0 && holding.contains(dst)) {
                fail("a buffer was filled again before it was released");
            }
            if (pos == data.length) {
                return -1;
            }
            int n = next(dst.remaining());
            dst.put(data, pos, n);
            pos += n;
            holding.add(dst);
            directReads++;
            return n;
        }

        @Override
        public void release(ByteBuffer buffer) {
            holding.remove(buffer);
        }

        @Override
        public boolean readsDirect() {
            return true;
        }

        @Override
        public int read() {
            return pos == data.length ? -1 : data[pos++] & 0xff;
        }

        @Override
        public int read(byte[] b, int off, int len) {
            if (pos == data.length) {
                return -1;
            }
            int n = next(len);
            System.arraycopy(data, pos, b, off, n);
            pos += n;
            return n;
        }
    }

    static byte[] random(int n, long seed) {
        byte[] b = new byte[n];
        new Random(seed).nextBytes(b);
        return b;
    }

    @Test
    void overDirectHashesEveryByteWhereItLandedAndReleaseWaitsForTheHasher() throws IOException {
        byte[] data = random(9 * 1024 * 1024 + 77, 1);
        MessageDigest md = DigestAlgorithm.SHA256.newMessageDigest();
        ByteBuffer[] buffers = {ByteBuffer.allocateDirect(1 << 20), ByteBuffer.allocateDirect(1 << 20)};
        byte[] garbage = random(1 << 20, 2);
        long total = 0;
        try (DigestingInputStream in = DigestingInputStream.overDirect(new SocketLikeBody(data), md)) {
            assertTrue(in.readsDirect());
            byte[] head = in.readNBytes(1000); // ordinary reads first, as a store aligning its offset does
            total += head.length;
            int current = 0;
            int n;
            while ((n = in.read(buffers[current])) >= 0) {
                total += n;
                if (!buffers[current].hasRemaining()) {
                    current ^= 1;
                    in.release(buffers[current]);
                    // scribbling over a buffer the hasher still reads would change the digest
                    buffers[current].clear().put(garbage).clear();
                }
            }
            in.release(buffers[0]);
            in.release(buffers[1]);
            assertEquals(data.length, in.count());
            assertArrayEquals(
                    DigestAlgorithm.SHA256.newMessageDigest().digest(data),
                    in.finish().digest());
        }
        assertEquals(data.length, total);
    }

    @Test
    void inlineHashingReadsDirectlyToo() throws IOException {
        byte[] data = random(3 * 1024 * 1024 + 5, 3);
        MessageDigest md = DigestAlgorithm.SHA256.newMessageDigest();
        ByteBuffer buffer = ByteBuffer.allocateDirect(1 << 20);
        try (DigestingInputStream in = DigestingInputStream.inline(new SocketLikeBody(data), md)) {
            assertTrue(in.readsDirect());
            while (in.read(buffer) >= 0) {
                if (!buffer.hasRemaining()) {
                    in.release(buffer);
                    buffer.clear();
                }
            }
            assertArrayEquals(
                    DigestAlgorithm.SHA256.newMessageDigest().digest(data),
                    in.finish().digest());
        }
    }

    @Test
    void theFilesystemStoreFillsItsAlignedBuffersFromTheSourceAtAnyOffset() throws IOException {
        Path root = Path.of("target", "direct-source-tests", UUID.randomUUID().toString(), "root")
                .toAbsolutePath();
        FilesystemBlobStore store = new FilesystemBlobStore(root, true);
        Assumptions.assumeTrue(store.directIo(), "the build directory's filesystem does not support O_DIRECT");
        assertTrue(store.fillsFromDirectSources());
        byte[] first = random(5 * 1024 * 1024 + 4097, 4); // ends off a block boundary
        byte[] second = random(7 * 1024 * 1024 + 13, 5);
        UploadId id = UploadId.random();
        store.createUpload(id);
        MessageDigest md = DigestAlgorithm.SHA256.newMessageDigest();
        SocketLikeBody body1 = new SocketLikeBody(first);
        SocketLikeBody body2 = new SocketLikeBody(second);
        long end;
        try (DigestingInputStream in = DigestingInputStream.overDirect(body1, md)) {
            end = store.append(id, 0, in);
            in.finish();
        }
        assertEquals(first.length, end);
        try (DigestingInputStream in = DigestingInputStream.overDirect(body2, md)) {
            end = store.append(id, end, in);
            in.finish();
        }
        assertEquals(first.length + second.length, end);
        assertTrue(body1.directReads > 10 && body2.directReads > 10, "the bodies were read directly");
        byte[] all = new byte[first.length + second.length];
        System.arraycopy(first, 0, all, 0, first.length);
        System.arraycopy(second, 0, all, first.length, second.length);
        assertArrayEquals(DigestAlgorithm.SHA256.newMessageDigest().digest(all), md.digest());
        Digest digest = Digest.compute(DigestAlgorithm.SHA256, all);
        store.commitUpload(id, digest);
        assertArrayEquals(all, Files.readAllBytes(store.localFile(digest).orElseThrow()));
        assertEquals(
                0,
                store.buffersInUse().values().stream()
                        .mapToInt(Integer::intValue)
                        .sum(),
                "buffers back");
    }

    @Test
    void aBlobPushedAgainReplacesTheFileAndTheOldBlocksAreFreedLater() throws Exception {
        Path root = Path.of("target", "direct-source-tests", UUID.randomUUID().toString(), "root")
                .toAbsolutePath();
        FilesystemBlobStore store = new FilesystemBlobStore(root, true);
        byte[] data = random(2 * 1024 * 1024, 6);
        Digest digest = Digest.compute(DigestAlgorithm.SHA256, data);
        long committed = 0;
        for (int round = 0; round < 2; round++) {
            UploadId id = UploadId.random();
            store.createUpload(id);
            store.append(id, 0, new ByteArrayInputStream(data));
            store.commitUpload(id, digest);
            committed = System.nanoTime();
        }
        Path fds = Path.of("/proc/self/fd");
        Assumptions.assumeTrue(Files.isDirectory(fds), "no /proc here");
        long held = deletedHandlesUnder(root);
        if (System.nanoTime() - committed < FilesystemBlobStore.RECLAIM_DELAY_MILLIS * 500_000L) {
            assertEquals(1, held, "the replaced file is held for a moment, its blocks freed later");
        }
        assertArrayEquals(data, Files.readAllBytes(store.localFile(digest).orElseThrow()));
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (deletedHandlesUnder(root) > 0 && System.nanoTime() < deadline) {
            Thread.sleep(50);
        }
        assertEquals(0, deletedHandlesUnder(root), "the replaced file was let go");
    }

    private static long deletedHandlesUnder(Path root) throws IOException {
        try (var links = Files.list(Path.of("/proc/self/fd"))) {
            return links.map(l -> {
                        try {
                            return Files.readSymbolicLink(l).toString();
                        } catch (IOException gone) {
                            return "";
                        }
                    })
                    .filter(t -> t.startsWith(root.toString()) && t.endsWith("(deleted)"))
                    .count();
        }
    }
}
