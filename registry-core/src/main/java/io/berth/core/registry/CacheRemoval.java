package io.berth.core.registry;

import io.berth.core.error.ErrorCode;
import io.berth.core.error.RegistryException;
import io.berth.core.metadata.ManifestRecord;
import io.berth.core.metadata.ManifestSummary;
import io.berth.core.metadata.MetadataStore;
import io.berth.core.metadata.MetadataTransaction;
import io.berth.core.model.Caller;
import io.berth.core.model.Digest;
import io.berth.core.model.RepositoryName;
import java.util.ArrayDeque;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Removes content of a pull-through cache (eviction and purge): the records go first, in one
 * transaction, and the blobs unlinked from the repository are returned for the online garbage
 * collector, which deletes a file only when no other repository links it and no manifest references it.
 * Immutability rules do not apply: a cache follows its upstream and holds nothing of its own.
 */
final class CacheRemoval {
    private static final int PAGE = 500;

    private final MetadataStore metadata;
    private final EventRecorder events;

    CacheRemoval(MetadataStore metadata, EventRecorder events) {
        this.metadata = metadata;
        this.events = events;
    }

    /** Removes a cached tag, then its manifest when nothing else keeps it. */
    PurgeResult tag(Caller caller, RepositoryName repository, String tag) {
        return metadata.inTransaction(tx -> {
            Optional<Digest> target = tx.tags().target(repository, tag);
            if (target.isEmpty()) {
                throw new RegistryException(
                        ErrorCode.NOT_FOUND,
                        "repository " + repository + " has no cached tag " + tag,
                        Map.of("name", repository.value(), "tag", tag));
            }
            tx.tags().delete(repository, tag, caller.origin());
            tx.proxy().forgetTag(repository, tag);
            events.tagDeleted(tx, caller, repository, tag, target.get());
            PurgeResult rest = remove(tx, caller, repository, target.get());
            return new PurgeResult(1, 0, Set.of()).plus(rest);
        });
    }

    /**
     * Evicts a root manifest (what a client pulls: not listed by an index, no referrer of a held
     * manifest) with its tags, and the children and referrers only it kept.
     */
    PurgeResult root(Caller caller, RepositoryName repository, Digest root) {
        return metadata.inTransaction(tx -> remove(tx, caller, repository, root));
    }

    /**
     * Unlinks a blob the repository links but none of its manifests references (a blob pulled without
     * its manifest, a fill that ended after its image was evicted), unless a manifest came to reference
     * it or it was pulled after {@code lastUsed} since eviction looked.
     */
    PurgeResult strayBlob(RepositoryName repository, Digest blob, long lastUsed) {
        return metadata.inTransaction(tx -> {
            if (tx.manifests().referencingBlob(repository, blob).isPresent()
                    || tx.blobs().lastPulled(repository, blob).orElse(0) > lastUsed
                    || !tx.blobs().unlink(repository, blob)) {
                return PurgeResult.NOTHING;
            }
            return new PurgeResult(0, 0, Set.of(blob));
        });
    }

    /** Removes a whole cached repository: the next pull fetches everything again. */
    PurgeResult repository(Caller caller, RepositoryName repository) {
        Set<Digest> blobs = new LinkedHashSet<>();
        long manifests = 0;
        String after = null;
        while (true) {
            List<ManifestSummary> page = metadata.manifests().summaries(repository, after, PAGE, false);
            for (ManifestSummary m : page) {
                blobs.addAll(metadata.manifests().blobsOf(repository, m.digest()));
                after = m.digest().toString();
            }
            manifests += page.size();
            if (page.size() < PAGE) {
                break;
            }
        }
        long counted = manifests;
        return metadata.inTransaction(tx -> {
            long tags = tx.tags().names(repository, null, Integer.MAX_VALUE).size();
            tx.repositories().delete(repository, caller.origin()); // its links and cache rows with it
            events.repositoryDeleted(tx, caller, repository);
            return new PurgeResult(tags, counted, blobs);
        });
    }

    /** Removes the manifest unless something else keeps it, then what only it kept; unlinks freed blobs. */
    private PurgeResult remove(MetadataTransaction tx, Caller caller, RepositoryName repository, Digest root) {
        long tags = 0;
        long manifests = 0;
        Set<Digest> blobs = new LinkedHashSet<>();
        ArrayDeque<Digest> queue = new ArrayDeque<>(List.of(root));
        while (!queue.isEmpty()) {
            Digest digest = queue.poll();
            Optional<ManifestRecord> m = tx.manifests().get(repository, digest);
            if (m.isEmpty() || kept(tx, repository, m.get(), digest.equals(root))) {
                continue;
            }
            List<Digest> dependents = tx.manifests().dependents(repository, digest);
            blobs.addAll(tx.manifests().blobsOf(repository, digest));
            for (String tag : tx.tags().of(repository, digest)) {
                events.tagDeleted(tx, caller, repository, tag, digest);
                tx.proxy().forgetTag(repository, tag);
                tags++;
            }
            if (tx.manifests().delete(repository, digest, caller.origin())) {
                events.manifestDeleted(
                        tx,
                        caller,
                        repository,
                        digest,
                        m.get().mediaType(),
                        m.get().size());
                manifests++;
            }
            queue.addAll(dependents);
        }
        Set<Digest> unlinked = new LinkedHashSet<>();
        for (Digest blob : blobs) {
            if (tx.manifests().referencingBlob(repository, blob).isEmpty()
                    && tx.blobs().unlink(repository, blob)) {
                unlinked.add(blob);
            }
        }
        return new PurgeResult(tags, manifests, unlinked);
    }

    /**
     * Whether the manifest stays: an index of the repository lists it, or it is a referrer of a manifest
     * the repository holds; a dependent (not the root asked for) also stays while a tag points at it.
     */
    private static boolean kept(MetadataTransaction tx, RepositoryName repository, ManifestRecord m, boolean root) {
        if (tx.manifests().indexReferencing(repository, m.digest()).isPresent()) {
            return true;
        }
        if (m.subject().isPresent()
                && tx.manifests().exists(repository, m.subject().get())) {
            return true;
        }
        return !root && !tx.tags().of(repository, m.digest()).isEmpty();
    }
}
