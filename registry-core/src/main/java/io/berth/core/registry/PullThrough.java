package io.berth.core.registry;

import io.berth.core.error.ErrorCode;
import io.berth.core.error.RegistryException;
import io.berth.core.manifest.ManifestParser;
import io.berth.core.metadata.CachedReferrers;
import io.berth.core.metadata.CachedRepository;
import io.berth.core.metadata.ManifestRecord;
import io.berth.core.metadata.MetadataStore;
import io.berth.core.model.Caller;
import io.berth.core.model.Digest;
import io.berth.core.model.MediaTypes;
import io.berth.core.model.Reference;
import io.berth.core.model.RepositoryName;
import io.berth.core.model.Tag;
import io.berth.core.proxy.CachePolicy;
import io.berth.core.proxy.ProxyRoute;
import io.berth.core.proxy.ProxySettings;
import io.berth.core.proxy.Upstream;
import io.berth.core.proxy.UpstreamBlob;
import io.berth.core.proxy.UpstreamException;
import io.berth.core.proxy.UpstreamManifest;
import io.berth.core.proxy.UpstreamReferrers;
import io.berth.core.proxy.UpstreamTagPage;
import java.io.IOException;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.time.Clock;
import java.time.Duration;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The rules of pull-through caches (docs/proxy.md): reads of a proxied repository come here from the
 * protocol layers; the cache writes what it fetches through package-private engine paths, and every
 * client write to it is refused ({@link ProxyGuard#requireLocal}).
 *
 * <ul>
 *   <li>A cached tag is served without asking the upstream while it is fresh ({@code manifestTtl} since
 *       its last validation); then one HEAD revalidates it: the same digest transfers nothing, another
 *       is fetched by digest and the tag moved; a 404 removes the cached tag.
 *   <li>A manifest by digest never changes: once held it is never asked for again.
 *   <li>Manifests are stored sparse: layers, configs and an index's children are fetched when asked.
 *   <li>A blob is fetched once, hashed while it is staged, and placed only when it matches its digest.
 *   <li>One upstream request per manifest and per blob however many clients ask at once (single flight).
 *   <li>An upstream that cannot answer (anything but {@code INVALID}): a cached tag is served stale for up
 *       to {@code staleFor} after its last validation; uncached content is 503 {@code UNAVAILABLE}, or 429
 *       {@code TOOMANYREQUESTS} with the upstream's {@code Retry-After} when it throttles; credentials refused
 *       or invalid content is 502.
 * </ul>
 */
public final class PullThrough {
    private static final Logger LOG = System.getLogger(PullThrough.class.getName());

    private record FlightKey(RepositoryName repository, String reference) {}

    private final ProxyGuard guard;
    private final MetadataStore metadata;
    private final Manifests manifests;
    private final Uploads uploads;
    private final Listings listings;
    private final RegistryOptions options;
    private final Clock clock;
    private final SingleFlight<FlightKey, CachedManifest> manifestFlights = new SingleFlight<>();
    private final SingleFlight<FlightKey, BlobSource> blobFlights = new SingleFlight<>();
    /** Blobs being fetched now: clients that ask while one fills read it instead of fetching again. */
    private final Map<FlightKey, BlobFill> fills = new ConcurrentHashMap<>();

    private final SingleFlight<FlightKey, Optional<CachedReferrersIndex>> referrerFlights = new SingleFlight<>();
    private final ProxyStats stats = new ProxyStats();
    /** When each stale tag was last logged: one warning per tag per manifest-ttl, not one per pull. */
    private final Map<FlightKey, Long> staleWarned = new ConcurrentHashMap<>();

    PullThrough(
            ProxyGuard guard,
            MetadataStore metadata,
            Manifests manifests,
            Uploads uploads,
            Listings listings,
            RegistryOptions options,
            Clock clock) {
        this.guard = guard;
        this.metadata = metadata;
        this.manifests = manifests;
        this.uploads = uploads;
        this.listings = listings;
        this.options = options;
        this.clock = clock;
    }

    /**
     * Whether the repository is a pull-through cache: the configuration routes it to an upstream, or it
     * was cached from one no longer configured (then it serves what it holds, read-only).
     */
    public boolean proxied(RepositoryName repository) {
        return guard.proxied(repository);
    }

    /**
     * Local repositories (content no cache wrote) whose names a configured route covers, at most
     * {@code limit}: a repository is proxied or local, never both, so start-up refuses them.
     */
    public List<RepositoryName> localContentUnderRoutes(int limit) {
        return guard.localContentUnderRoutes(limit);
    }

    /** Counters since start. */
    public ProxyStats stats() {
        return stats;
    }

    /**
     * A manifest of a proxied repository by tag or digest, fetched and stored when needed.
     *
     * @param pull whether this is a pull (GET, recorded as one) or a HEAD
     * @throws RegistryException {@code MANIFEST_UNKNOWN} when neither the cache nor the upstream has it;
     *     {@code UPSTREAM_UNAVAILABLE} (503), {@code TOOMANYREQUESTS} (429) or {@code UPSTREAM_FAILED} (502)
     *     when the upstream cannot answer and nothing may be served instead
     */
    public CachedManifest manifest(Caller caller, RepositoryName repository, Reference reference, boolean pull) {
        Optional<ProxyRoute> route = guard.route(repository);
        route.ifPresent(r -> guard.requireNoLocalContent(repository, r));
        CachedManifest answer = switch (reference) {
            case Digest d -> byDigest(caller, repository, route, d);
            case Tag t -> byTag(caller, repository, route, t);
        };
        statsOf(route).count(answer.outcome());
        if (pull) {
            manifests.recordPull(caller, repository, answer.record().digest());
        }
        return answer;
    }

    private CachedManifest byDigest(Caller caller, RepositoryName repository, Optional<ProxyRoute> route, Digest d) {
        Optional<ManifestRecord> held = metadata.manifests().get(repository, d);
        if (held.isPresent()) {
            return new CachedManifest(held.get(), CacheOutcome.HIT);
        }
        if (route.isEmpty()) {
            throw manifestUnknown(repository, d);
        }
        return manifestFlights.run(new FlightKey(repository, d.toString()), () -> {
            Optional<ManifestRecord> now = metadata.manifests().get(repository, d);
            if (now.isPresent()) {
                return new CachedManifest(now.get(), CacheOutcome.HIT); // a flight just stored it
            }
            ProxyRoute r = route.get();
            try {
                UpstreamManifest m = fetch(r, d).orElseThrow(() -> manifestUnknown(repository, d));
                ManifestRecord stored = manifests.putCached(
                        Caller.proxy(caller, r.upstream().name()), repository, r, Optional.empty(), m, clock.millis());
                return new CachedManifest(stored, CacheOutcome.MISS);
            } catch (UpstreamException e) {
                throw failure(e, repository, d.toString(), false);
            }
        });
    }

    private CachedManifest byTag(Caller caller, RepositoryName repository, Optional<ProxyRoute> route, Tag tag) {
        Optional<ManifestRecord> cached = cachedTag(repository, tag);
        if (cached.isPresent() && (route.isEmpty() || fresh(repository, tag, route.get(), clock.millis()))) {
            // an upstream no longer configured cannot revalidate: what is held is served as it is
            return new CachedManifest(cached.get(), CacheOutcome.HIT);
        }
        if (route.isEmpty()) {
            throw manifestUnknown(repository, tag);
        }
        return manifestFlights.run(
                new FlightKey(repository, tag.value()), () -> refresh(caller, repository, route.get(), tag));
    }

    private Optional<ManifestRecord> cachedTag(RepositoryName repository, Tag tag) {
        return metadata.tags()
                .target(repository, tag.value())
                .flatMap(d -> metadata.manifests().get(repository, d));
    }

    private boolean fresh(RepositoryName repository, Tag tag, ProxyRoute route, long now) {
        OptionalLong validated = metadata.proxy().validatedAt(repository, tag.value());
        return validated.isPresent()
                && now - validated.getAsLong()
                        < route.upstream().policy().manifestTtl().toMillis();
    }

    /** Inside the tag's flight: revalidates a cached tag that is due, or fetches an uncached one. */
    private CachedManifest refresh(Caller caller, RepositoryName repository, ProxyRoute route, Tag tag) {
        long now = clock.millis();
        Optional<ManifestRecord> cached = cachedTag(repository, tag);
        if (cached.isPresent() && fresh(repository, tag, route, now)) {
            return new CachedManifest(cached.get(), CacheOutcome.HIT); // a flight just validated it
        }
        Upstream upstream = route.upstream();
        Caller proxy = Caller.proxy(caller, upstream.name());
        try {
            if (cached.isEmpty()) {
                UpstreamManifest m = verified(
                                upstream,
                                upstream.manifest(route.remote(), tag, options.maxManifestBytes()),
                                Optional.empty())
                        .orElseThrow(() -> manifestUnknown(repository, tag));
                return new CachedManifest(
                        manifests.putCached(proxy, repository, route, Optional.of(tag), m, now), CacheOutcome.MISS);
            }
            Digest held = cached.get().digest();
            Optional<Digest> current = upstream.manifestDigest(route.remote(), tag);
            if (current.isEmpty()) {
                manifests.forgetCachedTag(proxy, repository, tag.value(), held);
                throw gone(repository, tag, upstream);
            }
            if (current.get().equals(held)) {
                manifests.revalidated(repository, tag.value(), now);
                return new CachedManifest(cached.get(), CacheOutcome.REVALIDATED);
            }
            Optional<ManifestRecord> target = metadata.manifests().get(repository, current.get());
            Optional<UpstreamManifest> m = target.isPresent()
                    ? target.map(t -> new UpstreamManifest(t.payload(), t.mediaType(), t.digest()))
                    : fetch(route, current.get());
            if (m.isEmpty()) {
                // moved to a manifest the upstream does not have (deleted between the HEAD and the GET)
                manifests.forgetCachedTag(proxy, repository, tag.value(), held);
                throw gone(repository, tag, upstream);
            }
            return new CachedManifest(
                    manifests.putCached(proxy, repository, route, Optional.of(tag), m.get(), now),
                    CacheOutcome.REFRESHED);
        } catch (UpstreamException e) {
            stats.of(upstream.name()).upstreamFailed();
            if (cached.isPresent() && e.servesStale() && withinStaleFor(repository, tag, upstream.policy(), now)) {
                warnStale(repository, tag, upstream, e, now);
                return new CachedManifest(cached.get(), CacheOutcome.STALE);
            }
            throw failure(e, repository, tag.value(), cached.isPresent());
        }
    }

    private boolean withinStaleFor(RepositoryName repository, Tag tag, CachePolicy policy, long now) {
        OptionalLong validated = metadata.proxy().validatedAt(repository, tag.value());
        return validated.isPresent()
                && now - validated.getAsLong() < policy.staleFor().toMillis();
    }

    private void warnStale(RepositoryName repository, Tag tag, Upstream upstream, UpstreamException e, long now) {
        FlightKey key = new FlightKey(repository, tag.value());
        long every = Math.max(
                upstream.policy().manifestTtl().toMillis(),
                Duration.ofMinutes(1).toMillis());
        Long last = staleWarned.get(key);
        if (last == null || now - last >= every) {
            staleWarned.put(key, now);
            LOG.log(
                    Level.WARNING,
                    "serving cached " + repository + ":" + tag.value() + " stale: upstream " + upstream.name()
                            + " failed (" + e.kind() + "): " + e.getMessage());
        }
    }

    /** The manifest by digest from the upstream, checked to be exactly those bytes. */
    private Optional<UpstreamManifest> fetch(ProxyRoute route, Digest digest) throws UpstreamException {
        Upstream upstream = route.upstream();
        return verified(
                upstream, upstream.manifest(route.remote(), digest, options.maxManifestBytes()), Optional.of(digest));
    }

    /** The engine checks the bytes itself: an upstream implementation's check is not the cache's guarantee. */
    private static Optional<UpstreamManifest> verified(
            Upstream upstream, Optional<UpstreamManifest> manifest, Optional<Digest> asked) throws UpstreamException {
        if (manifest.isEmpty()) {
            return manifest;
        }
        UpstreamManifest m = manifest.get();
        Digest actual = Digest.compute(m.digest().algorithm(), m.bytes());
        if (!actual.equals(m.digest()) || asked.isPresent() && !asked.get().equals(actual)) {
            throw new UpstreamException(
                    UpstreamException.Kind.INVALID,
                    "upstream " + upstream.name() + " sent a manifest whose bytes hash to " + actual + ", not "
                            + asked.orElse(m.digest()));
        }
        return manifest;
    }

    /**
     * A blob of a proxied repository, stored (fetched from the upstream and verified first when it is
     * not cached; this waits for the whole fill). A blob is either held or not, so there is no stale
     * serving for blobs.
     */
    public CachedBlob blob(Caller caller, RepositoryName repository, Digest digest) {
        BlobSource source = pull(caller, repository, digest);
        return switch (source) {
            case BlobSource.Stored s -> new CachedBlob(s.blob(), s.outcome());
            case BlobSource.Filling f -> new CachedBlob(f.fill().awaitStored(), CacheOutcome.MISS);
        };
    }

    /**
     * A blob of a proxied repository for a GET: stored, or a fill of it from the upstream that the
     * caller streams while it arrives ({@link BlobFill}). One upstream request per blob: clients asking
     * while it fills read the same fill. An upstream that announced no length is stored whole first.
     */
    public BlobSource pull(Caller caller, RepositoryName repository, Digest digest) {
        OptionalLong linked = metadata.blobs().linkedSize(repository, digest);
        FlightKey key = new FlightKey(repository, digest.toString());
        BlobSource answer;
        if (linked.isPresent()) {
            answer = new BlobSource.Stored(new BlobInfo(digest, linked.getAsLong()), CacheOutcome.HIT);
            statsOf(repository).saved(linked.getAsLong());
        } else {
            BlobFill filling = fills.get(key);
            answer = filling != null
                    ? new BlobSource.Filling(filling)
                    : blobFlights.run(key, () -> storedBlob(caller, repository, digest, true));
        }
        statsOf(repository).count(answer.outcome());
        return answer;
    }

    /**
     * A blob's size as a proxied repository serves it: the cached blob, else the upstream's answer to a
     * HEAD (nothing is fetched or stored for a HEAD).
     */
    public CachedBlob blobHead(Caller caller, RepositoryName repository, Digest digest) {
        BlobSource source = storedBlob(caller, repository, digest, false);
        CachedBlob answer = new CachedBlob(source.blob(), source.outcome());
        statsOf(repository).count(answer.outcome());
        return answer;
    }

    private BlobSource storedBlob(Caller caller, RepositoryName repository, Digest digest, boolean fetch) {
        OptionalLong linked = metadata.blobs().linkedSize(repository, digest);
        if (linked.isPresent()) {
            return new BlobSource.Stored(new BlobInfo(digest, linked.getAsLong()), CacheOutcome.HIT);
        }
        FlightKey key = new FlightKey(repository, digest.toString());
        BlobFill filling = fills.get(key);
        if (filling != null) {
            return fetch
                    ? new BlobSource.Filling(filling)
                    : new BlobSource.Stored(filling.blob(), CacheOutcome.MISS); // the upstream's length
        }
        Optional<ProxyRoute> route = guard.route(repository);
        if (route.isEmpty()) {
            throw blobUnknown(repository, digest);
        }
        // a fill records the repository as a cache: then revalidation, eviction and purge took its pushed content
        guard.requireNoLocalContent(repository, route.get());
        Upstream upstream = route.get().upstream();
        try {
            if (!fetch) {
                // a HEAD stores and links nothing, even of a blob held for another repository: the
                // upstream's HEAD answers
                OptionalLong size = upstream.blobSize(route.get().remote(), digest);
                if (size.isEmpty()) {
                    throw blobUnknown(repository, digest);
                }
                return new BlobSource.Stored(new BlobInfo(digest, size.getAsLong()), CacheOutcome.MISS);
            }
            OptionalLong stored = metadata.blobs().size(digest);
            if (stored.isPresent()) {
                // Held for another repository. A cached manifest is the upstream's word and may name any
                // digest (a sparse or hostile upstream), so the blob is linked only when the upstream
                // confirms it holds it, at the same size: a HEAD, no transfer. Linked on the manifest's
                // word alone, a local repository's private blob was handed to anyone knowing its digest.
                OptionalLong there = upstream.blobSize(route.get().remote(), digest);
                if (there.isEmpty()) {
                    throw blobUnknown(repository, digest);
                }
                if (there.getAsLong() == stored.getAsLong()) {
                    Optional<BlobInfo> shared = uploads.linkCached(repository, digest);
                    if (shared.isPresent()) {
                        return new BlobSource.Stored(shared.get(), CacheOutcome.HIT);
                    }
                }
            }
            Optional<UpstreamBlob> body = upstream.blob(route.get().remote(), digest);
            if (body.isEmpty()) {
                throw blobUnknown(repository, digest);
            }
            Caller proxy = Caller.proxy(caller, upstream.name());
            if (body.get().length().isPresent()) {
                return new BlobSource.Filling(startFill(proxy, key, route.get(), digest, body.get()));
            }
            // no length announced: nothing can be promised to a client before the blob is stored
            try (UpstreamBlob b = body.get()) {
                return new BlobSource.Stored(store(proxy, repository, route.get(), digest, b, null), CacheOutcome.MISS);
            }
        } catch (UpstreamException e) {
            stats.of(upstream.name()).upstreamFailed();
            throw failure(e, repository, digest.toString(), false);
        } catch (IOException e) { // closing the upstream's body
            throw failure(bodyFailed(upstream, digest, e), repository, digest.toString(), false);
        }
    }

    /**
     * Starts storing the upstream's body on a thread of its own, so the fill goes on when its first
     * client leaves, and registers it for the clients that ask while it runs.
     */
    private BlobFill startFill(Caller proxy, FlightKey key, ProxyRoute route, Digest digest, UpstreamBlob body) {
        BlobFill fill = new BlobFill(
                digest, body.length().getAsLong(), (offset, length) -> uploads.openStored(digest, offset, length));
        fills.put(key, fill);
        Thread.ofVirtual().name("blob-fill " + digest).start(() -> {
            // unregistered before its readers hear the end: a request after a failure fetches again
            try (UpstreamBlob b = body) {
                store(proxy, key.repository(), route, digest, b, fill);
                fills.remove(key, fill);
                fill.committed();
            } catch (RegistryException e) {
                fills.remove(key, fill);
                fill.failed(e);
            } catch (IOException e) {
                fills.remove(key, fill);
                fill.failed(
                        failure(bodyFailed(route.upstream(), digest, e), key.repository(), digest.toString(), false));
            } catch (RuntimeException | Error e) {
                fills.remove(key, fill);
                fill.failed(new RegistryException(
                        ErrorCode.INTERNAL, "blob " + digest + " could not be stored: " + e, Map.of(), e));
                throw e;
            }
        });
        return fill;
    }

    /** Stores the upstream's body; a mismatch is counted and logged, an upstream failure mapped. */
    private BlobInfo store(
            Caller proxy, RepositoryName repository, ProxyRoute route, Digest digest, UpstreamBlob b, BlobFill readers)
            throws IOException {
        try {
            BlobInfo stored = uploads.fill(proxy, repository, route, digest, b, readers);
            stats.of(route.upstream().name()).fetched(stored.size());
            return stored;
        } catch (RegistryException e) {
            if (e.code() == ErrorCode.UPSTREAM_FAILED) {
                stats.of(route.upstream().name()).blobRejected();
                LOG.log(Level.WARNING, e.getMessage());
            }
            throw e;
        } catch (Uploads.UpstreamBodyException e) {
            stats.of(route.upstream().name()).upstreamFailed();
            throw failure(bodyFailed(route.upstream(), digest, e), repository, digest.toString(), false);
        }
    }

    private static UpstreamException bodyFailed(Upstream upstream, Digest digest, IOException e) {
        return new UpstreamException(
                UpstreamException.Kind.UNREACHABLE,
                "upstream " + upstream.name() + " stopped sending blob " + digest + ": " + e.getMessage(),
                Optional.empty(),
                e);
    }

    /**
     * A page of a proxied repository's tags: the upstream's list passed through; while the upstream
     * cannot answer, the cached tags ({@code STALE}).
     */
    public CachedTags tags(Caller caller, RepositoryName repository, Integer n, String last) {
        Optional<ProxyRoute> route = guard.route(repository);
        if (route.isEmpty()) {
            return new CachedTags(listings.tags(repository, n, last), CacheOutcome.HIT);
        }
        guard.requireNoLocalContent(repository, route.get());
        int limit = listings.limit(n);
        if (limit == 0) {
            return new CachedTags(new Page(List.of(), false), CacheOutcome.MISS);
        }
        try {
            Optional<UpstreamTagPage> answer =
                    route.get().upstream().tags(route.get().remote(), Optional.ofNullable(last), limit);
            if (answer.isEmpty()) {
                // the upstream has no such repository: as a local one it is unknown, not an empty list
                throw RegistryException.of(
                        ErrorCode.NAME_UNKNOWN,
                        "repository " + repository + " is not known to upstream "
                                + route.get().upstream().name(),
                        "name",
                        repository.value());
            }
            UpstreamTagPage page = answer.get();
            List<String> names = page.tags().stream().map(Tag::value).toList();
            return new CachedTags(new Page(names, page.next().isPresent()), CacheOutcome.MISS);
        } catch (UpstreamException e) {
            statsOf(route).upstreamFailed();
            if (e.servesStale() && metadata.repositories().exists(repository)) {
                statsOf(route).count(CacheOutcome.STALE);
                return new CachedTags(listings.tags(repository, n, last), CacheOutcome.STALE);
            }
            throw failure(e, repository, "tags", false);
        }
    }

    /** The counters of the upstream a repository is cached from ({@link ProxyStats#REMOVED} when none is configured). */
    private ProxyStats.Counters statsOf(Optional<ProxyRoute> route) {
        return stats.of(route.map(r -> r.upstream().name()).orElse(ProxyStats.REMOVED));
    }

    private ProxyStats.Counters statsOf(RepositoryName repository) {
        return statsOf(guard.route(repository));
    }

    /** How cached content is evicted ({@code proxy.evict-after}, {@code proxy.max-size}, {@code proxy.evict-interval}). */
    public ProxySettings settings() {
        return guard.upstreams().settings();
    }

    /** The configured upstreams, in configuration order (admin API). */
    public List<Upstream> upstreams() {
        return guard.upstreams().all();
    }

    /** How many repositories are cached from each upstream, by its name (reads every cache row). */
    public Map<String, Long> cachedRepositories() {
        Map<String, Long> counts = new HashMap<>();
        String after = "";
        while (true) {
            List<CachedRepository> page = metadata.proxy().repositories(after, 500);
            for (CachedRepository c : page) {
                counts.merge(c.upstream(), 1L, Long::sum);
                after = c.repository().value();
            }
            if (page.size() < 500) {
                return counts;
            }
        }
    }

    /**
     * Removes a cached tag (then its manifest, unless something else keeps it) or, without a tag, the
     * whole cached repository; the next pull fetches it again. Records only: the blobs unlinked are in
     * the result, for the online garbage collector to delete their files.
     *
     * @throws RegistryException {@code FAILED_PRECONDITION} for a local repository (purge removes cached
     *     content only), {@code NOT_FOUND} when nothing is cached under that name or tag
     */
    public PurgeResult purge(Caller caller, RepositoryName repository, Optional<Tag> tag) {
        boolean exists = metadata.repositories().exists(repository);
        // under a route but without a cache row: content a client pushed, never the cache's to remove. The
        // row itself: another instance on the database may have written it a moment ago
        boolean local = metadata.proxy().repository(repository).isEmpty()
                && (guard.route(repository).isEmpty() || exists);
        if (local) {
            if (exists) {
                throw RegistryException.of(
                        ErrorCode.FAILED_PRECONDITION,
                        "repository " + repository + " is local, not a pull-through cache: purge removes cached"
                                + " content only",
                        "name",
                        repository.value());
            }
            throw RegistryException.of(
                    ErrorCode.NOT_FOUND, "repository " + repository + " is unknown", "name", repository.value());
        }
        if (!exists) {
            throw RegistryException.of(
                    ErrorCode.NOT_FOUND,
                    "nothing of repository " + repository + " is cached",
                    "name",
                    repository.value());
        }
        Caller purging = new Caller(
                caller.address(),
                caller.requestId(),
                caller.host(),
                "purge",
                caller.userAgent(),
                caller.actor(),
                Caller.PROXY);
        CacheRemoval removal = new CacheRemoval(metadata, manifests.events());
        PurgeResult result = tag.isPresent()
                ? removal.tag(purging, repository, tag.get().value())
                : removal.repository(purging, repository);
        LOG.log(
                Level.INFO,
                "purged " + repository + tag.map(t -> ":" + t.value()).orElse("") + ": " + result.tagsRemoved()
                        + " tags, " + result.manifestsRemoved() + " manifests, "
                        + result.unlinked().size()
                        + " blobs unlinked");
        return result;
    }

    /**
     * Evicts a cached root manifest (one no index of the repository lists and no referrer of a held
     * manifest) with its tags and what only it kept; {@code reason} ({@code age}, {@code budget}) names
     * the operation in events. Records only, as {@link #purge}.
     */
    public PurgeResult evict(RepositoryName repository, Digest root, String reason) {
        if (metadata.proxy().repository(repository).isEmpty()) {
            return PurgeResult.NOTHING; // not (or no longer) a cache: never evicted
        }
        return new CacheRemoval(metadata, manifests.events())
                .root(Caller.job(Caller.PROXY, "evict " + reason), repository, root);
    }

    /**
     * Unlinks a blob a cached repository links but no manifest there references, last used at
     * {@code lastUsed} (its link or last pull): evicted as an image is ({@link #evict}). Records only.
     */
    public PurgeResult evictBlob(RepositoryName repository, Digest blob, long lastUsed) {
        if (metadata.proxy().repository(repository).isEmpty()) {
            return PurgeResult.NOTHING; // not (or no longer) a cache: never evicted
        }
        return new CacheRemoval(metadata, manifests.events()).strayBlob(repository, blob, lastUsed);
    }

    /**
     * The referrers of {@code subject} in a proxied repository: the upstream's index with its exact bytes,
     * kept with its fetch time and served under the rules of a cached tag (fresh for {@code manifestTtl},
     * then fetched again; while the upstream cannot answer, the kept answer within {@code staleFor}).
     *
     * @return empty when the upstream has no such repository (404) or is no longer configured and nothing
     *     was kept: the local listing answers (referrer manifests fetched by digest were stored with their
     *     subject)
     * @throws RegistryException as {@link #manifest} when the upstream cannot answer and nothing is kept
     */
    public Optional<CachedReferrersIndex> referrers(
            Caller caller, RepositoryName repository, Digest subject, Optional<String> artifactType) {
        String type = artifactType.orElse("");
        Optional<ProxyRoute> route = guard.route(repository);
        route.ifPresent(r -> guard.requireNoLocalContent(repository, r));
        Optional<CachedReferrers> kept = metadata.proxy().referrers(repository, subject, type);
        if (kept.isPresent() && (route.isEmpty() || freshReferrers(kept.get(), route.get(), clock.millis()))) {
            statsOf(route).count(CacheOutcome.HIT);
            return kept.map(k -> new CachedReferrersIndex(k.index(), k.filtered(), CacheOutcome.HIT));
        }
        if (route.isEmpty()) {
            return Optional.empty();
        }
        Optional<CachedReferrersIndex> answer = referrerFlights.run(
                new FlightKey(repository, "referrers " + subject + " " + type),
                () -> refreshReferrers(repository, route.get(), subject, artifactType));
        answer.ifPresent(a -> statsOf(route).count(a.outcome()));
        return answer;
    }

    private static boolean freshReferrers(CachedReferrers kept, ProxyRoute route, long now) {
        return now - kept.validatedAt()
                < route.upstream().policy().manifestTtl().toMillis();
    }

    private Optional<CachedReferrersIndex> refreshReferrers(
            RepositoryName repository, ProxyRoute route, Digest subject, Optional<String> artifactType) {
        String type = artifactType.orElse("");
        long now = clock.millis();
        Optional<CachedReferrers> kept = metadata.proxy().referrers(repository, subject, type);
        if (kept.isPresent() && freshReferrers(kept.get(), route, now)) {
            return kept.map(k -> new CachedReferrersIndex(k.index(), k.filtered(), CacheOutcome.HIT));
        }
        Upstream upstream = route.upstream();
        try {
            Optional<UpstreamReferrers> fetched = upstream.referrers(route.remote(), subject, artifactType);
            if (fetched.isEmpty()) {
                return Optional.empty();
            }
            UpstreamReferrers r = validIndex(upstream, fetched.get());
            // kept only for a subject held here: a registry answers an (empty) index for any digest, and
            // rows for every digest and filter a client makes up would pile up where eviction never looks
            if (metadata.manifests().exists(repository, subject)) {
                metadata.inTransaction(MetadataStore.Durability.DEFERRED, tx -> {
                    tx.proxy()
                            .putReferrers(repository, subject, type, new CachedReferrers(r.index(), r.filtered(), now));
                    return null;
                });
            }
            CacheOutcome outcome = kept.isEmpty()
                    ? CacheOutcome.MISS
                    : Arrays.equals(kept.get().index(), r.index()) ? CacheOutcome.REVALIDATED : CacheOutcome.REFRESHED;
            return Optional.of(new CachedReferrersIndex(r.index(), r.filtered(), outcome));
        } catch (UpstreamException e) {
            stats.of(upstream.name()).upstreamFailed();
            if (kept.isPresent()
                    && e.servesStale()
                    && now - kept.get().validatedAt()
                            < upstream.policy().staleFor().toMillis()) {
                return kept.map(k -> new CachedReferrersIndex(k.index(), k.filtered(), CacheOutcome.STALE));
            }
            throw failure(e, repository, "referrers of " + subject, kept.isPresent());
        }
    }

    /** An index the cache may keep and pass on: bounded as a manifest and parseable as an OCI index. */
    private UpstreamReferrers validIndex(Upstream upstream, UpstreamReferrers r) throws UpstreamException {
        String problem = null;
        if (r.index().length > options.maxManifestBytes()) {
            problem = "is larger than " + options.maxManifestBytes() + " bytes";
        } else {
            try {
                ManifestParser.parse(MediaTypes.OCI_INDEX, r.index());
            } catch (RegistryException e) {
                problem = "is not an image index: " + e.getMessage();
            }
        }
        if (problem != null) {
            throw new UpstreamException(
                    UpstreamException.Kind.INVALID, "upstream " + upstream.name() + "'s referrers answer " + problem);
        }
        return r;
    }

    /** The client's error for an upstream that could not answer and nothing to serve instead. */
    private static RegistryException failure(
            UpstreamException e, RepositoryName repository, String what, boolean tooStale) {
        Map<String, Object> detail = new HashMap<>();
        detail.put("name", repository.value());
        detail.put("reference", what);
        e.retryAfter().ifPresent(d -> detail.put(RegistryException.RETRY_AFTER, Math.max(1, d.toSeconds())));
        String held = tooStale ? "the cached copy was last validated longer ago than stale-for" : "it is not cached";
        return switch (e.kind()) {
            case THROTTLED ->
                new RegistryException(
                        ErrorCode.TOOMANYREQUESTS,
                        "the upstream of " + repository + " is throttling requests and " + held + " (" + what + "): "
                                + e.getMessage(),
                        detail,
                        e);
            case UNREACHABLE, UNAVAILABLE, CIRCUIT_OPEN ->
                new RegistryException(
                        ErrorCode.UPSTREAM_UNAVAILABLE,
                        "the upstream of " + repository + " is unavailable (" + e.kind() + ") and " + held + " (" + what
                                + "): " + e.getMessage(),
                        detail,
                        e);
            case REFUSED, INVALID ->
                new RegistryException(
                        ErrorCode.UPSTREAM_FAILED,
                        "the upstream of " + repository + " failed (" + e.kind() + "): " + e.getMessage(),
                        detail,
                        e);
        };
    }

    private static RegistryException gone(RepositoryName repository, Tag tag, Upstream upstream) {
        return new RegistryException(
                ErrorCode.MANIFEST_UNKNOWN,
                "manifest unknown: upstream " + upstream.name() + " no longer has " + repository + ":" + tag.value()
                        + " (the cached tag was removed)",
                Map.of("tag", tag.value()));
    }

    private static RegistryException manifestUnknown(RepositoryName repository, Reference reference) {
        return new RegistryException(
                ErrorCode.MANIFEST_UNKNOWN,
                "manifest unknown: repository " + repository + " has no manifest " + reference,
                Map.of(reference instanceof Tag ? "tag" : "digest", reference.toString()));
    }

    private static RegistryException blobUnknown(RepositoryName repository, Digest digest) {
        return RegistryException.of(
                ErrorCode.BLOB_UNKNOWN,
                "blob " + digest + " is unknown to repository " + repository,
                "digest",
                digest.toString());
    }
}
