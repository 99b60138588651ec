package io.berth.core.metadata;

import java.util.OptionalLong;

/**
 * A garbage collection run and where it is: its phase and the last key it finished in that phase
 * (so a stopped run resumes after it), and what it did so far.
 */
public record GcRunRecord(
        String id,
        String state,
        boolean dryRun,
        boolean deleteUntagged,
        long graceMillis,
        long cutoffAt,
        String phase,
        String cursor,
        long startedAt,
        long updatedAt,
        OptionalLong finishedAt,
        long manifestsDeleted,
        long blobsExamined,
        long blobsDeleted,
        long bytesFreed,
        String error) {}
