package io.berth.core.metadata;

import io.berth.core.model.Digest;
import java.util.Set;

/** The blobs and child manifests a manifest references (what keeps them reachable). */
public record ManifestReferences(Set<Digest> blobs, Set<Digest> children) {
    public ManifestReferences {
        blobs = Set.copyOf(blobs);
        children = Set.copyOf(children);
    }
}
