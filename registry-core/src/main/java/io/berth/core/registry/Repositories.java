package io.berth.core.registry;

import io.berth.core.error.ErrorCode;
import io.berth.core.error.RegistryException;
import io.berth.core.metadata.ManifestSummary;
import io.berth.core.metadata.MetadataStore;
import io.berth.core.metadata.RepositoryStats;
import io.berth.core.model.Caller;
import io.berth.core.model.RepositoryName;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** Repositories for the admin API: listing with details, one repository's details and manifests, deleting one. */
public final class Repositories {
    private final MetadataStore metadata;
    private final EventRecorder events;

    Repositories(MetadataStore metadata, EventRecorder events) {
        this.metadata = metadata;
        this.events = events;
    }

    public record RepositoryInfo(RepositoryName name, RepositoryStats stats) {}

    public record RepositoryPage(List<RepositoryInfo> repositories, String nextPageToken) {}

    /** A manifest with the tags pointing at it and how many referrers (signatures, SBOMs) it has. */
    public record ManifestInfo(ManifestSummary manifest, List<String> tags, long referrers) {}

    public record ManifestPage(List<ManifestInfo> manifests, String nextPageToken) {}

    /** Repositories whose names start with {@code prefix}, sorted by name, a page at a time. */
    public RepositoryPage list(String prefix, String pageToken, int pageSize) {
        int limit = Tags.pageSize(pageSize);
        String after = pageToken == null || pageToken.isEmpty() ? null : token(pageToken);
        List<String> names = metadata.repositories().names(prefix, after, limit + 1);
        boolean more = names.size() > limit;
        List<RepositoryInfo> out = new ArrayList<>();
        for (String n : more ? names.subList(0, limit) : names) {
            RepositoryName r = RepositoryName.of(n);
            out.add(new RepositoryInfo(r, metadata.repositories().stats(r)));
        }
        return new RepositoryPage(out, more ? "r:" + out.get(out.size() - 1).name() : "");
    }

    private static String token(String pageToken) {
        if (!pageToken.startsWith("r:")) {
            throw RegistryException.of(
                    ErrorCode.INVALID_ARGUMENT,
                    "page token '" + pageToken + "' is not one this " + "listing returned",
                    "pageToken",
                    pageToken);
        }
        return pageToken.substring(2);
    }

    public RepositoryInfo get(RepositoryName repository) {
        require(repository);
        return new RepositoryInfo(repository, metadata.repositories().stats(repository));
    }

    /**
     * Deletes the repository and everything in it (its tags' history stays); one
     * {@code repository.deleted} event. Refused while an immutability rule protects one of its tags.
     * The blobs only it held are reclaimed by garbage collection.
     */
    public void delete(Caller caller, RepositoryName repository) {
        metadata.inTransaction(tx -> {
            if (!tx.repositories().exists(repository)) {
                throw unknown(repository);
            }
            Immutability.Checker rules = Immutability.checker(tx);
            for (String tag : tx.tags().names(repository, null, Integer.MAX_VALUE)) {
                rules.protecting(repository, tag).ifPresent(rule -> {
                    throw new RegistryException(
                            ErrorCode.IMMUTABLE,
                            "repository " + repository + " holds tag " + tag + ", protected by " + rule.describe()
                                    + "; delete the rule first",
                            Map.of("tag", tag, "rule", rule.id()));
                });
            }
            tx.repositories().delete(repository, caller.origin());
            events.repositoryDeleted(tx, caller, repository);
            return null;
        });
    }

    /** The repository's manifests sorted by digest, or only the untagged ones. */
    public ManifestPage manifests(RepositoryName repository, boolean untaggedOnly, String pageToken, int pageSize) {
        require(repository);
        int limit = Tags.pageSize(pageSize);
        String after = null;
        if (pageToken != null && !pageToken.isEmpty()) {
            if (!pageToken.startsWith("m:")) {
                throw RegistryException.of(
                        ErrorCode.INVALID_ARGUMENT,
                        "page token '" + pageToken + "' is not one " + "this listing returned",
                        "pageToken",
                        pageToken);
            }
            after = pageToken.substring(2);
        }
        List<ManifestSummary> rows = metadata.manifests().summaries(repository, after, limit + 1, untaggedOnly);
        boolean more = rows.size() > limit;
        List<ManifestInfo> out = new ArrayList<>();
        for (ManifestSummary m : more ? rows.subList(0, limit) : rows) {
            out.add(new ManifestInfo(
                    m,
                    metadata.tags().of(repository, m.digest()),
                    metadata.manifests().referrerCount(repository, m.digest())));
        }
        return new ManifestPage(
                out, more ? "m:" + out.get(out.size() - 1).manifest().digest() : "");
    }

    private void require(RepositoryName repository) {
        if (!metadata.repositories().exists(repository)) {
            throw unknown(repository);
        }
    }

    private static RegistryException unknown(RepositoryName repository) {
        return RegistryException.of(
                ErrorCode.NOT_FOUND, "repository " + repository + " is not known", "name", repository.value());
    }
}
