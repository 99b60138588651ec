package io.berth.core.blob;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.berth.core.model.Digest;
import io.berth.core.model.DigestAlgorithm;
import io.berth.core.model.UploadId;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
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
        Path onDisk = Path.of("target", "direct-io-tests", UUID.randomUUID().toString(), "root").toAbsolutePath();
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
        assertFalse(store.localFile(Digest.compute(DigestAlgorithm.SHA256, new byte[0])).isPresent());
    }

    @Test
    void everyCreatedOrRenamedNameIsForcedToDisk() throws IOException {
        List<Path> forced = new ArrayList<>();
        Path root = dir.resolve("synced");
        FilesystemBlobStore s = new FilesystemBlobStore(root, true, false, forced::add);
        // start-up: blobs/ and uploads/ were created under a new root
        assertEquals(List.of(dir, root, root), forced, "parents of the created root, blobs and uploads");
        forced.clear();

        UploadId id = UploadId.random();
        s.createUpload(id);
        assertEquals(List.of(root.resolve("uploads")), forced, "the new staging file's directory");
        forced.clear();

        s.append(id, 0, new ByteArrayInputStream(new byte[] {4, 5, 6}));
        assertTrue(forced.isEmpty(), "data is flushed with the file itself (fdatasync), not its directory");
        Digest d = Digest.compute(DigestAlgorithm.SHA256, new byte[] {4, 5, 6});
        s.commitUpload(id, d);
        Path alg = root.resolve("blobs/sha256");
        Path prefix = alg.resolve(d.hex().substring(0, 2));
        assertEquals(List.of(root.resolve("blobs"), alg, prefix), forced,
                "each created directory's parent, then the directory holding the renamed blob");
        forced.clear();

        // a second blob under the same prefix directory: only the rename needs forcing
        UploadId again = UploadId.random();
        s.createUpload(again);
        s.append(again, 0, new ByteArrayInputStream(new byte[] {4, 5, 6}));
        forced.clear();
        s.commitUpload(again, d);
        assertEquals(List.of(prefix), forced);
    }

    @Test
    void withoutFsyncNothingIsForced() throws IOException {
        List<Path> forced = new ArrayList<>();
        FilesystemBlobStore s = new FilesystemBlobStore(dir.resolve("unsynced"), false, false, forced::add);
        UploadId id = UploadId.random();
        s.createUpload(id);
        s.append(id, 0, new ByteArrayInputStream(new byte[] {1}));
        s.commitUpload(id, Digest.compute(DigestAlgorithm.SHA256, new byte[] {1}));
        assertTrue(forced.isEmpty(), forced.toString());
    }
}
