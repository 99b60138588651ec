package io.berth.core.metadata;

import io.berth.core.config.BerthConfig;
import io.berth.core.config.StoreContext;
import io.berth.core.files.LockFile;
import java.nio.file.Path;
import java.util.List;

/**
 * A metadata store backend, found with {@link java.util.ServiceLoader} (registered in
 * {@code META-INF/services/io.berth.core.metadata.MetadataStoreProvider}) and chosen by {@code metadata.type}.
 */
public interface MetadataStoreProvider {
    /** The value of {@code metadata.type} that selects this backend: {@code sqlite}, {@code postgres}. */
    String type();

    /**
     * Opens the store the configuration describes; an incomplete configuration is an
     * {@link IllegalArgumentException}, a database that cannot be reached a {@link MetadataException}.
     */
    MetadataStore open(BerthConfig config, StoreContext context);

    /** The lock files taken before {@link #open}, so that two processes never share a local database. */
    default List<LockFile> lockFiles(BerthConfig config) {
        return List.of();
    }

    /** Local data that should be private to the account; start-up warns when other users can read it. */
    default List<Path> privateData(BerthConfig config) {
        return List.of();
    }
}
