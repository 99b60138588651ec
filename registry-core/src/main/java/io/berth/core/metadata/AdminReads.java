package io.berth.core.metadata;

import io.berth.core.model.Digest;
import io.berth.core.model.RepositoryName;
import java.util.List;
import java.util.Optional;

/** The queries behind the admin API: listings with details, policies, rules, and garbage collection's state. */
public interface AdminReads {

    /** Up to {@code limit} repository names starting with {@code prefix}, sorted, after {@code after} (null: from the start). */
    List<String> repositories(String prefix, String after, int limit);

    RepositoryStats repositoryStats(RepositoryName repository);

    /** Up to {@code limit} tags with their manifests, sorted by name, after the name {@code after} (null: from the start). */
    List<TagRecord> tagRecords(RepositoryName repository, String after, int limit);

    /**
     * Up to {@code limit} tags sorted by push time, newest first, then by name; after the tag pushed at
     * {@code afterPushedAt} named {@code afterName} (null name: from the start).
     */
    List<TagRecord> tagRecordsByPushed(RepositoryName repository, long afterPushedAt, String afterName, int limit);

    Optional<TagRecord> tagRecord(RepositoryName repository, String tag);

    long tagCount(RepositoryName repository);

    /**
     * Up to {@code limit} manifests sorted by digest after {@code after} (null: from the start); with
     * {@code untaggedOnly}, only those no tag points at.
     */
    List<ManifestSummary> manifestSummaries(RepositoryName repository, String after, int limit, boolean untaggedOnly);

    long referrerCount(RepositoryName repository, Digest subject);

    /** Up to {@code limit} digests of the repository's manifests that begin with {@code beginning}, sorted. */
    List<Digest> manifestDigestsStartingWith(RepositoryName repository, String beginning, int limit);

    /** Every index → child edge of the repository. */
    List<ChildEdge> childEdges(RepositoryName repository);

    List<ImmutabilityRuleRecord> immutabilityRules();

    List<StoredRetentionPolicy> retentionPolicies();

    Optional<StoredRetentionPolicy> retentionPolicy(String name);

    Optional<StoredRetentionPlan> retentionPlan(String id);

    /**
     * Garbage collection's mark: up to {@code limit} blobs after digest {@code after}, sorted by digest,
     * that no manifest of any repository references, recorded before {@code cutoff} and linked to no
     * repository since.
     */
    List<BlobRecord> unreferencedBlobs(String after, long cutoff, int limit);

    /**
     * Up to {@code limit} manifests, sorted by repository and digest after {@code after}
     * ({@code repository@digest}, null: from the start), that no tag points at, no index of their
     * repository lists, that are not a referrer of a manifest their repository holds, and that were
     * pushed before {@code cutoff}.
     */
    List<ManifestKey> unreachableManifests(String after, long cutoff, int limit);

    /**
     * Manifests of the repository that {@code manifest} keeps: the children it lists (an index) and the
     * referrers naming it as their subject. A dry run asks which of them its deletion leaves unreachable.
     */
    List<Digest> manifestDependents(RepositoryName repository, Digest manifest);

    /** Every index of the repository that lists {@code child} (other than itself). */
    List<Digest> indexesListing(RepositoryName repository, Digest child);

    /** The blobs (config, layers) a manifest references. */
    List<Digest> blobsOf(RepositoryName repository, Digest manifest);

    /** Every manifest of any repository that references the blob. */
    List<ManifestKey> manifestsReferencingBlob(Digest blob);

    /**
     * The blob, when it was recorded before {@code cutoff} and linked to no repository since: the mark of
     * {@link #unreferencedBlobs} without its condition on references.
     */
    Optional<BlobRecord> blobUnlinkedSince(Digest blob, long cutoff);

    Optional<GcRunRecord> gcRun(String id);

    /** The most recently started run, if any. */
    Optional<GcRunRecord> latestGcRun();

    /** Digests garbage collection claimed and has not finished deleting (a run stopped in between). */
    List<Digest> blobDeletions();

    /** Robot accounts, by name. */
    List<RobotRecord> robots();

    Optional<RobotRecord> robot(String name);
}
