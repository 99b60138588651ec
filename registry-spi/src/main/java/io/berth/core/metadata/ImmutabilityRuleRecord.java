package io.berth.core.metadata;

/** A stored immutability rule: repository glob and tag regex. */
public record ImmutabilityRuleRecord(String id, String repositories, String tags, long createdAt) {}
