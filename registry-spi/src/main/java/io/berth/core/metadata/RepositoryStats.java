package io.berth.core.metadata;

import java.util.OptionalLong;

/**
 * What a repository holds.
 *
 * @param tags       tags
 * @param manifests  manifests, tagged or not
 * @param totalSize  bytes of every blob it links and every manifest it holds
 * @param uniqueSize bytes only this repository holds (blobs no other repository links, and its manifests):
 *                   what deleting it would free
 * @param lastPushAt the latest push of a manifest or tag, if any
 * @param lastPullAt the latest pull of a manifest, if any (recorded in batches)
 */
public record RepositoryStats(
        long tags, long manifests, long totalSize, long uniqueSize, OptionalLong lastPushAt, OptionalLong lastPullAt) {}
