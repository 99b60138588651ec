package io.berth.events;

import com.fasterxml.jackson.annotation.JsonProperty;

/**
 * One event as published: a CloudEvents 1.0 envelope (structured JSON mode) whose {@code data} is a
 * {@link DistributionEvent}. {@code id} is stable across retries (consumers de-duplicate by it);
 * {@code sequence} (the CloudEvents sequence extension) numbers the events of one repository.
 *
 * @param specversion     always {@code 1.0}
 * @param id              unique per event, the same on every delivery of it
 * @param source          the registry instance ({@code events.source})
 * @param type            see {@link EventType}
 * @param time            when the change committed (RFC 3339)
 * @param subject         {@code repo:tag} or {@code repo@digest}
 * @param datacontenttype always {@code application/json}
 * @param sequence        the event's number among its repository's events, from 1
 * @param repository      the repository (also the Kafka record key)
 * @param data            the Distribution notification event
 */
public record RegistryEvent(
        String specversion,
        String id,
        String source,
        String type,
        String time,
        String subject,
        String datacontenttype,
        String sequence,
        @JsonProperty("berthrepository") String repository,
        DistributionEvent data) {

    public static final String SPEC_VERSION = "1.0";
    public static final String CONTENT_TYPE = "application/json";

    /** The type as an enum (never empty for an event that passed {@link EventCodec#decode}). */
    public EventType eventType() {
        return EventType.of(type).orElseThrow();
    }
}
