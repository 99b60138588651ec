package io.berth.core.registry;

import io.berth.core.blob.BlobStore;
import io.berth.core.blob.FileSync;
import io.berth.core.blob.FilesystemBlobStore;
import io.berth.core.config.BerthConfig;
import io.berth.core.config.ConfigKeys;
import io.berth.core.metadata.MetadataStore;
import io.berth.core.metadata.SqliteMetadataStore;
import java.io.IOException;
import java.nio.file.Path;

/** Builds a {@link Registry} with the backends the configuration names. */
public final class RegistryFactory {
    private RegistryFactory() {
    }

    /**
     * Opens the stores the configuration names, each under an exclusive process lock.
     *
     * @throws DataLock.HeldException when another berth process uses the same blob root or database
     */
    public static Registry open(BerthConfig config) throws IOException {
        RegistryOptions options = RegistryOptions.from(config);
        java.util.List<DataLock> locks = new java.util.ArrayList<>();
        try {
            if (config.string(ConfigKeys.STORAGE_TYPE).equals("filesystem")) {
                Path root = config.path(ConfigKeys.STORAGE_FS_ROOT).toAbsolutePath().normalize();
                locks.add(DataLock.acquire(root.resolve("berth.lock"), "blob root " + root));
            }
            if (config.string(ConfigKeys.METADATA_TYPE).equals("sqlite")) {
                Path db = config.path(ConfigKeys.METADATA_SQLITE_PATH).toAbsolutePath().normalize();
                try {
                    locks.add(DataLock.acquire(db.resolveSibling(db.getFileName() + ".lock"), "metadata database " + db));
                } catch (DataLock.HeldException e) {
                    throw e;
                } catch (IOException e) {
                    throw new io.berth.core.metadata.MetadataException("cannot use metadata database " + db + ": "
                            + io.berth.core.error.Failures.describe(e), e);
                }
            }
            Registry registry = openStores(config, options);
            locks.forEach(registry::closeWith);
            return registry;
        } catch (IOException | RuntimeException e) {
            locks.forEach(DataLock::close);
            throw e;
        }
    }

    private static Registry openStores(BerthConfig config, RegistryOptions options) throws IOException {
        BlobStore blobs = switch (config.string(ConfigKeys.STORAGE_TYPE)) {
            case "filesystem" -> new FilesystemBlobStore(config.path(ConfigKeys.STORAGE_FS_ROOT),
                    config.bool(ConfigKeys.STORAGE_FS_FSYNC), config.bool(ConfigKeys.STORAGE_FS_DIRECT_IO),
                    FileSync.SYSTEM, options.maxConcurrentUploads());
            default -> throw new IllegalStateException("unreachable: storage.type was validated");
        };
        MetadataStore metadata;
        try {
            metadata = switch (config.string(ConfigKeys.METADATA_TYPE)) {
                case "sqlite" -> new SqliteMetadataStore(config.path(ConfigKeys.METADATA_SQLITE_PATH));
                default -> throw new IllegalStateException("unreachable: metadata.type was validated");
            };
        } catch (RuntimeException e) {
            blobs.close();
            throw e;
        }
        return new Registry(blobs, metadata, options);
    }
}
