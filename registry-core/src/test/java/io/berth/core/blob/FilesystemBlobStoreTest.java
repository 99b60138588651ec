package io.berth.core.blob;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.berth.core.model.Digest;
import io.berth.core.model.DigestAlgorithm;
import io.berth.core.model.UploadId;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

class FilesystemBlobStoreTest extends BlobStoreContract {
    @Override
    protected BlobStore newStore(Path dir) throws IOException {
        return new FilesystemBlobStore(dir.resolve("root"), true);
    }

    @Test
    void everyFileStaysUnderTheRoot() throws IOException {
        UploadId id = UploadId.random();
        store.createUpload(id);
        store.append(id, 0, new ByteArrayInputStream(new byte[] {1, 2, 3}));
        Digest d = Digest.compute(DigestAlgorithm.SHA256, new byte[] {1, 2, 3});
        store.commitUpload(id, d);
        Path root = dir.resolve("root").toRealPath();
        try (Stream<Path> all = Files.walk(dir)) {
            all.filter(Files::isRegularFile).forEach(p -> assertTrue(p.toAbsolutePath().startsWith(root), p.toString()));
        }
        assertTrue(store.localFile(d).isPresent());
        assertFalse(store.localFile(Digest.compute(DigestAlgorithm.SHA256, new byte[0])).isPresent());
    }
}
