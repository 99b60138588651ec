package io.berth.core.registry;

import io.berth.core.error.ErrorCode;
import io.berth.core.error.RegistryException;
import io.berth.core.model.Caller;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * How many bytes of manifest bodies may be held in memory at once, in all and per client. A manifest
 * is read whole before it is parsed and stored, so without a bound sixteen clients pushing 4 MiB
 * manifests at once hold 64 MiB and more of a 160 MiB heap. A body is counted at the size it may take
 * before its first byte is read; beyond either limit the push is refused at once with
 * {@code TOOMANYREQUESTS} (429 with Retry-After). The per-client share keeps one client from taking
 * the room others' pushes need. And large bodies (over a 64th of the budget) may take three quarters
 * of it at most: the last quarter stays for the manifests real clients push (a few KiB), so that a
 * crowd of large hostile bodies from many addresses cannot starve them.
 */
final class ManifestBodyLimits {
    private final long max;
    private final long maxPerClient;
    private final AtomicLong total = new AtomicLong();
    private final Map<String, AtomicLong> perClient = new ConcurrentHashMap<>();

    ManifestBodyLimits(long max, long maxPerClient) {
        this.max = max;
        this.maxPerClient = maxPerClient;
    }

    Manifests.BodyPermit reserve(Caller caller, long bytes) {
        String client = caller.client();
        long ceiling = bytes > max / 64 ? Math.max(max - max / 4, bytes) : max;
        // Both counts are checked before they change, never added and then undone: a refused
        // reservation must not be counted even for an instant, or a crowd of refused large bodies makes
        // an honest small one fail (seen in CI on 2 cores).
        boolean[] within = {false};
        perClient.compute(client, (k, v) -> {
            long mine = v == null ? 0 : v.get();
            if (mine + bytes > maxPerClient) {
                return v;
            }
            within[0] = true;
            AtomicLong n = v == null ? new AtomicLong() : v;
            n.addAndGet(bytes);
            return n;
        });
        if (!within[0]) {
            throw busy(
                    "client " + client + " may have " + maxPerClient + " bytes of manifest bodies in flight at "
                            + "most (manifests.max-buffered-per-client)",
                    "manifests.max-buffered-per-client",
                    maxPerClient);
        }
        if (!tryAdd(bytes, ceiling)) {
            releaseClient(client, bytes);
            throw busy(
                    "the registry holds " + ceiling + " bytes of manifest bodies "
                            + (ceiling < max ? "of this size " : "") + "at most (manifests.max-buffered)",
                    "manifests.max-buffered",
                    max);
        }
        AtomicBoolean open = new AtomicBoolean(true);
        return () -> {
            if (open.compareAndSet(true, false)) {
                total.addAndGet(-bytes);
                releaseClient(client, bytes);
            }
        };
    }

    private boolean tryAdd(long bytes, long ceiling) {
        while (true) {
            long now = total.get();
            if (now + bytes > ceiling) {
                return false;
            }
            if (total.compareAndSet(now, now + bytes)) {
                return true;
            }
        }
    }

    private void releaseClient(String client, long bytes) {
        perClient.computeIfPresent(client, (k, v) -> v.addAndGet(-bytes) <= 0 ? null : v);
    }

    long inUse() {
        return total.get();
    }

    private static RegistryException busy(String why, String setting, long limit) {
        return new RegistryException(
                ErrorCode.TOOMANYREQUESTS, why + "; retry later", Map.of("setting", setting, "limit", limit));
    }
}
