package io.berth.core.registry;

import io.berth.core.model.Digest;
import java.util.Optional;

/** Where a pushed manifest now lives, and its subject when it has one. */
public record PutManifestResult(Digest digest, Optional<Digest> subject) {
}
