package io.berth.core.metadata;

import io.berth.core.model.ChangeOrigin;
import io.berth.core.model.Digest;
import io.berth.core.model.RepositoryName;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;

/** Manifests with what they reference: blobs, children (an index) and subjects (referrers). */
public interface ManifestRecords {

    Optional<ManifestRecord> get(RepositoryName repository, Digest digest);

    boolean exists(RepositoryName repository, Digest digest);

    /** A manifest of the repository that references the blob (config or layer), if any. */
    Optional<Digest> referencingBlob(RepositoryName repository, Digest blob);

    /** Every manifest of any repository that references the blob. */
    List<ManifestKey> referencingBlobAnywhere(Digest blob);

    /** An index of the repository that lists {@code child} as one of its manifests, if any. */
    Optional<Digest> indexReferencing(RepositoryName repository, Digest child);

    /** Every index of the repository that lists {@code child} (other than itself). */
    List<Digest> indexesListing(RepositoryName repository, Digest child);

    /**
     * Up to {@code limit} manifests whose subject is {@code subject}, sorted by digest, after digest
     * {@code after} (null: from the start); {@code artifactType} null means all.
     */
    List<ReferrerRecord> referrers(
            RepositoryName repository, Digest subject, String artifactType, String after, int limit);

    long referrerCount(RepositoryName repository, Digest subject);

    /** When the manifest was last pulled, if ever (recorded in batches). */
    OptionalLong lastPulled(RepositoryName repository, Digest digest);

    /**
     * Up to {@code limit} manifests sorted by digest after {@code after} (null: from the start); with
     * {@code untaggedOnly}, only those no tag points at.
     */
    List<ManifestSummary> summaries(RepositoryName repository, String after, int limit, boolean untaggedOnly);

    /** Up to {@code limit} digests of the repository's manifests that begin with {@code beginning}, sorted. */
    List<Digest> digestsStartingWith(RepositoryName repository, String beginning, int limit);

    /** Every index → child edge of the repository. */
    List<ChildEdge> childEdges(RepositoryName repository);

    /**
     * Manifests of the repository that {@code manifest} keeps: the children it lists (an index) and the
     * referrers naming it as their subject. A dry run asks which of them its deletion leaves unreachable.
     */
    List<Digest> dependents(RepositoryName repository, Digest manifest);

    /** The blobs (config, layers) a manifest references. */
    List<Digest> blobsOf(RepositoryName repository, Digest manifest);

    /** The changes, inside a {@link MetadataTransaction}. */
    interface Writes extends ManifestRecords {

        /** Stores a manifest with its references, replacing an earlier push of the same digest. */
        void put(ManifestRecord manifest, ManifestReferences references);

        /** Removes a manifest, its references and every tag pointing at it (recorded in tag history). */
        boolean delete(RepositoryName repository, Digest digest, ChangeOrigin origin);

        void recordPull(RepositoryName repository, Digest digest, long at);
    }
}
