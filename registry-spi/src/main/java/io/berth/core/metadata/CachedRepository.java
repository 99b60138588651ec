package io.berth.core.metadata;

import io.berth.core.model.RepositoryName;
import java.util.Objects;

/**
 * A local repository that is a pull-through cache: the upstream it is cached from (by its configured
 * name) and the repository's name there.
 */
public record CachedRepository(RepositoryName repository, String upstream, RepositoryName remote, long createdAt) {
    public CachedRepository {
        Objects.requireNonNull(repository, "repository");
        Objects.requireNonNull(upstream, "upstream");
        Objects.requireNonNull(remote, "remote");
    }
}
