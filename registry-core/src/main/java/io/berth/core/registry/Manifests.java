package io.berth.core.registry;

import io.berth.core.error.ErrorCode;
import io.berth.core.error.RegistryException;
import io.berth.core.manifest.ManifestParser;
import io.berth.core.manifest.ParsedManifest;
import io.berth.core.metadata.ManifestRecord;
import io.berth.core.metadata.ManifestReferences;
import io.berth.core.metadata.MetadataReads;
import io.berth.core.metadata.MetadataStore;
import io.berth.core.metadata.MetadataTransaction;
import io.berth.core.model.Caller;
import io.berth.core.model.Descriptor;
import io.berth.core.model.Digest;
import io.berth.core.model.DigestAlgorithm;
import io.berth.core.model.DigestPrefix;
import io.berth.core.model.Reference;
import io.berth.core.model.RepositoryName;
import io.berth.core.model.Tag;
import io.berth.core.proxy.ProxyRoute;
import io.berth.core.proxy.UpstreamManifest;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/** Pushing, pulling and deleting manifests, and the rules that keep them consistent. */
public final class Manifests {
    private static final Caller INTERNAL = Caller.internal("registry");

    private final MetadataStore metadata;
    private final PullRecorder pulls;
    private final RegistryOptions options;
    private final EventRecorder events;
    private final ManifestBodyLimits bodies;
    private final ProxyGuard proxies;

    Manifests(
            MetadataStore metadata,
            PullRecorder pulls,
            RegistryOptions options,
            EventRecorder events,
            ProxyGuard proxies) {
        this.metadata = metadata;
        this.proxies = proxies;
        this.pulls = pulls;
        this.options = options;
        this.events = events;
        this.bodies =
                new ManifestBodyLimits(options.maxBufferedManifestBytes(), options.maxBufferedManifestBytesPerClient());
    }

    public long maxManifestBytes() {
        return options.maxManifestBytes();
    }

    /** Room for one manifest body in memory; closing it gives the room back. */
    public interface BodyPermit extends AutoCloseable {
        @Override
        void close();
    }

    /**
     * Reserves room for a manifest body of at most {@code bytes} before it is read
     * ({@code manifests.max-buffered}, {@code manifests.max-buffered-per-client}).
     *
     * @throws RegistryException {@code TOOMANYREQUESTS} when there is no room now
     */
    public BodyPermit reserveBody(Caller caller, long bytes) {
        return bodies.reserve(caller, bytes);
    }

    /** Bytes of manifest bodies held in memory now (reserved). */
    public long bufferedBodyBytes() {
        return bodies.inUse();
    }

    /**
     * Stores a manifest under its digest, and under the tag when {@code reference} is one. Every blob
     * it names must be in the repository (non-distributable layers excepted) and every child manifest
     * of an index must exist there; the subject need not. With sparse manifests allowed, layers and
     * child manifests may be absent (the config may not); their references are recorded all the same.
     */
    public PutManifestResult put(RepositoryName repository, Reference reference, String contentType, byte[] payload) {
        return put(INTERNAL, repository, reference, List.of(), contentType, payload);
    }

    public PutManifestResult put(
            RepositoryName repository, Reference reference, List<Tag> extraTags, String contentType, byte[] payload) {
        return put(INTERNAL, repository, reference, extraTags, contentType, payload);
    }

    /**
     * As {@link #put(RepositoryName, Reference, String, byte[])}, also pointing {@code extraTags} at
     * the manifest in the same transaction (the {@code ?tag=} parameters of a push by digest).
     */
    public PutManifestResult put(
            Caller caller,
            RepositoryName repository,
            Reference reference,
            List<Tag> extraTags,
            String contentType,
            byte[] payload) {
        proxies.requireLocal(repository, "pushes");
        if (payload.length > options.maxManifestBytes()) {
            throw tooLarge(payload.length);
        }
        DigestAlgorithm algorithm = reference instanceof Digest d ? d.algorithm() : DigestAlgorithm.SHA256;
        Digest digest = Digest.compute(algorithm, payload);
        if (reference instanceof Digest expected && !expected.equals(digest)) {
            throw RegistryException.of(
                    ErrorCode.DIGEST_INVALID,
                    "manifest digest is " + digest + ", not " + expected,
                    "digest",
                    expected.toString());
        }
        ParsedManifest parsed = ManifestParser.parse(contentType, payload, options.maxManifestReferences());
        Set<Digest> blobs = new LinkedHashSet<>();
        for (Descriptor d : parsed.blobs()) {
            if (!d.isExternal()) {
                blobs.add(d.digest());
            }
        }
        // the config is needed to use an image at all; layers and children may be absent in a sparse manifest
        Optional<Digest> config = parsed.config().filter(d -> !d.isExternal()).map(Descriptor::digest);
        Set<Digest> children = new LinkedHashSet<>();
        parsed.children().forEach(c -> children.add(c.digest()));
        return metadata.inTransaction(tx -> {
            for (Digest blob : blobs) {
                boolean mayBeAbsent = options.allowSparse() && !config.equals(Optional.of(blob));
                if (!mayBeAbsent && !tx.blobs().linked(repository, blob)) {
                    throw RegistryException.of(
                            ErrorCode.MANIFEST_BLOB_UNKNOWN,
                            "blob " + blob + " is not in repository " + repository,
                            "digest",
                            blob.toString());
                }
            }
            for (Digest child : children) {
                if (!options.allowSparse() && !tx.manifests().exists(repository, child)) {
                    throw RegistryException.of(
                            ErrorCode.MANIFEST_BLOB_UNKNOWN,
                            "manifest " + child + " is not in repository " + repository,
                            "digest",
                            child.toString());
                }
            }
            tx.repositories().ensure(repository);
            tx.manifests()
                    .put(
                            new ManifestRecord(
                                    repository,
                                    digest,
                                    parsed.mediaType(),
                                    parsed.artifactType(),
                                    parsed.subject(),
                                    parsed.annotations(),
                                    payload,
                                    tx.now()),
                            new ManifestReferences(blobs, children));
            List<Tag> tags = new ArrayList<>();
            if (reference instanceof Tag tag) {
                tags.add(tag);
            }
            extraTags.stream().filter(t -> !tags.contains(t)).forEach(tags::add);
            List<Digest> referenced = new ArrayList<>(blobs);
            referenced.addAll(children);
            events.manifestPushed(
                    tx,
                    caller,
                    repository,
                    digest,
                    parsed.mediaType(),
                    payload.length,
                    reference instanceof Tag tag ? tag.value() : null,
                    referenced);
            for (Tag tag : tags) {
                Optional<Digest> current = tx.tags().target(repository, tag.value());
                if (current.isPresent() && !current.get().equals(digest)) {
                    Immutability.check(tx, repository, tag.value(), "moved");
                }
                Optional<Digest> previous = tx.tags().set(repository, tag.value(), digest, caller.origin());
                if (!previous.equals(Optional.of(digest))) {
                    events.tagSet(
                            tx,
                            caller,
                            repository,
                            tag.value(),
                            digest,
                            parsed.mediaType(),
                            payload.length,
                            previous.isPresent());
                }
            }
            return new PutManifestResult(digest, parsed.subject(), tags);
        });
    }

    /**
     * Stores a manifest a pull-through cache fetched (bytes already verified against their digest),
     * and points {@code tag} at it with the time the upstream confirmed that; one transaction. Sparse
     * whatever {@code manifests.allow-sparse} says: layers, config and children are fetched when asked,
     * but their references are recorded so garbage collection sees them. No immutability check: a
     * cache follows its upstream. Skips {@link ProxyGuard#requireLocal}: this is the cache's own write.
     *
     * @throws RegistryException {@code UPSTREAM_FAILED} when the upstream's bytes are no manifest Berth accepts
     */
    ManifestRecord putCached(
            Caller proxy,
            RepositoryName repository,
            ProxyRoute route,
            Optional<Tag> tag,
            UpstreamManifest manifest,
            long validatedAt) {
        byte[] payload = manifest.bytes();
        Digest digest = manifest.digest();
        ParsedManifest parsed;
        try {
            if (payload.length > options.maxManifestBytes()) {
                throw tooLarge(payload.length);
            }
            parsed = ManifestParser.parse(manifest.mediaType(), payload, options.maxManifestReferences());
        } catch (RegistryException e) {
            throw new RegistryException(
                    ErrorCode.UPSTREAM_FAILED,
                    "upstream " + route.upstream().name() + " sent manifest " + digest + " that cannot be cached: "
                            + e.getMessage(),
                    Map.of(
                            "digest",
                            digest.toString(),
                            "upstream",
                            route.upstream().name()),
                    e);
        }
        Set<Digest> blobs = new LinkedHashSet<>();
        for (Descriptor d : parsed.blobs()) {
            if (!d.isExternal()) {
                blobs.add(d.digest());
            }
        }
        Set<Digest> children = new LinkedHashSet<>();
        parsed.children().forEach(c -> children.add(c.digest()));
        ManifestRecord stored = metadata.inTransaction(tx -> {
            tx.repositories().ensure(repository);
            tx.proxy().ensureRepository(repository, route.upstream().name(), route.remote());
            if (!tx.manifests().exists(repository, digest)) {
                tx.manifests()
                        .put(
                                new ManifestRecord(
                                        repository,
                                        digest,
                                        parsed.mediaType(),
                                        parsed.artifactType(),
                                        parsed.subject(),
                                        parsed.annotations(),
                                        payload,
                                        tx.now()),
                                new ManifestReferences(blobs, children));
                List<Digest> referenced = new ArrayList<>(blobs);
                referenced.addAll(children);
                events.manifestPushed(
                        tx,
                        proxy,
                        repository,
                        digest,
                        parsed.mediaType(),
                        payload.length,
                        tag.map(Tag::value).orElse(null),
                        referenced);
            }
            if (tag.isPresent()) {
                String t = tag.get().value();
                Optional<Digest> previous = tx.tags().set(repository, t, digest, proxy.origin());
                if (!previous.equals(Optional.of(digest))) {
                    events.tagSet(
                            tx, proxy, repository, t, digest, parsed.mediaType(), payload.length, previous.isPresent());
                }
                tx.proxy().validated(repository, t, validatedAt);
            }
            return tx.manifests().get(repository, digest).orElseThrow();
        });
        proxies.cacheRecorded();
        return stored;
    }

    /**
     * Removes a cached tag the upstream no longer has, while it still points at {@code expected} (the
     * manifest stays until eviction or garbage collection); the cache's own write.
     */
    void forgetCachedTag(Caller proxy, RepositoryName repository, String tag, Digest expected) {
        metadata.inTransaction(tx -> {
            if (tx.tags().target(repository, tag).equals(Optional.of(expected))) {
                tx.tags().delete(repository, tag, proxy.origin());
                events.tagDeleted(tx, proxy, repository, tag, expected);
            }
            tx.proxy().forgetTag(repository, tag);
            return null;
        });
    }

    /** Records that the upstream confirmed a cached tag at {@code at} (deferred: a lost one only revalidates again). */
    void revalidated(RepositoryName repository, String tag, long at) {
        metadata.inTransaction(MetadataStore.Durability.DEFERRED, tx -> {
            tx.proxy().validated(repository, tag, at);
            return null;
        });
    }

    /**
     * The reference of a lookup (GET, HEAD, DELETE): a malformed digest is {@code DIGEST_INVALID}, but
     * a string that is not a valid tag simply names no manifest ({@code MANIFEST_UNKNOWN}, worded as
     * for any tag the repository lacks).
     */
    public static Reference lookupReference(RepositoryName repository, String text) {
        if (Digest.looksLikeDigest(text)) {
            return Digest.parse(text);
        }
        if (!Tag.isValid(text)) {
            throw unknown(repository, abbreviate(text), "tag");
        }
        return new Tag(text);
    }

    private static String abbreviate(String s) {
        return s.length() > 130 ? s.substring(0, 130) + "…" : s;
    }

    /** The manifest by tag or digest; records the pull (as a client's). */
    public ManifestRecord get(RepositoryName repository, Reference reference) {
        return get(INTERNAL, repository, reference);
    }

    /**
     * The manifest by tag or digest for {@code caller}; records the pull as a client's (the pull event's
     * {@code request.host} is the host it addressed), or — when the caller is a replicator
     * ({@code auth.replicators}) — as a replication copy, which is not a last pull.
     */
    public ManifestRecord get(Caller caller, RepositoryName repository, Reference reference) {
        ManifestRecord m = find(metadata, repository, reference);
        if (options.replicationPull(caller)) {
            pulls.replicationPull();
        } else {
            pulls.manifestPulled(repository, m.digest(), caller.host());
        }
        return m;
    }

    /**
     * The digest of the one manifest of the repository a digest or its beginning names: whole digests
     * as given (checked later, where they are used), beginnings looked up. None is {@code NOT_FOUND},
     * several {@code INVALID_ARGUMENT} naming them (give more digits).
     */
    public Digest resolve(RepositoryName repository, DigestPrefix prefix) {
        Optional<Digest> whole = prefix.whole();
        if (whole.isPresent()) {
            return whole.get();
        }
        List<Digest> found = new ArrayList<>();
        for (String beginning : prefix.beginnings()) {
            found.addAll(metadata.manifests().digestsStartingWith(repository, beginning, 5));
        }
        if (found.isEmpty()) {
            throw RegistryException.of(
                    ErrorCode.NOT_FOUND,
                    "repository " + repository + " has no manifest whose digest" + " begins with " + prefix,
                    "digest",
                    prefix.toString());
        }
        if (found.size() > 1) {
            throw RegistryException.of(
                    ErrorCode.INVALID_ARGUMENT,
                    "digest " + prefix + " is ambiguous in repository "
                            + repository + ": it begins "
                            + (found.size() > 4 ? "5 or more" : Integer.toString(found.size()))
                            + " manifests' digests ("
                            + String.join(
                                    ", ",
                                    found.stream()
                                            .limit(4)
                                            .map(Digest::toString)
                                            .toList()) + "); give more of it",
                    "digest",
                    prefix.toString());
        }
        return found.getFirst();
    }

    /** Records a pull of a manifest served by a pull-through cache, as {@link #get(Caller, RepositoryName, Reference)} does. */
    void recordPull(Caller caller, RepositoryName repository, Digest digest) {
        if (options.replicationPull(caller)) {
            pulls.replicationPull();
        } else {
            pulls.manifestPulled(repository, digest, caller.host());
        }
    }

    /** The manifest by tag or digest, without counting as a pull (HEAD). */
    public ManifestRecord head(RepositoryName repository, Reference reference) {
        return find(metadata, repository, reference);
    }

    private static ManifestRecord find(MetadataReads reads, RepositoryName repository, Reference reference) {
        Digest digest = switch (reference) {
            case Digest d -> d;
            case Tag t -> reads.tags().target(repository, t.value()).orElseThrow(() -> unknown(repository, reference));
        };
        return reads.manifests().get(repository, digest).orElseThrow(() -> unknown(repository, reference));
    }

    /**
     * By digest: removes the manifest and the tags on it, unless an index of the repository still
     * lists it ({@code REFERENCED}: the index could no longer be pulled). By tag: removes only the tag.
     */
    public void delete(RepositoryName repository, Reference reference) {
        delete(INTERNAL, repository, reference);
    }

    /** As {@link #delete(RepositoryName, Reference)}, on behalf of {@code caller} (in its events). */
    public void delete(Caller caller, RepositoryName repository, Reference reference) {
        proxies.requireLocal(repository, "deletes");
        boolean removed = metadata.inTransaction(tx -> switch (reference) {
            case Digest d -> {
                Optional<Digest> index = tx.manifests().indexReferencing(repository, d);
                Optional<ManifestRecord> existing = tx.manifests().get(repository, d);
                if (index.isPresent() && existing.isPresent()) {
                    throw new RegistryException(
                            ErrorCode.REFERENCED,
                            "manifest " + d + " is listed by index " + index.get() + " in " + repository
                                    + "; delete the index first",
                            Map.of("digest", d.toString(), "index", index.get().toString()));
                }
                yield existing.isPresent() && deleteManifest(tx, caller, existing.get());
            }
            case Tag t -> deleteTag(tx, caller, repository, t.value());
        });
        if (!removed) {
            throw unknown(repository, reference);
        }
    }

    private boolean deleteManifest(MetadataTransaction tx, Caller caller, ManifestRecord m) {
        for (String tag : tx.tags().of(m.repository(), m.digest())) {
            Immutability.check(tx, m.repository(), tag, "deleted (with manifest " + m.digest() + ")");
            events.tagDeleted(tx, caller, m.repository(), tag, m.digest());
        }
        boolean deleted = tx.manifests().delete(m.repository(), m.digest(), caller.origin());
        if (deleted) {
            events.manifestDeleted(tx, caller, m.repository(), m.digest(), m.mediaType(), m.size());
        }
        return deleted;
    }

    private boolean deleteTag(MetadataTransaction tx, Caller caller, RepositoryName repository, String tag) {
        Optional<Digest> previous = tx.tags().target(repository, tag);
        if (previous.isEmpty()) {
            return false;
        }
        Immutability.check(tx, repository, tag, "deleted");
        tx.tags().delete(repository, tag, caller.origin());
        events.tagDeleted(tx, caller, repository, tag, previous.get());
        return true;
    }

    /** Deletes a tag only while it still points at {@code expected}; false when it moved or is gone. */
    public boolean deleteTagIfAt(Caller caller, RepositoryName repository, String tag, Digest expected) {
        return metadata.inTransaction(tx -> tx.tags().target(repository, tag).equals(Optional.of(expected))
                && deleteTag(tx, caller, repository, tag));
    }

    /** What {@link #deleteIfUnkept} did. */
    public enum Removal {
        DELETED,
        /** Not in the repository (any more). */
        GONE,
        /** Pushed at or after the cutoff. */
        TOO_NEW,
        /** A tag outside the deletable ones points at it. */
        TAGGED,
        /** An index of the repository lists it. */
        LISTED,
        /** It is a referrer of a manifest the repository holds. */
        REFERRER_OF_KEPT
    }

    /**
     * Deletes a manifest only if nothing keeps it, checked in the deleting transaction itself: no tag
     * outside {@code deletableTags} points at it, no index lists it, it is no referrer of a manifest
     * the repository holds, and it was pushed before {@code pushedBefore}. Retention and garbage
     * collection delete through this, so that what changed since they looked is never deleted.
     */
    public Removal deleteIfUnkept(
            Caller caller, RepositoryName repository, Digest digest, Set<String> deletableTags, long pushedBefore) {
        return metadata.inTransaction(tx -> {
            Optional<ManifestRecord> m = tx.manifests().get(repository, digest);
            if (m.isEmpty()) {
                return Removal.GONE;
            }
            if (m.get().pushedAt() >= pushedBefore) {
                return Removal.TOO_NEW;
            }
            if (!deletableTags.containsAll(tx.tags().of(repository, digest))) {
                return Removal.TAGGED;
            }
            if (tx.manifests().indexReferencing(repository, digest).isPresent()) {
                return Removal.LISTED;
            }
            if (m.get().subject().isPresent()
                    && tx.manifests().exists(repository, m.get().subject().get())) {
                return Removal.REFERRER_OF_KEPT;
            }
            deleteManifest(tx, caller, m.get());
            return Removal.DELETED;
        });
    }

    private static RegistryException unknown(RepositoryName repository, Reference reference) {
        return unknown(repository, reference.toString(), reference instanceof Tag ? "tag" : "digest");
    }

    /** One wording whether the reference is a tag or a digest. */
    private static RegistryException unknown(RepositoryName repository, String reference, String kind) {
        return new RegistryException(
                ErrorCode.MANIFEST_UNKNOWN,
                "manifest unknown: repository " + repository + " has no manifest " + reference,
                Map.of(kind, reference));
    }

    private RegistryException tooLarge(long size) {
        return new RegistryException(
                ErrorCode.PAYLOAD_TOO_LARGE,
                "manifest of " + size + " bytes exceeds the limit of " + options.maxManifestBytes(),
                Map.of("size", size, "limit", options.maxManifestBytes()));
    }

    /** Thrown before reading a body whose declared length is already too large. */
    public RegistryException manifestTooLarge(long size) {
        return tooLarge(size);
    }

    /** The recorder this engine's manifest changes go through (removal of cached content uses it too). */
    EventRecorder events() {
        return events;
    }
}
