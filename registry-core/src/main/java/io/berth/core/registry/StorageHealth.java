package io.berth.core.registry;

import io.berth.core.error.RegistryException;
import io.berth.core.model.Digest;
import java.time.Instant;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;

/**
 * What blob storage has shown recently: whether writes are failing (a failure is a current problem
 * until a later write succeeds), and which blobs were found damaged (missing or short files) when
 * read, until a push of the same content repairs them. Health endpoints report both; neither blocks
 * work.
 */
public final class StorageHealth {
    private static final System.Logger LOG = System.getLogger(StorageHealth.class.getName());

    /** A storage failure that no successful write has followed yet. */
    public record Problem(String code, String message, long since) {}

    /** A blob whose stored bytes could not be read back as recorded. */
    public record Damage(Digest digest, String reason, long at) {}

    private static final int MAX_DAMAGED = 100;

    private volatile Problem problem;
    private final Map<Digest, Damage> damaged = Collections.synchronizedMap(new LinkedHashMap<>());
    private final AtomicLong damageSeen = new AtomicLong();

    void failed(RegistryException failure) {
        Problem current = problem;
        if (current == null || !current.code().equals(failure.code().name())) {
            problem = new Problem(failure.code().name(), failure.getMessage(), System.currentTimeMillis());
            LOG.log(
                    System.Logger.Level.WARNING,
                    "blob storage failing: " + failure.getMessage()
                            + (failure.getCause() == null
                                    ? ""
                                    : " (" + failure.getCause().getMessage() + ")"));
        }
    }

    void succeeded() {
        Problem current = problem;
        if (current != null) {
            problem = null;
            LOG.log(
                    System.Logger.Level.INFO,
                    "blob storage recovered: writes succeed again after failing since "
                            + Instant.ofEpochMilli(current.since()));
        }
    }

    /** The current problem, if the last write failed. */
    public Optional<Problem> problem() {
        return Optional.ofNullable(problem);
    }

    void damaged(Digest digest, String reason) {
        damageSeen.incrementAndGet();
        synchronized (damaged) {
            damaged.remove(digest);
            damaged.put(digest, new Damage(digest, reason, System.currentTimeMillis()));
            if (damaged.size() > MAX_DAMAGED) {
                damaged.remove(damaged.keySet().iterator().next());
            }
        }
    }

    void repaired(Digest digest) {
        damaged.remove(digest);
    }

    /** Blobs found damaged and not repaired since (the most recent {@value #MAX_DAMAGED}). */
    public List<Damage> damagedBlobs() {
        synchronized (damaged) {
            return List.copyOf(damaged.values());
        }
    }

    /** How many damaged reads were seen since start (a counter for metrics). */
    public long damagedReads() {
        return damageSeen.get();
    }
}
