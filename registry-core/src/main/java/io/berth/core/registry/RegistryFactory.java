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
    private static final System.Logger LOG = System.getLogger("berth");

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
            warnIfOpenToOthers(config);
            return registry;
        } catch (IOException | RuntimeException e) {
            locks.forEach(DataLock::close);
            throw e;
        }
    }

    /**
     * New data is created owner-only ({@link io.berth.core.files.OwnerOnly}); data an older version
     * or an operator created keeps its modes, so say at start-up when other local users can read it.
     */
    static void warnIfOpenToOthers(BerthConfig config) {
        java.util.List<Path> paths = new java.util.ArrayList<>();
        if (config.string(ConfigKeys.STORAGE_TYPE).equals("filesystem")) {
            Path root = config.path(ConfigKeys.STORAGE_FS_ROOT).toAbsolutePath().normalize();
            paths.addAll(java.util.List.of(root, root.resolve("blobs"), root.resolve("uploads")));
        }
        if (config.string(ConfigKeys.METADATA_TYPE).equals("sqlite")) {
            Path db = config.path(ConfigKeys.METADATA_SQLITE_PATH).toAbsolutePath().normalize();
            paths.addAll(java.util.List.of(db, db.resolveSibling(db.getFileName() + "-wal"),
                    db.resolveSibling(db.getFileName() + "-shm")));
        }
        paths.add(config.path(ConfigKeys.AUTH_TOKEN_KEY_FILE));
        java.util.List<String> open = io.berth.core.files.OwnerOnly.openToOthers(paths);
        if (!open.isEmpty()) {
            LOG.log(System.Logger.Level.WARNING, "data open to other local users: " + String.join(", ", open)
                    + "; Berth creates new data owner-only (directories 0700, files 0600) but leaves existing modes"
                    + " as they are: chmod -R go-rwx them");
        }
    }

    /** The S3 settings of {@code storage.s3.*}. */
    static io.berth.core.blob.S3BlobStore.Settings s3(BerthConfig config) {
        String endpoint = config.string(ConfigKeys.STORAGE_S3_ENDPOINT);
        if (endpoint.isBlank()) {
            throw new IllegalArgumentException("storage.type s3 needs storage.s3.endpoint");
        }
        return new io.berth.core.blob.S3BlobStore.Settings(endpoint, config.string(ConfigKeys.STORAGE_S3_REGION),
                config.string(ConfigKeys.STORAGE_S3_BUCKET), config.string(ConfigKeys.STORAGE_S3_ACCESS_KEY),
                config.string(ConfigKeys.STORAGE_S3_SECRET_KEY), config.string(ConfigKeys.STORAGE_S3_PREFIX),
                config.bool(ConfigKeys.STORAGE_S3_CREATE_BUCKET), config.bool(ConfigKeys.STORAGE_S3_REDIRECT)
                ? java.time.Duration.ofMinutes(20) : java.time.Duration.ZERO, config.bool(ConfigKeys.STORAGE_S3_PATH_STYLE));
    }

    /** The PostgreSQL settings of {@code metadata.postgres.*}. */
    static io.berth.core.metadata.PostgresMetadataStore.Settings postgres(BerthConfig config) {
        String url = config.string(ConfigKeys.METADATA_POSTGRES_URL);
        if (!url.startsWith("jdbc:postgresql:")) {
            throw new IllegalArgumentException("metadata.type postgres needs metadata.postgres.url, a JDBC URL "
                    + "(jdbc:postgresql://host:5432/berth)");
        }
        return new io.berth.core.metadata.PostgresMetadataStore.Settings(url,
                config.string(ConfigKeys.METADATA_POSTGRES_USER), config.string(ConfigKeys.METADATA_POSTGRES_PASSWORD),
                config.intCount(ConfigKeys.METADATA_POSTGRES_POOL_SIZE));
    }

    private static Registry openStores(BerthConfig config, RegistryOptions options) throws IOException {
        BlobStore blobs = switch (config.string(ConfigKeys.STORAGE_TYPE)) {
            case "filesystem" -> new FilesystemBlobStore(config.path(ConfigKeys.STORAGE_FS_ROOT),
                    config.bool(ConfigKeys.STORAGE_FS_FSYNC), config.bool(ConfigKeys.STORAGE_FS_DIRECT_IO),
                    FileSync.SYSTEM, options.maxConcurrentUploads());
            case "s3" -> new io.berth.core.blob.S3BlobStore(s3(config));
            default -> throw new IllegalStateException("unreachable: storage.type was validated");
        };
        MetadataStore metadata;
        try {
            metadata = switch (config.string(ConfigKeys.METADATA_TYPE)) {
                case "sqlite" -> new SqliteMetadataStore(config.path(ConfigKeys.METADATA_SQLITE_PATH));
                case "postgres" -> new io.berth.core.metadata.PostgresMetadataStore(postgres(config),
                        java.time.Clock.systemUTC());
                default -> throw new IllegalStateException("unreachable: metadata.type was validated");
            };
        } catch (RuntimeException e) {
            blobs.close();
            throw e;
        }
        return new Registry(blobs, metadata, options);
    }
}
