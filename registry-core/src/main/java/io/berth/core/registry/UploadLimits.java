package io.berth.core.registry;

import io.berth.core.error.ErrorCode;
import io.berth.core.error.RegistryException;
import io.berth.core.model.Caller;
import java.util.HashMap;
import java.util.Map;

/**
 * How many upload bodies may stream in at once, in all and per client. Beyond a limit a request is
 * refused at once with {@code TOOMANYREQUESTS} (429 with Retry-After), so that one client opening
 * hundreds of slow uploads cannot take the memory and threads others need.
 *
 * <p>A client's share ({@code uploads.max-concurrent-per-client}) is what it can always have while the
 * registry has room. Beyond it, a client borrows idle room: while fewer than {@code max - reserve}
 * uploads stream in all, where the reserve is the larger of a share and a quarter of {@code max}. So a
 * burst from one address (a CI farm behind NAT) is not slowed on an idle registry, and however many
 * uploads one client stalls, the reserve stays for clients within their share.
 *
 * <p>Decisions and releases are made under one lock: a refused request never counts, not even for an
 * instant, so a crowd of refusals cannot make another client's request look over a limit.
 */
final class UploadLimits {
    private final int max;
    private final int maxPerClient;
    private final int borrowBelow;
    private final Map<String, Integer> perClient = new HashMap<>();
    private int total;

    UploadLimits(int max, int maxPerClient) {
        this.max = max;
        this.maxPerClient = maxPerClient;
        this.borrowBelow = max - Math.max(maxPerClient, max / 4);
    }

    /** A place for one upload body; closing it (once or more) frees the place once. */
    interface Permit extends AutoCloseable {
        @Override
        void close();
    }

    Permit enter(Caller caller) {
        String client = caller.client();
        synchronized (this) {
            if (total >= max) {
                throw busy(
                        "the registry is receiving " + max + " uploads at once, its limit (uploads.max-concurrent)",
                        "uploads.max-concurrent",
                        max);
            }
            int mine = perClient.getOrDefault(client, 0);
            if (mine >= maxPerClient && total >= borrowBelow) {
                throw busy(
                        "client " + client + " is sending " + mine
                                + " uploads at once, beyond its share (uploads.max-concurrent-per-client "
                                + maxPerClient + ") while the registry is busy",
                        "uploads.max-concurrent-per-client",
                        maxPerClient);
            }
            perClient.put(client, mine + 1);
            total++;
        }
        return new Permit() {
            private boolean closed;

            @Override
            public void close() {
                synchronized (UploadLimits.this) {
                    if (closed) {
                        return;
                    }
                    closed = true;
                    perClient.computeIfPresent(client, (k, n) -> n <= 1 ? null : n - 1);
                    total--;
                }
            }
        };
    }

    synchronized int inProgress() {
        return total;
    }

    private static RegistryException busy(String why, String setting, int limit) {
        return new RegistryException(
                ErrorCode.TOOMANYREQUESTS, why + "; retry later", Map.of("setting", setting, "limit", limit));
    }
}
