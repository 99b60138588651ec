package io.berth.core.metadata;

import java.util.List;

/** The event outbox: events written with the change they describe, published in order. */
public interface OutboxRecords {

    /** Up to {@code limit} unpublished outbox events, oldest first. */
    List<OutboxEvent> pending(int limit);

    /** How many events wait to be published, and since when the oldest waits (epoch millis, 0 when none). */
    OutboxStats stats();

    /** The changes, inside a {@link MetadataTransaction}. */
    interface Writes extends OutboxRecords {

        /** Adds an event to the outbox; it is published once this transaction committed. */
        void insert(OutboxEvent event);

        /** Marks outbox rows as published. */
        int markSent(List<Long> seqs, long at);

        /** Deletes published outbox rows older than {@code before} (epoch millis). */
        int pruneSent(long before);
    }
}
