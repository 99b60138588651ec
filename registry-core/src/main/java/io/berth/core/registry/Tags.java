package io.berth.core.registry;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.berth.core.error.ErrorCode;
import io.berth.core.error.RegistryException;
import io.berth.core.manifest.ManifestParser;
import io.berth.core.manifest.ParsedManifest;
import io.berth.core.metadata.ManifestRecord;
import io.berth.core.metadata.MetadataStore;
import io.berth.core.metadata.TagChange;
import io.berth.core.metadata.TagRecord;
import io.berth.core.model.Caller;
import io.berth.core.model.Descriptor;
import io.berth.core.model.Digest;
import io.berth.core.model.Glob;
import io.berth.core.model.MediaTypes;
import io.berth.core.model.RepositoryName;
import io.berth.core.model.Tag;
import io.berth.core.model.TagRegex;
import java.io.IOException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.function.Predicate;

/**
 * Tags for the admin API: listing with filters and orders, details, setting (retag, promote into
 * another repository), deleting, history and restoring an earlier version. Changes go through
 * {@link Manifests}, the path {@code /v2} uses, so they keep the same rules (immutability, events,
 * history).
 */
public final class Tags {
    private static final ObjectMapper JSON = new ObjectMapper();
    /** Rows read per query while filtering. */
    private static final int BATCH = 500;

    private final MetadataStore metadata;
    private final Manifests manifests;
    private final Uploads uploads;
    private final ProxyGuard proxies;

    Tags(MetadataStore metadata, Manifests manifests, Uploads uploads, ProxyGuard proxies) {
        this.proxies = proxies;
        this.metadata = metadata;
        this.manifests = manifests;
        this.uploads = uploads;
    }

    /** How a listing is ordered. */
    public enum Order {
        NAME,
        PUSHED
    }

    /** How a filter is written. */
    public enum FilterKind {
        GLOB,
        REGEX
    }

    /** A tag with its manifest's details. */
    public record TagInfo(
            RepositoryName repository,
            String name,
            Digest digest,
            String mediaType,
            long size,
            List<String> platforms,
            long pushedAt,
            OptionalLong lastPulledAt) {}

    /** A page of tags; {@code nextPageToken} empty on the last page. */
    public record TagPage(List<TagInfo> tags, String nextPageToken) {}

    /** Tags of a repository, a page at a time, for a caller who cannot go away. */
    public TagPage list(
            RepositoryName repository, String filter, FilterKind kind, Order order, String pageToken, int pageSize) {
        return list(repository, filter, kind, order, pageToken, pageSize, Cancellation.NEVER);
    }

    /**
     * Tags of a repository, a page at a time. A filter matching few tags reads every row of the
     * repository: the scan stops when {@code cancellation} says the caller went away.
     *
     * @param filter     empty for all, else a glob ({@code v1.*}, {@code *-rc*}) or a regular expression
     *                   (RE2 syntax, the whole tag) depending on {@code kind}
     * @param pageToken  from the previous page, or empty
     * @param pageSize   1 to 1000 (0: 100)
     * @throws java.util.concurrent.CancellationException when the caller went away
     */
    public TagPage list(
            RepositoryName repository,
            String filter,
            FilterKind kind,
            Order order,
            String pageToken,
            int pageSize,
            Cancellation cancellation) {
        Predicate<String> matches = matcher(filter, kind);
        requireRepository(repository);
        int limit = pageSize(pageSize);
        List<TagRecord> page = new ArrayList<>();
        Cursor cursor = Cursor.parse(order, pageToken);
        while (page.size() <= limit) {
            cancellation.check();
            List<TagRecord> batch = order == Order.NAME
                    ? metadata.tags().records(repository, cursor.name, BATCH)
                    : metadata.tags().recordsByPushed(repository, cursor.pushedAt, cursor.name, BATCH);
            for (TagRecord r : batch) {
                cancellation.check();
                if (matches.test(r.name()) && page.size() <= limit) {
                    page.add(r);
                }
            }
            if (batch.size() < BATCH) {
                break;
            }
            TagRecord last = batch.get(batch.size() - 1);
            cursor = new Cursor(last.pushedAt(), last.name());
        }
        boolean more = page.size() > limit;
        List<TagRecord> shown = more ? page.subList(0, limit) : page;
        String next = "";
        if (more) {
            TagRecord last = shown.get(shown.size() - 1);
            next = order == Order.NAME ? "n:" + last.name() : "p:" + last.pushedAt() + ":" + last.name();
        }
        List<TagInfo> out = new ArrayList<>(shown.size());
        for (TagRecord r : shown) {
            out.add(info(repository, r, List.of()));
        }
        return new TagPage(out, next);
    }

    private record Cursor(long pushedAt, String name) {
        static Cursor parse(Order order, String token) {
            if (token == null || token.isEmpty()) {
                return new Cursor(Long.MAX_VALUE, null);
            }
            try {
                if (order == Order.NAME && token.startsWith("n:")) {
                    return new Cursor(0, new Tag(token.substring(2)).value());
                }
                if (order == Order.PUSHED && token.startsWith("p:")) {
                    int colon = token.indexOf(':', 2);
                    return new Cursor(
                            Long.parseLong(token.substring(2, colon)), new Tag(token.substring(colon + 1)).value());
                }
            } catch (RuntimeException e) {
                // falls through: not a token of ours
            }
            throw RegistryException.of(
                    ErrorCode.INVALID_ARGUMENT,
                    "page token '" + token + "' is not one this " + "listing (ordered by "
                            + order.name().toLowerCase() + ") returned",
                    "pageToken",
                    token);
        }
    }

    static int pageSize(int requested) {
        if (requested < 0 || requested > 1000) {
            throw RegistryException.of(
                    ErrorCode.INVALID_ARGUMENT,
                    "page size " + requested + " must be from 1 to 1000" + " (0: 100)",
                    "pageSize",
                    requested);
        }
        return requested == 0 ? 100 : requested;
    }

    /**
     * A filter's test. Globs are {@link Glob}'s — {@code *} any run of characters (a tag holds no
     * {@code /}), {@code ?} one — regular expressions {@link TagRegex}'s; both run in linear time.
     */
    static Predicate<String> matcher(String filter, FilterKind kind) {
        if (filter == null || filter.isEmpty()) {
            return t -> true;
        }
        if (kind == FilterKind.REGEX) {
            TagRegex re = TagRegex.argument("filter", filter);
            return re::matches;
        }
        Glob glob;
        try {
            glob = Glob.of(filter);
        } catch (IllegalArgumentException e) {
            throw RegistryException.of(
                    ErrorCode.INVALID_ARGUMENT,
                    "filter " + e.getMessage(),
                    "filter",
                    filter.substring(0, Math.min(80, filter.length())));
        }
        return glob::matches;
    }

    public TagInfo get(RepositoryName repository, String tag) {
        requireRepository(repository);
        TagRecord r =
                metadata.tags().record(repository, new Tag(tag).value()).orElseThrow(() -> unknownTag(repository, tag));
        List<String> platforms = MediaTypes.INDEXES.contains(r.mediaType())
                ? metadata.manifests()
                        .get(repository, r.digest())
                        .map(m -> platforms(m.payload()))
                        .orElse(List.of())
                : List.of();
        return info(repository, r, platforms);
    }

    private static TagInfo info(RepositoryName repository, TagRecord r, List<String> platforms) {
        return new TagInfo(
                repository, r.name(), r.digest(), r.mediaType(), r.size(), platforms, r.pushedAt(), r.lastPulledAt());
    }

    /** {@code os/architecture[/variant]} of each entry of an index that names its platform. */
    static List<String> platforms(byte[] index) {
        List<String> out = new ArrayList<>();
        try {
            for (JsonNode m : JSON.readTree(index).path("manifests")) {
                JsonNode p = m.path("platform");
                if (p.isObject() && p.hasNonNull("os") && p.hasNonNull("architecture")) {
                    out.add(p.get("os").asText() + "/" + p.get("architecture").asText()
                            + (p.hasNonNull("variant") ? "/" + p.get("variant").asText() : ""));
                }
            }
        } catch (IOException e) {
            // stored manifests were valid JSON when pushed; nothing to show otherwise
        }
        return out;
    }

    /**
     * Points {@code tag} at the manifest {@code digest} — creating or moving it — exactly as a push of
     * that manifest by tag would. With {@code from} another repository, the manifest is promoted:
     * its blobs are mounted and it (with the manifests an index lists) is copied first.
     */
    public TagInfo set(
            Caller caller, RepositoryName repository, String tag, Digest digest, Optional<RepositoryName> from) {
        proxies.requireLocal(repository, "tag changes");
        Tag t = new Tag(tag);
        RepositoryName source = from.orElse(repository);
        ManifestRecord m = metadata.manifests()
                .get(source, digest)
                .orElseThrow(() -> RegistryException.of(
                        ErrorCode.NOT_FOUND,
                        "repository " + source + " has no manifest " + digest,
                        "digest",
                        digest.toString()));
        if (!source.equals(repository)) {
            copy(caller, source, repository, m, 0);
        }
        manifests.put(caller, repository, t, List.of(), m.mediaType(), m.payload());
        return get(repository, tag);
    }

    /** Copies a manifest (children first, blobs mounted) from {@code source} into {@code target}. */
    private void copy(Caller caller, RepositoryName source, RepositoryName target, ManifestRecord m, int depth) {
        if (metadata.manifests().exists(target, m.digest())) {
            return;
        }
        ParsedManifest parsed = ManifestParser.parse(m.mediaType(), m.payload());
        for (Descriptor child : parsed.children()) {
            Optional<ManifestRecord> c = metadata.manifests().get(source, child.digest());
            if (c.isPresent() && depth < 8) {
                copy(caller, source, target, c.get(), depth + 1);
            }
        }
        for (Descriptor blob : parsed.blobs()) {
            if (!blob.isExternal() && !metadata.blobs().linked(target, blob.digest())) {
                uploads.mount(caller, target, blob.digest(), Optional.of(source));
            }
        }
        manifests.put(caller, target, m.digest(), List.of(), m.mediaType(), m.payload());
    }

    /** Deletes a tag (the manifest stays), as {@code DELETE /v2/<name>/manifests/<tag>} does. */
    public void delete(Caller caller, RepositoryName repository, String tag) {
        requireRepository(repository);
        manifests.delete(caller, repository, new Tag(tag));
    }

    /** Every version of the tag, oldest first, including deleted ones. */
    public List<TagChange> history(RepositoryName repository, String tag) {
        List<TagChange> h = metadata.tags().history(repository, new Tag(tag).value());
        if (h.isEmpty()) {
            throw unknownTag(repository, tag);
        }
        return h;
    }

    /**
     * Points the tag back at the digest it had in {@code version} (when {@code version} > 0) or at
     * time {@code atMillis}; the manifest must still be in the repository.
     */
    public TagInfo restore(Caller caller, RepositoryName repository, String tag, long version, long atMillis) {
        List<TagChange> h = history(repository, tag);
        Optional<TagChange> chosen;
        String which;
        if (version > 0) {
            chosen = h.stream().filter(c -> c.version() == version).findFirst();
            which = "version " + version;
        } else {
            chosen = h.stream().filter(c -> c.changedAt() <= atMillis).reduce((a, b) -> b);
            which = "the version current at " + Instant.ofEpochMilli(atMillis);
        }
        TagChange c = chosen.orElseThrow(() -> RegistryException.of(
                ErrorCode.NOT_FOUND,
                "tag " + repository + ":" + tag + " has no " + which + " (versions 1 to "
                        + h.get(h.size() - 1).version() + ")",
                "tag",
                tag));
        Digest target = c.digest()
                .orElseThrow(() -> RegistryException.of(
                        ErrorCode.FAILED_PRECONDITION,
                        which + " of tag " + repository + ":" + tag
                                + " is its deletion; choose a version that points at a " + "manifest",
                        "version",
                        c.version()));
        if (!metadata.manifests().exists(repository, target)) {
            throw new RegistryException(
                    ErrorCode.FAILED_PRECONDITION,
                    which + " of tag " + repository + ":" + tag + " pointed at " + target
                            + ", which the repository no longer holds (deleted)",
                    Map.of("digest", target.toString(), "version", c.version()));
        }
        return set(caller, repository, tag, target, Optional.empty());
    }

    private void requireRepository(RepositoryName repository) {
        if (!metadata.repositories().exists(repository)) {
            throw RegistryException.of(
                    ErrorCode.NOT_FOUND, "repository " + repository + " is not known", "name", repository.value());
        }
    }

    private static RegistryException unknownTag(RepositoryName repository, String tag) {
        return RegistryException.of(ErrorCode.NOT_FOUND, "repository " + repository + " has no tag " + tag, "tag", tag);
    }
}
