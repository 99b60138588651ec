package io.berth.core.metadata;

/** The outcome of a retention dry run, kept so that a run can be limited to exactly it. */
public record StoredRetentionPlan(String id, String policy, long createdAt, String items) {}
