package io.berth.storage.s3;

import io.berth.core.config.ConfigKey;
import io.berth.core.config.ConfigKey.Type;
import io.berth.core.config.ConfigKeySet;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * The keys of the S3 blob store ({@code storage.s3.*}), owned by this module and found with
 * {@link java.util.ServiceLoader}: they follow {@code storage.filesystem.fsync} in help and the docs,
 * and {@code storage.type} admits {@code s3} only where this module is installed.
 */
public final class S3Keys implements ConfigKeySet {
    public static final ConfigKey STORAGE_S3_ENDPOINT = new ConfigKey(
            "storage.s3.endpoint",
            "",
            Type.TEXT,
            "S3 endpoint URL (https://s3.eu-west-1.amazonaws.com, http://minio:9000).");
    public static final ConfigKey STORAGE_S3_REGION =
            new ConfigKey("storage.s3.region", "", Type.TEXT, "S3 region; empty: the endpoint's default.");
    public static final ConfigKey STORAGE_S3_BUCKET =
            new ConfigKey("storage.s3.bucket", "berth", Type.TEXT, "Bucket holding blobs and staged uploads.");
    public static final ConfigKey STORAGE_S3_ACCESS_KEY =
            new ConfigKey("storage.s3.access-key", "", Type.TEXT, "S3 access key.");
    public static final ConfigKey STORAGE_S3_SECRET_KEY =
            new ConfigKey("storage.s3.secret-key", "", Type.TEXT, "S3 secret key. Never logged.").asSecret();
    public static final ConfigKey STORAGE_S3_PATH_STYLE = new ConfigKey(
            "storage.s3.path-style",
            "true",
            Type.BOOLEAN,
            "Address buckets as endpoint/bucket (MinIO, Ceph, S3Proxy) rather than bucket.endpoint.");
    public static final ConfigKey STORAGE_S3_PREFIX = new ConfigKey(
            "storage.s3.prefix",
            "",
            Type.TEXT,
            "Key prefix of everything Berth stores in the bucket (several registries may share one).");
    public static final ConfigKey STORAGE_S3_CREATE_BUCKET = new ConfigKey(
            "storage.s3.create-bucket", "true", Type.BOOLEAN, "Create the bucket at start when it does not exist.");
    public static final ConfigKey STORAGE_S3_REDIRECT = new ConfigKey(
            "storage.s3.redirect",
            "false",
            Type.BOOLEAN,
            "Answer blob GETs with 307 to a presigned URL (valid storage.s3.redirect-lifetime): clients fetch from S3 directly.");
    public static final ConfigKey STORAGE_S3_REDIRECT_LIFETIME = ConfigKey.duration(
            "storage.s3.redirect-lifetime",
            "5m",
            Duration.ofSeconds(10),
            Duration.ofDays(7),
            "How long a presigned URL of storage.s3.redirect may be used to start a download: whoever holds it may "
                    + "fetch the blob without credentials until then.");
    public static final ConfigKey STORAGE_S3_CALL_TIMEOUT = ConfigKey.duration(
            "storage.s3.call-timeout",
            "60s",
            Duration.ofSeconds(1),
            Duration.ofHours(1),
            "Deadline of one whole S3 call, answer included (a listing page, a stat, a part's upload), tried up to 3 "
                    + "times; a blob's body read by a pull is bounded by a 60 s wait per read instead.");

    public static final ConfigKey STORAGE_S3_UPLOAD_PARALLELISM = ConfigKey.count(
            "storage.s3.upload-parallelism",
            String.valueOf(S3BlobStore.UPLOAD_PARALLELISM),
            1,
            64,
            "Parts of one upload (8 MiB each) sent to S3 at once, and part copies of one completion; all uploads "
                    + "together hold at most 16 part buffers (fewer on a small heap: a quarter of it), one client "
                    + "all but a quarter of them, and a part trickling in gives its buffer up after 10 s while "
                    + "another client waits for one.");

    static final List<ConfigKey> ALL = List.of(
            STORAGE_S3_ENDPOINT,
            STORAGE_S3_REGION,
            STORAGE_S3_BUCKET,
            STORAGE_S3_ACCESS_KEY,
            STORAGE_S3_SECRET_KEY,
            STORAGE_S3_PATH_STYLE,
            STORAGE_S3_PREFIX,
            STORAGE_S3_CREATE_BUCKET,
            STORAGE_S3_REDIRECT,
            STORAGE_S3_REDIRECT_LIFETIME,
            STORAGE_S3_CALL_TIMEOUT,
            STORAGE_S3_UPLOAD_PARALLELISM);

    @Override
    public List<ConfigKey> keys() {
        return ALL;
    }

    @Override
    public String after() {
        return "storage.filesystem.fsync";
    }

    @Override
    public Map<String, List<String>> choices() {
        return Map.of("storage.type", List.of(S3BlobStoreProvider.TYPE));
    }
}
