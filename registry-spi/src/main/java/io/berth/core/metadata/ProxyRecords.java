package io.berth.core.metadata;

import io.berth.core.model.Digest;
import io.berth.core.model.RepositoryName;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * What a pull-through cache keeps beside the content itself: which repositories are cached from which
 * upstream, and when the upstream last confirmed each cached tag (the tag itself is a {@link TagRecords}
 * row like any other), and the upstream's referrers answers. Deleting a repository deletes its rows.
 */
public interface ProxyRecords {

    /** The repository's cache row, when it is a pull-through cache. */
    Optional<CachedRepository> repository(RepositoryName repository);

    /** Cached repositories by name after {@code after} (empty: from the start), at most {@code limit}. */
    List<CachedRepository> repositories(String after, int limit);

    /** When the upstream last confirmed where the cached tag points (epoch millis); empty if never. */
    OptionalLong validatedAt(RepositoryName repository, String tag);

    /**
     * The upstream's referrers answer kept for {@code subject} under the filter {@code artifactType}
     * (empty string: no filter).
     */
    Optional<CachedReferrers> referrers(RepositoryName repository, Digest subject, String artifactType);

    /** The changes, inside a {@link MetadataTransaction}. */
    interface Writes extends ProxyRecords {

        /** Records the repository as cached from {@code upstream} (as {@code remote}); kept if it is already. */
        void ensureRepository(RepositoryName repository, String upstream, RepositoryName remote);

        /** The upstream confirmed the tag at {@code at}. */
        void validated(RepositoryName repository, String tag, long at);

        /** The tag is no longer cached; false when it had no row. */
        boolean forgetTag(RepositoryName repository, String tag);

        /** Keeps (or replaces) the upstream's referrers answer for {@code subject} under {@code artifactType}. */
        void putReferrers(RepositoryName repository, Digest subject, String artifactType, CachedReferrers answer);
    }
}
