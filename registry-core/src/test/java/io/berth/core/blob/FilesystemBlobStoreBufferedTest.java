package io.berth.core.blob;

import io.berth.testsupport.contract.BlobStoreContract;
import java.io.IOException;
import java.nio.file.Path;

/** The same contract with uploads written through the page cache (filesystems without O_DIRECT). */
class FilesystemBlobStoreBufferedTest extends BlobStoreContract {
    @Override
    protected BlobStore newStore(Path dir) throws IOException {
        return new FilesystemBlobStore(dir.resolve("root"), false, false);
    }
}
