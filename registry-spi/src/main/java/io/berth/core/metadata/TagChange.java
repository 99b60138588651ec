package io.berth.core.metadata;

import io.berth.core.model.ChangeOrigin;
import io.berth.core.model.Digest;
import java.util.Optional;

/** One entry of a tag's history: a version of the tag, and where the change came from. */
public record TagChange(
        String tag,
        long version,
        Action action,
        Optional<Digest> digest,
        Optional<Digest> previous,
        long changedAt,
        ChangeOrigin origin) {
    public enum Action {
        CREATED,
        MOVED,
        DELETED
    }
}
