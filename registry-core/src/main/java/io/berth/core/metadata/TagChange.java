package io.berth.core.metadata;

import io.berth.core.model.Digest;
import java.util.Optional;

/** One entry of a tag's history. */
public record TagChange(String tag, long version, Action action, Optional<Digest> digest,
                        Optional<Digest> previous, long changedAt) {
    public enum Action { CREATED, MOVED, DELETED }
}
