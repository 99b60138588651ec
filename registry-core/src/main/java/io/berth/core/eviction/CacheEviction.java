package io.berth.core.eviction;

import io.berth.core.gc.GarbageCollector;
import io.berth.core.metadata.CachedRepository;
import io.berth.core.metadata.LinkedBlob;
import io.berth.core.metadata.ManifestSummary;
import io.berth.core.metadata.MetadataStore;
import io.berth.core.model.Caller;
import io.berth.core.model.Digest;
import io.berth.core.model.RepositoryName;
import io.berth.core.model.Tag;
import io.berth.core.proxy.ProxySettings;
import io.berth.core.registry.PurgeResult;
import io.berth.core.registry.Registry;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Eviction of pull-through caches' content (docs/proxy.md, "Eviction"): a cached image not pulled for
 * {@code proxy.evict-after} is evicted; while cached content exceeds {@code proxy.max-size}, the least
 * recently pulled images go first. An image is a root manifest of a cached repository (one no index
 * there lists, no referrer of a manifest held there) with what only it keeps; a blob the repository
 * links that no manifest there references (pulled without its manifest, or filled after its image was
 * evicted) is evicted and counted as an image of its own once it was last used longer ago than
 * {@code proxy.evict-interval}. Its records go first
 * ({@link io.berth.core.registry.PullThrough#evict}); the blobs it unlinked go to the online garbage
 * collector ({@link GarbageCollector#collect}), which deletes a file only when no repository links it and
 * no manifest references it, so a blob a local image uses stays. One instance of several runs it at a
 * time (the lease {@value #LEASE}).
 */
public final class CacheEviction {
    private static final Logger LOG = System.getLogger(CacheEviction.class.getName());
    static final String LEASE = "proxy-eviction";
    private static final int PAGE = 500;

    private final Registry registry;
    private final MetadataStore metadata;
    private final GarbageCollector gc;
    private final Clock clock;

    public CacheEviction(Registry registry, GarbageCollector gc) {
        this.registry = registry;
        this.metadata = registry.metadata();
        this.gc = gc;
        this.clock = registry.clock();
    }

    /** What a run or a purge did; {@code ran} is false when another instance held the lease. */
    public record Outcome(
            boolean ran,
            long tagsRemoved,
            long manifestsRemoved,
            long blobsUnlinked,
            long blobsDeleted,
            long bytesFreed) {
        static final Outcome SKIPPED = new Outcome(false, 0, 0, 0, 0, 0);

        static Outcome of(PurgeResult removed, GarbageCollector.Collected collected) {
            return new Outcome(
                    true,
                    removed.tagsRemoved(),
                    removed.manifestsRemoved(),
                    removed.unlinked().size(),
                    collected.blobsDeleted(),
                    collected.bytesFreed());
        }
    }

    /**
     * What eviction removes as one: a cached image (its root manifest, when it was last used, and the
     * stored blobs it and its children reference), or a stray blob ({@code stray}: linked to the cached
     * repository, referenced by no manifest there; {@code digest} is the blob's, {@code blobs} only it).
     */
    private record Root(
            RepositoryName repository,
            Digest digest,
            long lastUsed,
            long manifestBytes,
            Set<Digest> blobs,
            boolean stray) {}

    /**
     * Purges a cached tag or repository ({@link io.berth.core.registry.PullThrough#purge}) and deletes
     * the files nothing else uses.
     */
    public Outcome purge(Caller caller, RepositoryName repository, Optional<Tag> tag) {
        PurgeResult removed = registry.proxy().purge(caller, repository, tag);
        return Outcome.of(removed, collect("purge of " + repository, removed.unlinked()));
    }

    /** As above, with the tag as text: empty purges the whole repository. */
    public Outcome purge(Caller caller, RepositoryName repository, String tag) {
        return purge(caller, repository, tag.isEmpty() ? Optional.empty() : Optional.of(new Tag(tag)));
    }

    /** One eviction pass under the lease held by {@code owner}; skipped while another owner holds it. */
    public Outcome runOnce(String owner) {
        ProxySettings settings = registry.proxy().settings();
        if (!settings.evicts()) {
            return new Outcome(true, 0, 0, 0, 0, 0);
        }
        long hold = Math.max(
                Duration.ofMinutes(2).toMillis(), 2 * settings.evictInterval().toMillis());
        if (!metadata.<Boolean>inTransaction(tx -> tx.leases().acquire(LEASE, owner, clock.millis() + hold))) {
            return Outcome.SKIPPED;
        }
        try {
            registry.flushPulls(); // pulls still in memory count
            long now = clock.millis();
            // a stray blob linked (or pulled) within the last interval may be a fill whose manifest is
            // being pulled: left for a later run
            List<Root> roots = roots(now - settings.evictInterval().toMillis());
            PurgeResult removed = PurgeResult.NOTHING;
            List<Root> kept = new ArrayList<>();
            if (!settings.evictAfter().isZero()) {
                long before = now - settings.evictAfter().toMillis();
                for (Root r : roots) {
                    if (r.lastUsed() < before) {
                        removed = removed.plus(evict(r, "age"));
                    } else {
                        kept.add(r);
                    }
                }
            } else {
                kept.addAll(roots);
            }
            if (settings.maxSize() > 0) {
                removed = removed.plus(overBudget(kept, settings.maxSize()));
            }
            Outcome outcome = Outcome.of(removed, collect("cache eviction", removed.unlinked()));
            if (outcome.manifestsRemoved() > 0 || outcome.blobsUnlinked() > 0) {
                LOG.log(
                        Level.INFO,
                        "cache eviction: " + outcome.manifestsRemoved() + " manifests, " + outcome.tagsRemoved()
                                + " tags, " + outcome.blobsUnlinked() + " blobs unlinked; " + outcome.blobsDeleted()
                                + " blobs deleted (" + outcome.bytesFreed() + " bytes)");
            }
            return outcome;
        } finally {
            metadata.inTransaction(tx -> tx.leases().acquire(LEASE, owner, 0));
        }
    }

    /** Evicts the least recently used roots until the distinct bytes of the rest fit {@code maxSize}. */
    private PurgeResult overBudget(List<Root> roots, long maxSize) {
        Map<Digest, Integer> users = new HashMap<>();
        Map<Digest, Long> sizes = new HashMap<>();
        long total = 0;
        for (Root r : roots) {
            total += r.manifestBytes();
            for (Digest b : r.blobs()) {
                if (users.merge(b, 1, Integer::sum) == 1) {
                    long size = metadata.blobs().size(b).orElse(0);
                    sizes.put(b, size);
                    total += size;
                }
            }
        }
        List<Root> byUse = new ArrayList<>(roots);
        byUse.sort(Comparator.comparingLong(Root::lastUsed));
        PurgeResult removed = PurgeResult.NOTHING;
        for (Root r : byUse) {
            if (total <= maxSize) {
                break;
            }
            removed = removed.plus(evict(r, "budget"));
            total -= r.manifestBytes();
            for (Digest b : r.blobs()) {
                if (users.merge(b, -1, Integer::sum) == 0) {
                    total -= sizes.get(b);
                }
            }
        }
        return removed;
    }

    private PurgeResult evict(Root r, String reason) {
        return r.stray()
                ? registry.proxy().evictBlob(r.repository(), r.digest(), r.lastUsed())
                : registry.proxy().evict(r.repository(), r.digest(), reason);
    }

    /**
     * Every cached image, read page by page, and every stray blob of a cached repository last used
     * before {@code strayBefore}.
     */
    private List<Root> roots(long strayBefore) {
        List<Root> roots = new ArrayList<>();
        String afterRepository = "";
        while (true) {
            List<CachedRepository> repositories = metadata.proxy().repositories(afterRepository, PAGE);
            for (CachedRepository c : repositories) {
                RepositoryName repository = c.repository();
                Set<Digest> referenced = new HashSet<>();
                String after = null;
                while (true) {
                    List<ManifestSummary> page = metadata.manifests().summaries(repository, after, PAGE, false);
                    for (ManifestSummary m : page) {
                        if (isRoot(repository, m)) {
                            Root root = root(repository, m);
                            roots.add(root);
                            referenced.addAll(root.blobs());
                        }
                        after = m.digest().toString();
                    }
                    if (page.size() < PAGE) {
                        break;
                    }
                }
                strays(repository, referenced, strayBefore, roots);
                afterRepository = repository.value();
            }
            if (repositories.size() < PAGE) {
                return roots;
            }
        }
    }

    /**
     * Adds the blobs the repository links that no manifest there references and that were last used
     * (linked, pulled) before {@code before}: as images are, they are evicted by age and count against the
     * budget.
     */
    private void strays(RepositoryName repository, Set<Digest> referenced, long before, List<Root> into) {
        String after = null;
        while (true) {
            List<LinkedBlob> page = metadata.blobs().linkedTo(repository, after, PAGE);
            for (LinkedBlob b : page) {
                if (!referenced.contains(b.digest())
                        && b.lastUsed() < before
                        && metadata.manifests()
                                .referencingBlob(repository, b.digest())
                                .isEmpty()) {
                    into.add(new Root(repository, b.digest(), b.lastUsed(), 0, Set.of(b.digest()), true));
                }
                after = b.digest().toString();
            }
            if (page.size() < PAGE) {
                return;
            }
        }
    }

    private boolean isRoot(RepositoryName repository, ManifestSummary m) {
        return metadata.manifests().indexReferencing(repository, m.digest()).isEmpty()
                && (m.subject().isEmpty()
                        || !metadata.manifests().exists(repository, m.subject().get()));
    }

    /** The root with its children's blobs and sizes; last used: its last pull, else when it was cached. */
    private Root root(RepositoryName repository, ManifestSummary m) {
        Set<Digest> blobs = new LinkedHashSet<>();
        Set<Digest> seen = new LinkedHashSet<>();
        long bytes = 0;
        ArrayDeque<Digest> queue = new ArrayDeque<>(List.of(m.digest()));
        while (!queue.isEmpty()) {
            Digest d = queue.poll();
            if (!seen.add(d)) {
                continue;
            }
            bytes += metadata.manifests()
                    .get(repository, d)
                    .map(r -> (long) r.payload().length)
                    .orElse(0L);
            blobs.addAll(metadata.manifests().blobsOf(repository, d));
            queue.addAll(metadata.manifests().dependents(repository, d));
        }
        long lastUsed = Math.max(m.pushedAt(), m.lastPulledAt().orElse(0));
        return new Root(repository, m.digest(), lastUsed, bytes, blobs, false);
    }

    private GarbageCollector.Collected collect(String reason, Set<Digest> unlinked) {
        try {
            return gc.collect(reason, unlinked);
        } catch (IOException e) {
            throw new UncheckedIOException("deleting blobs of " + reason + ": " + e.getMessage(), e);
        }
    }
}
