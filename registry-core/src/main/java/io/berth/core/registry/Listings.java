package io.berth.core.registry;

import io.berth.core.error.ErrorCode;
import io.berth.core.error.RegistryException;
import io.berth.core.metadata.MetadataStore;
import io.berth.core.metadata.ReferrerRecord;
import io.berth.core.model.Digest;
import io.berth.core.model.RepositoryName;
import java.util.List;

/** Tags, catalog and referrers. */
public final class Listings {
    private final MetadataStore metadata;
    private final RegistryOptions options;

    Listings(MetadataStore metadata, RegistryOptions options) {
        this.metadata = metadata;
        this.options = options;
    }

    /**
     * Tags of a repository sorted lexically.
     *
     * @param n    the most to return (null: all, up to the page limit)
     * @param last return tags after this one (null: from the start)
     */
    public Page tags(RepositoryName repository, Integer n, String last) {
        if (!metadata.repositoryExists(repository)) {
            throw RegistryException.of(ErrorCode.NAME_UNKNOWN, "repository " + repository + " is not known",
                    "name", repository.value());
        }
        int limit = limit(n);
        if (limit == 0) {
            return new Page(List.of(), false);
        }
        List<String> rows = metadata.tags(repository, last, limit + 1);
        return page(rows, limit);
    }

    /** Repository names sorted lexically. */
    public Page catalog(Integer n, String last) {
        return catalog(n, last, name -> true);
    }

    /** As {@link #catalog(Integer, String)}, listing only the repositories {@code visible} accepts (the caller may pull). */
    public Page catalog(Integer n, String last, java.util.function.Predicate<String> visible) {
        int limit = limit(n);
        if (limit == 0) {
            return new Page(List.of(), false);
        }
        List<String> out = new java.util.ArrayList<>();
        String after = last;
        while (out.size() <= limit) {
            List<String> batch = metadata.repositories(after, limit + 1);
            for (String name : batch) {
                if (visible.test(name)) {
                    out.add(name);
                    if (out.size() > limit) {
                        break;
                    }
                }
            }
            if (batch.size() < limit + 1) {
                break;
            }
            after = batch.get(batch.size() - 1);
        }
        return page(out, limit);
    }

    /** One page of the referrers of {@code subject} (sorted by digest), and whether more follow. */
    public record ReferrerPage(List<ReferrerRecord> referrers, boolean more) {
        public ReferrerPage {
            referrers = List.copyOf(referrers);
        }

        public String last() {
            return referrers.isEmpty() ? null : referrers.get(referrers.size() - 1).digest().toString();
        }
    }

    /**
     * Manifests whose subject is {@code subject}, optionally of one artifact type, a page at a time:
     * at most {@code n} (bounded by the page limit), after digest {@code last}.
     */
    public ReferrerPage referrers(RepositoryName repository, Digest subject, String artifactType, Integer n,
                                  String last) {
        int limit = limit(n);
        if (limit == 0) {
            return new ReferrerPage(List.of(), false);
        }
        List<ReferrerRecord> rows = metadata.referrers(repository, subject, artifactType, last, limit + 1);
        boolean more = rows.size() > limit;
        return new ReferrerPage(more ? rows.subList(0, limit) : rows, more);
    }

    private int limit(Integer n) {
        if (n == null) {
            return options.maxPageSize();
        }
        if (n < 0) {
            throw RegistryException.of(ErrorCode.PAGINATION_NUMBER_INVALID, "n must not be negative", "n", n);
        }
        return Math.min(n, options.maxPageSize());
    }

    private static Page page(List<String> rows, int limit) {
        boolean more = rows.size() > limit;
        return new Page(more ? rows.subList(0, limit) : rows, more);
    }
}
