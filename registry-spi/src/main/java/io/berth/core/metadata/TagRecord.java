package io.berth.core.metadata;

import io.berth.core.model.Digest;
import java.util.OptionalLong;

/** A tag with what it points at: the manifest's media type and size, and push and pull times. */
public record TagRecord(
        String name, Digest digest, String mediaType, long size, long pushedAt, OptionalLong lastPulledAt) {}
