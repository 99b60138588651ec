package io.berth.core.registry;

import java.util.Objects;

/**
 * A blob a pull-through cache serves, and how it was found. After a GET it is stored and linked, and
 * served through {@link Blobs} like any other; after a HEAD of an uncached blob it is only the
 * upstream's answer (nothing stored).
 */
public record CachedBlob(BlobInfo blob, CacheOutcome outcome) {
    public CachedBlob {
        Objects.requireNonNull(blob, "blob");
        Objects.requireNonNull(outcome, "outcome");
    }
}
