package io.berth.core.registry;

import io.berth.core.blob.BlobStore;
import io.berth.core.blob.BlobStoreProvider;
import io.berth.core.config.BerthConfig;
import io.berth.core.config.ConfigKey;
import io.berth.core.config.ConfigKeys;
import io.berth.core.config.StoreContext;
import io.berth.core.error.Failures;
import io.berth.core.files.LockFile;
import io.berth.core.metadata.MetadataException;
import io.berth.core.metadata.MetadataStore;
import io.berth.core.metadata.MetadataStoreProvider;
import io.berth.core.proxy.Upstreams;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.ServiceLoader;
import java.util.Set;
import java.util.function.Function;

/**
 * Builds a {@link Registry} with the backends the configuration names. Backends are providers found
 * with {@link ServiceLoader}: {@code storage.type} picks a {@link BlobStoreProvider},
 * {@code metadata.type} a {@link MetadataStoreProvider}. The configuration has already checked the
 * value against the key's choices, which are the built-in types and those the installed modules add
 * ({@link io.berth.core.config.ConfigKeySet}): a minimal build, without S3 and PostgreSQL, refuses
 * {@code s3} there, in one line naming the installed types.
 */
public final class RegistryFactory {
    private RegistryFactory() {}

    /**
     * Opens the stores the configuration names, each under an exclusive process lock.
     *
     * @param replicators the authenticated callers whose pulls are replication copies
     *                    ({@code auth.replicators}: access control's key, read by the server)
     * @throws DataLock.HeldException when another berth process uses the same blob root or database
     * @throws IllegalArgumentException when the named backend lacks a key it needs
     */
    public static Registry open(BerthConfig config, Set<String> replicators) throws IOException {
        return open(config, replicators, Upstreams.none());
    }

    /**
     * As above, with the upstreams of pull-through caches ({@code proxy.*}, built by the proxy module):
     * the repositories they route become read-only caches served through {@link Registry#proxy()}.
     */
    public static Registry open(BerthConfig config, Set<String> replicators, Upstreams upstreams) throws IOException {
        RegistryOptions options = RegistryOptions.from(config, replicators);
        BlobStoreProvider blobProvider = blobProvider(config);
        MetadataStoreProvider metadataProvider = metadataProvider(config);
        List<DataLock> locks = new ArrayList<>();
        try {
            for (LockFile lock : blobProvider.lockFiles(config)) {
                locks.add(DataLock.acquire(lock.file(), lock.what()));
            }
            for (LockFile lock : metadataProvider.lockFiles(config)) {
                try {
                    locks.add(DataLock.acquire(lock.file(), lock.what()));
                } catch (DataLock.HeldException e) {
                    throw e;
                } catch (IOException e) {
                    throw new MetadataException("cannot use " + lock.what() + ": " + Failures.describe(e), e);
                }
            }
            StoreContext context = new StoreContext(Clock.systemUTC(), options.maxConcurrentUploads());
            BlobStore blobs = blobProvider.open(config, context);
            MetadataStore metadata;
            try {
                metadata = metadataProvider.open(config, context);
            } catch (RuntimeException e) {
                blobs.close();
                throw e;
            }
            Registry registry = new Registry(blobs, metadata, options, Clock.systemUTC(), upstreams);
            locks.forEach(registry::closeWith);
            return registry;
        } catch (IOException | RuntimeException e) {
            locks.forEach(DataLock::close);
            throw e;
        }
    }

    /** The installed blob store provider that {@code storage.type} names. */
    public static BlobStoreProvider blobProvider(BerthConfig config) {
        return provider(BlobStoreProvider.class, BlobStoreProvider::type, ConfigKeys.STORAGE_TYPE, config);
    }

    /** The installed metadata store provider that {@code metadata.type} names. */
    public static MetadataStoreProvider metadataProvider(BerthConfig config) {
        return provider(MetadataStoreProvider.class, MetadataStoreProvider::type, ConfigKeys.METADATA_TYPE, config);
    }

    private static <P> P provider(Class<P> kind, Function<P, String> type, ConfigKey key, BerthConfig config) {
        String wanted = config.string(key);
        List<String> installed = new ArrayList<>();
        for (P p : ServiceLoader.load(kind, RegistryFactory.class.getClassLoader())) {
            if (type.apply(p).equals(wanted)) {
                return p;
            }
            installed.add(type.apply(p));
        }
        // a module that adds a choice without registering its provider: a mistake of the build
        throw new IllegalStateException(key.name() + " " + wanted + " has no provider on the class path (installed: "
                + String.join(", ", installed) + ")");
    }

    /**
     * The local data of the stores the configuration names (the blob root, the database with its
     * journal), which must not be open to other local users: checked at start-up by the server.
     */
    public static List<Path> privateData(BerthConfig config) {
        List<Path> paths = new ArrayList<>(blobProvider(config).privateData(config));
        paths.addAll(metadataProvider(config).privateData(config));
        return paths;
    }
}
