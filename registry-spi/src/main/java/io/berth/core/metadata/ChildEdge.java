package io.berth.core.metadata;

import io.berth.core.model.Digest;

/** An index (or manifest list) lists {@code child}. */
public record ChildEdge(Digest parent, Digest child) {}
