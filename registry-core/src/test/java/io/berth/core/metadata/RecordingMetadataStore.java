package io.berth.core.metadata;

import java.util.List;
import java.util.function.Function;

/**
 * A metadata store that notes each commit and its durability ({@code commit DURABLE}) in a shared
 * timeline, so that a test can check the order of flushes and commits of one request.
 */
public final class RecordingMetadataStore implements MetadataStore, DelegatingReads {
    private final MetadataStore delegate;
    private final List<String> timeline;

    public RecordingMetadataStore(MetadataStore delegate, List<String> timeline) {
        if (!(delegate instanceof DelegatingReads)) {
            throw new IllegalArgumentException("a store that reads through DelegatingReads");
        }
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
    public <T> T read(Function<MetadataReads, T> query) {
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
