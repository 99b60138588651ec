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

    /** How durable a commit is when {@link #inTransaction(Durability, Work)} returns. */
    enum Durability {
        /** On stable storage: the change survives a power loss. */
        DURABLE,
        /**
         * Survives the process dying (it reached the database or the operating system), and is made
         * durable by the next {@code DURABLE} commit or within moments; a power loss may lose it, but
         * never while keeping a later commit — commits stay in order. For changes whose loss only
         * makes a client retry (an upload session opened, a reservation), never for an acknowledged
         * push or tag. SQLite: {@code synchronous=NORMAL} for that commit; PostgreSQL:
         * {@code synchronous_commit=off}.
         */
        DEFERRED
    }

    /** Runs {@code work} in a transaction: committed durably when it returns, rolled back when it throws. */
    default <T> T inTransaction(Work<T> work) {
        return inTransaction(Durability.DURABLE, work);
    }

    /** As {@link #inTransaction(Work)}, with the given durability of the commit. */
    <T> T inTransaction(Durability durability, Work<T> work);

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
