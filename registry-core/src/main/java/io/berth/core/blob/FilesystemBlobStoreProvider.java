package io.berth.core.blob;

import io.berth.core.config.BerthConfig;
import io.berth.core.config.ConfigKeys;
import io.berth.core.config.StoreContext;
import io.berth.core.files.LockFile;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/** {@code storage.type: filesystem}, the default: {@link FilesystemBlobStore} under {@code storage.filesystem.root}. */
public final class FilesystemBlobStoreProvider implements BlobStoreProvider {
    @Override
    public String type() {
        return "filesystem";
    }

    @Override
    public BlobStore open(BerthConfig config, StoreContext context) throws IOException {
        return new FilesystemBlobStore(
                config.path(ConfigKeys.STORAGE_FS_ROOT),
                config.bool(ConfigKeys.STORAGE_FS_FSYNC),
                config.bool(ConfigKeys.STORAGE_FS_DIRECT_IO),
                FileSync.SYSTEM,
                context.maxConcurrentUploads());
    }

    @Override
    public List<LockFile> lockFiles(BerthConfig config) {
        Path root = root(config);
        return List.of(new LockFile(root.resolve("berth.lock"), "blob root " + root));
    }

    @Override
    public List<Path> privateData(BerthConfig config) {
        Path root = root(config);
        return List.of(root, root.resolve("blobs"), root.resolve("uploads"));
    }

    private static Path root(BerthConfig config) {
        return config.path(ConfigKeys.STORAGE_FS_ROOT).toAbsolutePath().normalize();
    }
}
