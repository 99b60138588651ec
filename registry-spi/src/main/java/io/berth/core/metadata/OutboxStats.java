package io.berth.core.metadata;

/** The outbox backlog: events waiting, and since when the oldest waits (epoch millis, 0 when none). */
public record OutboxStats(long pending, long oldestCreatedAt) {}
