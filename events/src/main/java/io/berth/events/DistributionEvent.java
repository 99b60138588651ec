package io.berth.events;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.util.List;

/**
 * The {@code data} of a Berth event: a CNCF Distribution notification event, field for field, so that
 * consumers written for Distribution's notifications read it unchanged.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record DistributionEvent(String id, String timestamp, String action, Target target, Request request,
                                Actor actor, Source source) {

    /** What the event is about. {@code length} repeats {@code size}, as Distribution sends both. */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record Target(String mediaType, String digest, Long size, Long length, String repository, String url,
                         String tag, List<String> references) {
    }

    /** The request that caused the change. */
    public record Request(String id, String addr, String host, String method, String useragent) {
    }

    /** Who made the change (empty until access control names users). */
    public record Actor(String name) {
    }

    /** The registry instance that made the change. */
    public record Source(String addr, String instanceID) {
    }
}
