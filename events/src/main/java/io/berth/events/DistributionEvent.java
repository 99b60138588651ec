package io.berth.events;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.util.List;

/**
 * The {@code data} of a Berth event: a CNCF Distribution notification event, field for field, so that
 * consumers written for Distribution's notifications read it unchanged.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record DistributionEvent(
        String id, String timestamp, String action, Target target, Request request, Actor actor, Source source) {

    /** What the event is about. {@code length} repeats {@code size}, as Distribution sends both. */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record Target(
            String mediaType,
            String digest,
            Long size,
            Long length,
            String repository,
            String url,
            String tag,
            List<String> references) {}

    /**
     * The request that caused the change. {@code method} is the HTTP method of a {@code /v2} request and
     * empty for changes no HTTP request made. Berth adds {@code via} — the API or job the change came
     * through: {@code v2}, {@code admin}, {@code retention}, {@code gc}, {@code internal} — and, for
     * those that are not HTTP requests, {@code operation}: the admin RPC ({@code DeleteTag}) or the job
     * ({@code retention nightly}, {@code gc <run id>}, {@code pull}). Both are absent from events of
     * older versions.
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record Request(
            String id, String addr, String host, String method, String useragent, String via, String operation) {
        /** Distribution's five fields alone. */
        public Request(String id, String addr, String host, String method, String useragent) {
            this(id, addr, host, method, useragent, null, null);
        }
    }

    /** Who made the change (empty until access control names users). */
    public record Actor(String name) {}

    /** The registry instance that made the change. */
    public record Source(String addr, String instanceID) {}
}
