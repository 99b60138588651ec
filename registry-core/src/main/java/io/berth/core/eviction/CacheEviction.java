package io.berth.core.eviction;

import io.berth.core.gc.GarbageCollector;
import io.berth.core.metadata.CachedRepository;
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
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Eviction of pull-through caches' content (docs/proxy.md, "Eviction"): a cached image not pulled for
 * {@code proxy.evict-after} is evicted; while cached content exceeds {@code proxy.max-size}, the least
 * recently pulled images go first. An image is a root manifest of a cached repository (one no index
 * there lists, no referrer of a manifest held there) with what only it keeps. Its records go first
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

    /** A cached image: its root manifest, when it was last used, and the stored blobs it and its children reference. */
    private record Root(
            RepositoryName repository, Digest digest, long lastUsed, long manifestBytes, Set<Digest> blobs) {}

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
            List<Root> roots = roots();
            PurgeResult removed = PurgeResult.NOTHING;
            List<Root> kept = new ArrayList<>();
            if (!settings.evictAfter().isZero()) {
                long before = now - settings.evictAfter().toMillis();
                for (Root r : roots) {
                    if (r.lastUsed() < before) {
                        removed = removed.plus(registry.proxy().evict(r.repository(), r.digest(), "age"));
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
            if (outcome.manifestsRemoved() > 0) {
                LOG.log(
                        Level.INFO,
                        "cache eviction: " + outcome.manifestsRemoved() + " manifests, " + outcome.tagsRemoved()
                                + " tags; " + outcome.blobsDeleted() + " blobs deleted (" + outcome.bytesFreed()
                                + " bytes)");
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
            removed = removed.plus(registry.proxy().evict(r.repository(), r.digest(), "budget"));
            total -= r.manifestBytes();
            for (Digest b : r.blobs()) {
                if (users.merge(b, -1, Integer::sum) == 0) {
                    total -= sizes.get(b);
                }
            }
        }
        return removed;
    }

    /** Every cached image, read page by page. */
    private List<Root> roots() {
        List<Root> roots = new ArrayList<>();
        String afterRepository = "";
        while (true) {
            List<CachedRepository> repositories = metadata.proxy().repositories(afterRepository, PAGE);
            for (CachedRepository c : repositories) {
                RepositoryName repository = c.repository();
                String after = null;
                while (true) {
                    List<ManifestSummary> page = metadata.manifests().summaries(repository, after, PAGE, false);
                    for (ManifestSummary m : page) {
                        if (isRoot(repository, m)) {
                            roots.add(root(repository, m));
                        }
                        after = m.digest().toString();
                    }
                    if (page.size() < PAGE) {
                        break;
                    }
                }
                afterRepository = repository.value();
            }
            if (repositories.size() < PAGE) {
                return roots;
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
        return new Root(repository, m.digest(), lastUsed, bytes, blobs);
    }

    private GarbageCollector.Collected collect(String reason, Set<Digest> unlinked) {
        try {
            return gc.collect(reason, unlinked);
        } catch (IOException e) {
            throw new UncheckedIOException("deleting blobs of " + reason + ": " + e.getMessage(), e);
        }
    }
}
