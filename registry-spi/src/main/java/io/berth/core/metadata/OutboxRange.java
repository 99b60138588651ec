package io.berth.core.metadata;

/**
 * Which events the outbox still holds: the oldest kept (0 and 0 when it holds none) and the last
 * sequence number handed out (0 when no event was ever recorded). Sequence numbers have no gaps
 * (one that a rolled-back transaction took is handed out again), so events after {@code n} are all
 * still there exactly when {@code n >= lastSeq} or {@code oldestSeq <= n + 1}.
 */
public record OutboxRange(long oldestSeq, long oldestCreatedAt, long lastSeq) {

    /** Whether events after {@code seq} were pruned: some of them cannot be read any more. */
    public boolean prunedAfter(long seq) {
        return seq < lastSeq && (oldestSeq == 0 || oldestSeq > seq + 1);
    }

    /** Whether any event was ever pruned. */
    public boolean anyPruned() {
        return prunedAfter(0);
    }
}
