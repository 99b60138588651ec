package io.berth.core.metadata;

import java.util.OptionalLong;

/** A retention policy as stored: its JSON, and what its last run did. */
public record StoredRetentionPolicy(
        String name, String spec, long createdAt, long updatedAt, OptionalLong lastRunAt, String lastRun) {}
