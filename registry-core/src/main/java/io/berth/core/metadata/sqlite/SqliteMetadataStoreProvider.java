package io.berth.core.metadata.sqlite;

import io.berth.core.config.BerthConfig;
import io.berth.core.config.ConfigKeys;
import io.berth.core.config.StoreContext;
import io.berth.core.files.LockFile;
import io.berth.core.metadata.MetadataStore;
import io.berth.core.metadata.MetadataStoreProvider;
import java.nio.file.Path;
import java.util.List;

/** {@code metadata.type: sqlite}, the default: {@link SqliteMetadataStore} in {@code metadata.sqlite.path}. */
public final class SqliteMetadataStoreProvider implements MetadataStoreProvider {
    @Override
    public String type() {
        return "sqlite";
    }

    @Override
    public MetadataStore open(BerthConfig config, StoreContext context) {
        return new SqliteMetadataStore(config.path(ConfigKeys.METADATA_SQLITE_PATH));
    }

    @Override
    public List<LockFile> lockFiles(BerthConfig config) {
        Path db = db(config);
        return List.of(new LockFile(db.resolveSibling(db.getFileName() + ".lock"), "metadata database " + db));
    }

    @Override
    public List<Path> privateData(BerthConfig config) {
        Path db = db(config);
        return List.of(db, db.resolveSibling(db.getFileName() + "-wal"), db.resolveSibling(db.getFileName() + "-shm"));
    }

    private static Path db(BerthConfig config) {
        return config.path(ConfigKeys.METADATA_SQLITE_PATH).toAbsolutePath().normalize();
    }
}
