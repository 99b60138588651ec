package io.berth.core.proxy;

import java.time.Instant;
import java.util.Objects;
import java.util.Optional;

/**
 * An upstream's state as an operator sees it: whether requests go to it now, since when it has been
 * failing, its last failure (never holding credentials), and request counts.
 */
public record UpstreamStatus(
        State state, Optional<Instant> failingSince, Optional<String> lastFailure, long requests, long failures) {
    public enum State {
        UP,
        FAILING,
        CIRCUIT_OPEN
    }

    public UpstreamStatus {
        Objects.requireNonNull(state, "state");
        Objects.requireNonNull(failingSince, "failingSince");
        Objects.requireNonNull(lastFailure, "lastFailure");
    }
}
