package io.berth.core.config;

import java.time.Clock;

/**
 * What the engine hands a store provider besides the configuration: the clock its records are
 * stamped with and the most upload bodies that stream in at once (a store may size its writers by it).
 */
public record StoreContext(Clock clock, int maxConcurrentUploads) {}
