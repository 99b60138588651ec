package io.berth.core.registry;

import io.berth.core.error.ErrorCode;
import io.berth.core.error.RegistryException;
import io.berth.core.metadata.MetadataStore;
import io.berth.core.metadata.ReferrerRecord;
import io.berth.core.model.Digest;
import io.berth.core.model.RepositoryName;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;

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
        if (!metadata.repositories().exists(repository)) {
            throw RegistryException.of(
                    ErrorCode.NAME_UNKNOWN, "repository " + repository + " is not known", "name", repository.value());
        }
        int limit = limit(n);
        if (limit == 0) {
            return new Page(List.of(), false);
        }
        List<String> rows = metadata.tags().names(repository, last, limit + 1);
        return page(rows, limit);
    }

    /** Repository names sorted lexically. */
    public Page catalog(Integer n, String last) {
        return catalog(n, last, name -> true);
    }

    /**
     * Repository names are read in batches of at least this many: a caller who may pull few of many
     * repositories costs a few queries per page, not one per entry it is shown.
     */
    static final int CATALOG_BATCH = 1000;

    /**
     * As {@link #catalog(Integer, String)}, listing only the repositories {@code visible} accepts (the
     * caller may pull). A request passes over at most {@code listing.max-catalog-skip} names the
     * caller may not see: when it has, the page holds what was found (fewer than {@code n}, maybe
     * none) and continues after the last name examined. So a request costs at most {@code n} plus
     * that many names, read in a few large batches, whoever asks, and a caller who sees little of a
     * large registry pages through it a bounded piece at a time.
     */
    public Page catalog(Integer n, String last, Predicate<String> visible) {
        int limit = limit(n);
        if (limit == 0) {
            return new Page(List.of(), false);
        }
        int skipLimit = options.maxCatalogSkip();
        List<String> out = new ArrayList<>();
        String after = last;
        int skipped = 0;
        while (true) {
            // never read more than could be examined before the page fills or the skip budget runs out
            int wanted = limit + 1 - out.size();
            int batch = Math.min(Math.max(CATALOG_BATCH, wanted), wanted + skipLimit - skipped);
            List<String> names = metadata.repositories().names(after, batch);
            for (String name : names) {
                after = name;
                if (visible.test(name)) {
                    out.add(name);
                    if (out.size() > limit) {
                        return page(out, limit);
                    }
                } else if (++skipped >= skipLimit) {
                    // the skip budget: what was found, and the next page continues after this name
                    return new Page(out, true, after);
                }
            }
            if (names.size() < batch) {
                return page(out, limit);
            }
        }
    }

    /** One page of the referrers of {@code subject} (sorted by digest), and whether more follow. */
    public record ReferrerPage(List<ReferrerRecord> referrers, boolean more) {
        public ReferrerPage {
            referrers = List.copyOf(referrers);
        }

        public String last() {
            return referrers.isEmpty()
                    ? null
                    : referrers.get(referrers.size() - 1).digest().toString();
        }
    }

    /**
     * Manifests whose subject is {@code subject}, optionally of one artifact type, a page at a time:
     * at most {@code n} (bounded by the page limit), after digest {@code last}.
     */
    public ReferrerPage referrers(
            RepositoryName repository, Digest subject, String artifactType, Integer n, String last) {
        int limit = limit(n);
        if (limit == 0) {
            return new ReferrerPage(List.of(), false);
        }
        List<ReferrerRecord> rows = metadata.manifests().referrers(repository, subject, artifactType, last, limit + 1);
        boolean more = rows.size() > limit;
        return new ReferrerPage(more ? rows.subList(0, limit) : rows, more);
    }

    int limit(Integer n) {
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
