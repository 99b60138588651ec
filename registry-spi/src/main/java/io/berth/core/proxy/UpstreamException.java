package io.berth.core.proxy;

import java.time.Duration;
import java.util.Objects;
import java.util.Optional;

/**
 * An upstream that did not answer with content or a 404. The kind decides what a client gets: a cached
 * tag served stale for {@link Kind#UNREACHABLE}, {@link Kind#UNAVAILABLE}, {@link Kind#CIRCUIT_OPEN} and
 * {@link Kind#THROTTLED}; {@code UNAVAILABLE} (503) or {@code TOOMANYREQUESTS} (429) when nothing is
 * cached; {@code UPSTREAM_FAILED} (502) for {@link Kind#REFUSED} and {@link Kind#INVALID}. The message
 * names the upstream and the request, never credentials.
 */
public final class UpstreamException extends Exception {
    private static final long serialVersionUID = 1L;

    public enum Kind {
        /** Connection refused, reset or timed out. */
        UNREACHABLE,
        /** 429: the upstream asks to slow down. */
        THROTTLED,
        /** 5xx, or the per-upstream bulkhead is full. */
        UNAVAILABLE,
        /** Recent failures opened the circuit breaker: no request was made. */
        CIRCUIT_OPEN,
        /** 401/403 after the token flow: Berth's own credentials were refused. */
        REFUSED,
        /** Bytes that do not match their digest, over a bound, unparseable, or a protocol violation. */
        INVALID
    }

    private final Kind kind;
    private final transient Optional<Duration> retryAfter;

    public UpstreamException(Kind kind, String message, Optional<Duration> retryAfter, Throwable cause) {
        super(message, cause);
        this.kind = Objects.requireNonNull(kind, "kind");
        this.retryAfter = Objects.requireNonNull(retryAfter, "retryAfter");
    }

    public UpstreamException(Kind kind, String message) {
        this(kind, message, Optional.empty(), null);
    }

    public Kind kind() {
        return kind;
    }

    /** How long the upstream (or the breaker) asks callers to wait, when it said. */
    public Optional<Duration> retryAfter() {
        return retryAfter;
    }

    /** Whether a cached tag may be served stale instead of this failure. */
    public boolean servesStale() {
        return kind != Kind.INVALID;
    }
}
