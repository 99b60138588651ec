package io.berth.core.model;

/**
 * Where a change came from, as tag history records it.
 *
 * @param via       the API or job: {@code v2}, {@code admin}, {@code retention}, {@code replication},
 *                  {@code gc}, {@code internal}
 * @param requestId the request id the client saw, or empty
 * @param actor     the authenticated name, or empty while access control is off
 */
public record ChangeOrigin(String via, String requestId, String actor) {
    public ChangeOrigin {
        via = via == null || via.isBlank() ? "internal" : via;
        requestId = requestId == null ? "" : requestId;
        actor = actor == null ? "" : actor;
    }

    public static ChangeOrigin of(String via) {
        return new ChangeOrigin(via, "", "");
    }
}
