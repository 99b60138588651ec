package io.berth.core.metadata;

/**
 * Transactional registry metadata (repositories, manifests, tags and their history, references,
 * referrers, upload sessions). Reads outside a transaction see committed state. Every implementation
 * passes {@code MetadataStoreContract}.
 */
public interface MetadataStore extends MetadataReads, AutoCloseable {

    /** A unit of work run inside one transaction. */
    @FunctionalInterface
    interface Work<T> {
        T run(MetadataTransaction tx);
    }

    /** Runs {@code work} in a transaction: committed when it returns, rolled back when it throws. */
    <T> T inTransaction(Work<T> work);

    /** A short name of the backend, e.g. {@code sqlite}. */
    String kind();

    /** Which database, for the start-up line: {@code sqlite /srv/berth.db}. */
    default String describe() {
        return kind();
    }

    /** Throws when the store cannot currently be used (readiness). */
    void checkAvailable();

    @Override
    void close();
}
