package io.berth.core.registry;

import io.berth.core.model.Digest;
import java.util.LinkedHashSet;
import java.util.Set;

/**
 * What removing cached content did: tags and manifests removed, and the blobs unlinked from the cached
 * repository — candidates for the online garbage collector, which deletes a file only when nothing
 * else links or references it.
 */
public record PurgeResult(long tagsRemoved, long manifestsRemoved, Set<Digest> unlinked) {
    public static final PurgeResult NOTHING = new PurgeResult(0, 0, Set.of());

    public PurgeResult {
        unlinked = Set.copyOf(unlinked);
    }

    public PurgeResult plus(PurgeResult other) {
        Set<Digest> both = new LinkedHashSet<>(unlinked);
        both.addAll(other.unlinked);
        return new PurgeResult(tagsRemoved + other.tagsRemoved, manifestsRemoved + other.manifestsRemoved, both);
    }
}
