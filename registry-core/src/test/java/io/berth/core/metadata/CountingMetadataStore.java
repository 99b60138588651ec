package io.berth.core.metadata;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;

/** A metadata store that counts the queries made through it (every read of {@link MetadataReads}). */
public final class CountingMetadataStore implements MetadataStore, DelegatingReads {
    private final MetadataStore delegate;
    private final AtomicInteger queries;

    public CountingMetadataStore(MetadataStore delegate, AtomicInteger queries) {
        if (!(delegate instanceof DelegatingReads)) {
            throw new IllegalArgumentException("a store that reads through DelegatingReads");
        }
        this.delegate = delegate;
        this.queries = queries;
    }

    @Override
    public <T> T inTransaction(Durability durability, Work<T> work) {
        return delegate.inTransaction(durability, work);
    }

    @Override
    public <T> T read(Function<MetadataReads, T> query) {
        queries.incrementAndGet();
        return ((DelegatingReads) delegate).read(query);
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
