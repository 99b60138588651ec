package io.berth.core.metadata;

import io.berth.core.model.Digest;

/** A verified blob the registry holds. */
public record BlobRecord(Digest digest, long size) {}
