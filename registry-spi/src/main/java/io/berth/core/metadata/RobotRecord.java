package io.berth.core.metadata;

import java.util.List;

/**
 * A stored robot account: its name, the SHA-256 (hex) of its secret, the repository globs and
 * actions (names as policies write them) it is granted, and who created it when.
 */
public record RobotRecord(
        String name,
        String secretHash,
        List<String> repositories,
        List<String> actions,
        String description,
        long createdAt,
        String createdBy) {
    public RobotRecord {
        repositories = List.copyOf(repositories);
        actions = List.copyOf(actions);
        description = description == null ? "" : description;
        createdBy = createdBy == null ? "" : createdBy;
    }
}
