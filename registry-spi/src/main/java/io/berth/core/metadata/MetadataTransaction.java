package io.berth.core.metadata;

/**
 * Changes to registry metadata that commit together or not at all: each aggregate's accessor gives
 * its changes beside its reads. Events go to the outbox through the same transaction as the change
 * they describe.
 */
public interface MetadataTransaction extends MetadataReads {

    @Override
    RepositoryRecords.Writes repositories();

    @Override
    BlobRecords.Writes blobs();

    @Override
    ManifestRecords.Writes manifests();

    @Override
    TagRecords.Writes tags();

    @Override
    UploadRecords.Writes uploads();

    @Override
    OutboxRecords.Writes outbox();

    @Override
    ImmutabilityRecords.Writes immutability();

    @Override
    RetentionRecords.Writes retention();

    @Override
    GcRecords.Writes gc();

    @Override
    RobotRecords.Writes robots();

    @Override
    ProxyRecords.Writes proxy();

    /** Leases change only inside a transaction; there is nothing of them to read. */
    Leases leases();

    /** The transaction's clock (epoch millis), one value for every row it writes. */
    long now();

    /** The next value of a counter (1 for a new counter); counts only if the transaction commits. */
    long nextSequence(String name);

    /** Runs {@code action} after this transaction committed (never if it rolls back). */
    void afterCommit(Runnable action);
}
