package io.berth.core.registry;

import io.berth.core.blob.BlobStore;
import io.berth.core.blob.FileSync;
import io.berth.core.blob.FilesystemBlobStore;
import io.berth.core.config.BerthConfig;
import io.berth.core.config.ConfigKeys;
import io.berth.core.metadata.MetadataStore;
import io.berth.core.metadata.SqliteMetadataStore;
import java.io.IOException;

/** Builds a {@link Registry} with the backends the configuration names. */
public final class RegistryFactory {
    private RegistryFactory() {
    }

    public static Registry open(BerthConfig config) throws IOException {
        RegistryOptions options = RegistryOptions.from(config);
        BlobStore blobs = switch (config.string(ConfigKeys.STORAGE_TYPE)) {
            case "filesystem" -> new FilesystemBlobStore(config.path(ConfigKeys.STORAGE_FS_ROOT),
                    config.bool(ConfigKeys.STORAGE_FS_FSYNC), config.bool(ConfigKeys.STORAGE_FS_DIRECT_IO),
                    FileSync.SYSTEM, options.maxConcurrentUploads());
            default -> throw new IllegalStateException("unreachable: storage.type was validated");
        };
        MetadataStore metadata = switch (config.string(ConfigKeys.METADATA_TYPE)) {
            case "sqlite" -> new SqliteMetadataStore(config.path(ConfigKeys.METADATA_SQLITE_PATH));
            default -> throw new IllegalStateException("unreachable: metadata.type was validated");
        };
        return new Registry(blobs, metadata, options);
    }
}
