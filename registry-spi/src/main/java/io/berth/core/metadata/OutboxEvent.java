package io.berth.core.metadata;

/**
 * A row of the event outbox: an event written in the transaction of the change it describes.
 *
 * @param seq        its place among all events (publishing order)
 * @param id         the event id (stable across retries)
 * @param repository the repository (the Kafka key)
 * @param repoSeq    its place among its repository's events
 * @param type       the CloudEvents type
 * @param payload    the CloudEvent as JSON
 * @param createdAt  when the change committed (epoch millis)
 */
public record OutboxEvent(
        long seq, String id, String repository, long repoSeq, String type, String payload, long createdAt) {}
