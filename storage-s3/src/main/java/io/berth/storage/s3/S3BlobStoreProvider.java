package io.berth.storage.s3;

import io.berth.core.blob.BlobStore;
import io.berth.core.blob.BlobStoreProvider;
import io.berth.core.config.BerthConfig;
import io.berth.core.config.StoreContext;
import java.io.IOException;
import java.time.Duration;

/** {@code storage.type: s3}: {@link S3BlobStore} on the bucket {@code storage.s3.*} names. */
public final class S3BlobStoreProvider implements BlobStoreProvider {
    /** The value of {@code storage.type}; {@link S3Keys} adds it to the key's choices. */
    static final String TYPE = "s3";

    @Override
    public String type() {
        return TYPE;
    }

    @Override
    public BlobStore open(BerthConfig config, StoreContext context) throws IOException {
        return new S3BlobStore(settings(config));
    }

    /** The S3 settings of {@code storage.s3.*}. */
    public static S3BlobStore.Settings settings(BerthConfig config) {
        String endpoint = config.string(S3Keys.STORAGE_S3_ENDPOINT);
        if (endpoint.isBlank()) {
            throw new IllegalArgumentException("storage.type s3 needs storage.s3.endpoint");
        }
        return new S3BlobStore.Settings(
                endpoint,
                config.string(S3Keys.STORAGE_S3_REGION),
                config.string(S3Keys.STORAGE_S3_BUCKET),
                config.string(S3Keys.STORAGE_S3_ACCESS_KEY),
                config.string(S3Keys.STORAGE_S3_SECRET_KEY),
                config.string(S3Keys.STORAGE_S3_PREFIX),
                config.bool(S3Keys.STORAGE_S3_CREATE_BUCKET),
                config.bool(S3Keys.STORAGE_S3_REDIRECT)
                        ? config.duration(S3Keys.STORAGE_S3_REDIRECT_LIFETIME)
                        : Duration.ZERO,
                config.bool(S3Keys.STORAGE_S3_PATH_STYLE),
                config.duration(S3Keys.STORAGE_S3_CALL_TIMEOUT),
                (int) config.count(S3Keys.STORAGE_S3_UPLOAD_PARALLELISM));
    }
}
