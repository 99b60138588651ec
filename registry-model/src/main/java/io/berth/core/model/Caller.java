package io.berth.core.model;

/**
 * Who asks for a change, as far as the registry's rules need to know: the client's address (for
 * per-client limits) and the request's id, host, method and user agent (for events and tag
 * history). Protocol layers build one per request; work the registry does by itself is
 * {@link #internal(String)}.
 *
 * @param address   the client's network address, or a name such as {@code internal}
 * @param requestId the request id the client sees ({@code X-Request-Id}), or empty
 * @param host      the {@code Host} the client addressed, or empty
 * @param method    the HTTP method of a {@code /v2} request ({@code PUT}); for other callers the RPC or
 *                  job ({@code DeleteTag}, {@code gc <run id>}); or empty
 * @param userAgent the client's user agent, or empty
 * @param actor     the authenticated name, or empty while access control is off
 * @param via       the API or job the change comes through: {@link #V2}, {@link #ADMIN},
 *                  {@link #RETENTION}, {@link #REPLICATION}, {@link #GC}, {@link #PROXY},
 *                  {@link #INTERNAL}
 */
public record Caller(
        String address, String requestId, String host, String method, String userAgent, String actor, String via) {
    public static final String V2 = "v2";
    public static final String ADMIN = "admin";
    public static final String RETENTION = "retention";
    public static final String REPLICATION = "replication";
    public static final String GC = "gc";
    /** A pull-through cache storing what it fetched from an upstream for a pulling client. */
    public static final String PROXY = "proxy";

    public static final String INTERNAL = "internal";

    public Caller {
        address = address == null || address.isBlank() ? "unknown" : address;
        requestId = requestId == null ? "" : requestId;
        host = host == null ? "" : host;
        method = method == null ? "" : method;
        userAgent = userAgent == null ? "" : userAgent;
        actor = actor == null ? "" : actor;
        via = via == null || via.isBlank() ? INTERNAL : via;
    }

    /** The HTTP method of the request, when it is a {@code /v2} request; else empty. */
    public String httpMethod() {
        return V2.equals(via) ? method : "";
    }

    /** What a change that is no HTTP request is (an admin RPC, a job); empty for {@code /v2} requests. */
    public String operation() {
        return V2.equals(via) ? "" : method;
    }

    /** The client per-client limits count: the authenticated name when there is one, else the address. */
    public String client() {
        return actor.isEmpty() ? address : "user " + actor;
    }

    /** As tag history records this caller. */
    public ChangeOrigin origin() {
        return new ChangeOrigin(via, requestId, actor);
    }

    /** Work the registry does on its own behalf (housekeeping, admin jobs). */
    public static Caller internal(String what) {
        return new Caller("internal", "", "", what, "berth", "", INTERNAL);
    }

    /** A job of the registry's own ({@link #RETENTION}, {@link #GC}): the job's name is its method. */
    public static Caller job(String via, String what) {
        return new Caller("internal", "", "", what, "berth", "", via);
    }

    /**
     * A pull-through cache writing what it fetched from {@code upstream} on behalf of {@code pulling}:
     * the pulling request's id, address, host, user agent and actor, via {@link #PROXY}, operation
     * {@code cache <upstream>}.
     */
    public static Caller proxy(Caller pulling, String upstream) {
        return new Caller(
                pulling.address(),
                pulling.requestId(),
                pulling.host(),
                "cache " + upstream,
                pulling.userAgent(),
                pulling.actor(),
                PROXY);
    }

    /** A caller known only by its address (tests, simple clients). */
    public static Caller at(String address) {
        return new Caller(address, "", "", "", "", "", V2);
    }
}
