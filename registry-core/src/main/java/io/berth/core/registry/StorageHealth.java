package io.berth.core.registry;

import io.berth.core.error.RegistryException;
import java.util.Optional;

/**
 * Whether blob storage is currently failing writes, as the last write attempts saw it: a failure is
 * a current problem until a later write succeeds. Health endpoints report it; it never blocks work.
 */
public final class StorageHealth {
    /** A storage failure that no successful write has followed yet. */
    public record Problem(String code, String message, long since) {
    }

    private volatile Problem problem;

    void failed(RegistryException failure) {
        Problem current = problem;
        if (current == null || !current.code().equals(failure.code().name())) {
            problem = new Problem(failure.code().name(), failure.getMessage(), System.currentTimeMillis());
        }
    }

    void succeeded() {
        if (problem != null) {
            problem = null;
        }
    }

    /** The current problem, if the last write failed. */
    public Optional<Problem> problem() {
        return Optional.ofNullable(problem);
    }
}
