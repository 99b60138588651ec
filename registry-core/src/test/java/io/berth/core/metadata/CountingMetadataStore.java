package io.berth.core.metadata;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.util.concurrent.atomic.AtomicInteger;

/** A metadata store that counts the queries made through it (every read outside a transaction). */
public final class CountingMetadataStore implements MetadataStore {
    private final MetadataStore delegate;
    private final AtomicInteger queries;

    public CountingMetadataStore(MetadataStore delegate, AtomicInteger queries) {
        this.delegate = delegate;
        this.queries = queries;
    }

    /** {@code aggregate}, each of whose methods counts one query. */
    private <T> T counted(Class<T> type, T aggregate) {
        return type.cast(Proxy.newProxyInstance(type.getClassLoader(), new Class<?>[] {type}, (proxy, method, args) -> {
            queries.incrementAndGet();
            try {
                return method.invoke(aggregate, args);
            } catch (InvocationTargetException e) {
                throw e.getCause();
            }
        }));
    }

    @Override
    public RepositoryRecords repositories() {
        return counted(RepositoryRecords.class, delegate.repositories());
    }

    @Override
    public BlobRecords blobs() {
        return counted(BlobRecords.class, delegate.blobs());
    }

    @Override
    public ManifestRecords manifests() {
        return counted(ManifestRecords.class, delegate.manifests());
    }

    @Override
    public TagRecords tags() {
        return counted(TagRecords.class, delegate.tags());
    }

    @Override
    public UploadRecords uploads() {
        return counted(UploadRecords.class, delegate.uploads());
    }

    @Override
    public OutboxRecords outbox() {
        return counted(OutboxRecords.class, delegate.outbox());
    }

    @Override
    public ImmutabilityRecords immutability() {
        return counted(ImmutabilityRecords.class, delegate.immutability());
    }

    @Override
    public RetentionRecords retention() {
        return counted(RetentionRecords.class, delegate.retention());
    }

    @Override
    public GcRecords gc() {
        return counted(GcRecords.class, delegate.gc());
    }

    @Override
    public RobotRecords robots() {
        return counted(RobotRecords.class, delegate.robots());
    }

    @Override
    public ProxyRecords proxy() {
        return counted(ProxyRecords.class, delegate.proxy());
    }

    @Override
    public <T> T inTransaction(Durability durability, Work<T> work) {
        return delegate.inTransaction(durability, work);
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
