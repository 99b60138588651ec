package io.berth.core.metadata;

import io.berth.core.model.Digest;
import java.util.OptionalLong;

/**
 * A blob a repository may serve, as {@link BlobRecords#linkedTo} lists it: its size, when it was (last)
 * linked there, and when the repository last served it, if ever (recorded in batches).
 */
public record LinkedBlob(Digest digest, long size, long linkedAt, OptionalLong lastPulledAt) {
    /** When the repository last used it: its last pull, else when it was linked. */
    public long lastUsed() {
        return Math.max(linkedAt, lastPulledAt.orElse(0));
    }
}
