package io.berth.events;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;

/**
 * The one encoding of events, used by the producer (the outbox) and every consumer (webhooks,
 * replicator): JSON in, JSON out, and a parser that refuses anything that is not a complete
 * Berth event with a message saying why.
 */
public final class EventCodec {
    /** Kafka record headers, as the CloudEvents Kafka binding names them. */
    public static final String HEADER_TYPE = "ce_type";

    public static final String HEADER_ID = "ce_id";
    public static final String HEADER_SOURCE = "ce_source";
    public static final String HEADER_SPEC_VERSION = "ce_specversion";
    /** The content type of a structured CloudEvent on Kafka. */
    public static final String HEADER_CONTENT_TYPE = "content-type";
    /** As docs/events.md states it, which EventsDocsTest checks (JSON is UTF-8 by definition: no charset). */
    public static final String STRUCTURED_CONTENT_TYPE = "application/cloudevents+json";

    private static final ObjectMapper JSON = JsonMapper.builder()
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .build();

    private EventCodec() {}

    public static byte[] encode(RegistryEvent event) {
        try {
            return JSON.writeValueAsBytes(event);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("an event that cannot be written as JSON: " + e.getMessage(), e);
        }
    }

    public static String encodeToString(RegistryEvent event) {
        return new String(encode(event), StandardCharsets.UTF_8);
    }

    /** Parses and checks an event; malformed input is a {@link MalformedEventException} naming the defect. */
    public static RegistryEvent decode(byte[] bytes) throws MalformedEventException {
        if (bytes == null || bytes.length == 0) {
            throw new MalformedEventException("empty record: an event is a JSON object");
        }
        RegistryEvent e;
        try {
            e = JSON.readValue(bytes, RegistryEvent.class);
        } catch (JsonProcessingException ex) {
            throw new MalformedEventException("not a JSON event: " + ex.getOriginalMessage());
        } catch (IOException ex) {
            throw new MalformedEventException("not a JSON event: " + ex.getMessage());
        }
        if (e == null) {
            throw new MalformedEventException("not a JSON event: null");
        }
        require(RegistryEvent.SPEC_VERSION.equals(e.specversion()), "specversion must be 1.0, not " + e.specversion());
        require(nonBlank(e.id()), "id is missing");
        require(nonBlank(e.source()), "source is missing");
        require(e.type() != null && EventType.of(e.type()).isPresent(), "unknown type " + e.type());
        require(nonBlank(e.time()) && isTime(e.time()), "time is missing or not RFC 3339: " + e.time());
        require(nonBlank(e.subject()), "subject is missing");
        require(nonBlank(e.repository()), "berthrepository is missing");
        require(e.data() != null, "data is missing");
        DistributionEvent d = e.data();
        require(nonBlank(d.id()) && d.id().equals(e.id()), "data.id must equal id");
        require(
                EventType.of(e.type()).orElseThrow().action().equals(d.action()),
                "data.action " + d.action() + " does not fit type " + e.type());
        require(
                d.target() != null && e.repository().equals(d.target().repository()),
                "data.target.repository must equal berthrepository");
        return e;
    }

    private static boolean nonBlank(String s) {
        return s != null && !s.isBlank();
    }

    private static boolean isTime(String s) {
        try {
            OffsetDateTime.parse(s);
            return true;
        } catch (DateTimeParseException ex) {
            return false;
        }
    }

    private static void require(boolean ok, String why) throws MalformedEventException {
        if (!ok) {
            throw new MalformedEventException("malformed event: " + why);
        }
    }
}
