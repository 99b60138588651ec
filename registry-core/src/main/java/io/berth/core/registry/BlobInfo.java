package io.berth.core.registry;

import io.berth.core.model.Digest;

/** A blob a repository serves. */
public record BlobInfo(Digest digest, long size) {}
