package io.berth.core.blob;

import io.berth.core.config.BerthConfig;
import io.berth.core.config.StoreContext;
import io.berth.core.files.LockFile;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/**
 * A blob store backend, found with {@link java.util.ServiceLoader} (registered in
 * {@code META-INF/services/io.berth.core.blob.BlobStoreProvider}) and chosen by {@code storage.type}.
 * A backend in a module of its own is then a jar on the class path, not a branch in the engine.
 */
public interface BlobStoreProvider {
    /** The value of {@code storage.type} that selects this backend: {@code filesystem}, {@code s3}. */
    String type();

    /** Opens the store the configuration describes; an incomplete configuration is an {@link IllegalArgumentException}. */
    BlobStore open(BerthConfig config, StoreContext context) throws IOException;

    /** The lock files taken before {@link #open}, so that two processes never share local data. */
    default List<LockFile> lockFiles(BerthConfig config) {
        return List.of();
    }

    /** Local data that should be private to the account; start-up warns when other users can read it. */
    default List<Path> privateData(BerthConfig config) {
        return List.of();
    }
}
