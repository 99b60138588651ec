package io.berth.core.error;

/**
 * The error codes of the OCI Distribution Specification v1.1 (section "Error Codes"), plus the
 * registry-internal {@link #INTERNAL} for faults that are not the client's. Protocol layers map each
 * code to their own status in exactly one place. Server-side faults the client may retry carry
 * Distribution's {@code UNAVAILABLE} code on the wire.
 */
public enum ErrorCode {
    BLOB_UNKNOWN("blob unknown to registry"),
    BLOB_UPLOAD_INVALID("blob upload invalid"),
    BLOB_UPLOAD_UNKNOWN("blob upload unknown to registry"),
    DIGEST_INVALID("provided digest did not match uploaded content"),
    MANIFEST_BLOB_UNKNOWN("manifest references a manifest or blob unknown to registry"),
    MANIFEST_INVALID("manifest invalid"),
    MANIFEST_UNKNOWN("manifest unknown to registry"),
    NAME_INVALID("invalid repository name"),
    NAME_UNKNOWN("repository name not known to registry"),
    SIZE_INVALID("provided length did not match content length"),
    /** Manifest (or other bounded body) larger than the registry accepts. */
    PAYLOAD_TOO_LARGE("payload exceeds the size the registry accepts"),
    /** A chunk that does not start where the upload currently ends. */
    RANGE_INVALID("requested range not satisfiable"),
    /** {@code n} of a paginated listing is not a non-negative number. */
    PAGINATION_NUMBER_INVALID("invalid number of results requested"),
    /** A request the HTTP layer could not take apart (bad header, malformed line). */
    BAD_REQUEST("malformed request"),
    /** No API endpoint at that path. */
    ROUTE_UNKNOWN("no such endpoint"),
    UNAUTHORIZED("authentication required"),
    DENIED("requested access to the resource is denied"),
    UNSUPPORTED("the operation is unsupported"),
    /** A delete of content that a manifest in the repository still references. */
    REFERENCED("the content is still referenced"),
    /** A change of a tag that an immutability rule protects. */
    IMMUTABLE("the tag is immutable"),
    /** Admin API: no such repository, policy, rule, plan or run. */
    NOT_FOUND("not found"),
    /** Admin API: an argument that cannot be used (a bad pattern, policy or page token). */
    INVALID_ARGUMENT("invalid argument"),
    /** Admin API: the request is valid but the state does not allow it now. */
    FAILED_PRECONDITION("the registry's state does not allow this now"),
    TOOMANYREQUESTS("too many requests"),
    /** The registry's storage has no room left (the server's fault; retry later). */
    STORAGE_FULL("insufficient storage"),
    /** The registry's storage failed or cannot be written now (the server's fault; retry later). */
    STORAGE_UNAVAILABLE("storage unavailable"),
    /**
     * A pull-through cache holds nothing to serve and its upstream cannot answer now (unreachable,
     * failing, circuit open); the client may retry.
     */
    UPSTREAM_UNAVAILABLE("the upstream registry is unavailable"),
    /** A pull-through cache's upstream refused the registry's credentials or sent something invalid. */
    UPSTREAM_FAILED("the upstream registry failed"),
    INTERNAL("internal server error");

    private final String message;

    ErrorCode(String message) {
        this.message = message;
    }

    /** The spec's short message for this code. */
    public String message() {
        return message;
    }

    /** The code as it appears on the wire. Non-spec codes are carried under the closest spec code. */
    public String wireCode() {
        return switch (this) {
            case PAYLOAD_TOO_LARGE -> "SIZE_INVALID";
            case RANGE_INVALID -> "BLOB_UPLOAD_INVALID";
            case ROUTE_UNKNOWN, BAD_REQUEST, PAGINATION_NUMBER_INVALID -> "UNSUPPORTED";
            case STORAGE_FULL, STORAGE_UNAVAILABLE, UPSTREAM_UNAVAILABLE -> "UNAVAILABLE";
            case REFERENCED, IMMUTABLE, FAILED_PRECONDITION -> "DENIED";
            case NOT_FOUND -> "NAME_UNKNOWN";
            case INVALID_ARGUMENT -> "UNSUPPORTED";
            case INTERNAL, UPSTREAM_FAILED -> "UNKNOWN";
            default -> name();
        };
    }
}
