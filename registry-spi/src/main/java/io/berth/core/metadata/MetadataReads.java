package io.berth.core.metadata;

/**
 * Registry metadata by aggregate; available on the store (committed state) and inside a transaction,
 * whose accessors add each aggregate's changes.
 */
public interface MetadataReads {

    RepositoryRecords repositories();

    BlobRecords blobs();

    ManifestRecords manifests();

    TagRecords tags();

    UploadRecords uploads();

    OutboxRecords outbox();

    ImmutabilityRecords immutability();

    RetentionRecords retention();

    GcRecords gc();

    RobotRecords robots();

    ProxyRecords proxy();
}
