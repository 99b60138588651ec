package io.berth.core.registry;

import io.berth.core.model.Digest;
import io.berth.core.model.Tag;
import java.util.List;
import java.util.Optional;

/** Where a pushed manifest now lives, its subject when it has one, and the tags now pointing at it. */
public record PutManifestResult(Digest digest, Optional<Digest> subject, List<Tag> tags) {
    public PutManifestResult {
        tags = List.copyOf(tags);
    }
}
