package io.berth.core.metadata;

import java.util.List;

/**
 * A metadata store that notes each commit and its durability ({@code commit DURABLE}) in a shared
 * timeline, so that a test can check the order of flushes and commits of one request.
 */
public final class RecordingMetadataStore implements MetadataStore {
    private final MetadataStore delegate;
    private final List<String> timeline;

    public RecordingMetadataStore(MetadataStore delegate, List<String> timeline) {
        this.delegate = delegate;
        this.timeline = timeline;
    }

    @Override
    public <T> T inTransaction(Durability durability, Work<T> work) {
        T result = delegate.inTransaction(durability, work);
        timeline.add("commit " + durability);
        return result;
    }

    @Override
    public RepositoryRecords repositories() {
        return delegate.repositories();
    }

    @Override
    public BlobRecords blobs() {
        return delegate.blobs();
    }

    @Override
    public ManifestRecords manifests() {
        return delegate.manifests();
    }

    @Override
    public TagRecords tags() {
        return delegate.tags();
    }

    @Override
    public UploadRecords uploads() {
        return delegate.uploads();
    }

    @Override
    public OutboxRecords outbox() {
        return delegate.outbox();
    }

    @Override
    public ImmutabilityRecords immutability() {
        return delegate.immutability();
    }

    @Override
    public RetentionRecords retention() {
        return delegate.retention();
    }

    @Override
    public GcRecords gc() {
        return delegate.gc();
    }

    @Override
    public RobotRecords robots() {
        return delegate.robots();
    }

    @Override
    public ProxyRecords proxy() {
        return delegate.proxy();
    }

    @Override
    public String kind() {
        return delegate.kind();
    }

    @Override
    public void checkAvailable() {
        delegate.checkAvailable();
    }

    @Override
    public void close() {
        delegate.close();
    }
}
