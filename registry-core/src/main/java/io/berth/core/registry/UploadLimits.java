package io.berth.core.registry;

import io.berth.core.error.ErrorCode;
import io.berth.core.error.RegistryException;
import io.berth.core.model.Caller;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * How many upload bodies may stream in at once, in all and per client address. Beyond either limit
 * a request is refused at once with {@code TOOMANYREQUESTS} (429 with Retry-After), so that one
 * client opening hundreds of slow uploads cannot take the memory and threads others need.
 */
final class UploadLimits {
    private final int max;
    private final int maxPerClient;
    private final AtomicInteger total = new AtomicInteger();
    private final Map<String, AtomicInteger> perClient = new ConcurrentHashMap<>();

    UploadLimits(int max, int maxPerClient) {
        this.max = max;
        this.maxPerClient = maxPerClient;
    }

    /** A place for one upload body; closing it frees the place. */
    interface Permit extends AutoCloseable {
        @Override
        void close();
    }

    Permit enter(Caller caller) {
        String client = caller.client();
        if (total.incrementAndGet() > max) {
            total.decrementAndGet();
            throw busy(
                    "the registry is receiving " + max + " uploads at once, its limit (uploads.max-concurrent)",
                    "uploads.max-concurrent",
                    max);
        }
        AtomicInteger mine = perClient.compute(client, (k, v) -> {
            AtomicInteger n = v == null ? new AtomicInteger() : v;
            n.incrementAndGet();
            return n;
        });
        if (mine.get() > maxPerClient) {
            leave(client);
            throw busy(
                    "client " + client + " is sending " + maxPerClient
                            + " uploads at once, its limit (uploads.max-concurrent-per-client)",
                    "uploads.max-concurrent-per-client",
                    maxPerClient);
        }
        return () -> leave(client);
    }

    private void leave(String client) {
        perClient.computeIfPresent(client, (k, v) -> v.decrementAndGet() <= 0 ? null : v);
        total.decrementAndGet();
    }

    int inProgress() {
        return total.get();
    }

    private static RegistryException busy(String why, String setting, int limit) {
        return new RegistryException(
                ErrorCode.TOOMANYREQUESTS, why + "; retry later", Map.of("setting", setting, "limit", limit));
    }
}
