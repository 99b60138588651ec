package io.berth.core.metadata;

import java.util.List;
import java.util.OptionalLong;

/**
 * The event outbox: events written with the change they describe, published in order, and kept for
 * a while for readers of the admin API (ListEvents, WatchEvents).
 */
public interface OutboxRecords {
    /**
     * The counter ({@link MetadataTransaction#nextSequence}) that numbers outbox events: a
     * transaction holds it from taking a number until it ends, so numbers become visible in order,
     * without gaps.
     */
    String SEQUENCE = "outbox";

    /** Up to {@code limit} unpublished outbox events, oldest first. */
    List<OutboxEvent> pending(int limit);

    /** How many events wait to be published, and since when the oldest waits (epoch millis, 0 when none). */
    OutboxStats stats();

    /** Up to {@code limit} events after {@code seq}, published or not, in sequence order. */
    List<OutboxEvent> after(long seq, int limit);

    /** The sequence number of the first event committed at or after {@code epochMillis}, if one is kept. */
    OptionalLong firstSince(long epochMillis);

    /** The oldest event kept and the last sequence number handed out. */
    OutboxRange range();

    /** The changes, inside a {@link MetadataTransaction}. */
    interface Writes extends OutboxRecords {

        /** Adds an event to the outbox; it is published once this transaction committed. */
        default void insert(OutboxEvent event) {
            insert(event, true);
        }

        /**
         * Adds an event to the outbox. With {@code publish} false (no broker is configured) it is
         * written as if published when it was created: no relay waits for it, and it is pruned like a
         * published event ({@link #pruneSent}) once older than the retention.
         */
        void insert(OutboxEvent event, boolean publish);

        /** Marks outbox rows as published. */
        int markSent(List<Long> seqs, long at);

        /** Deletes published outbox rows older than {@code before} (epoch millis). */
        int pruneSent(long before);
    }
}
