package io.berth.core.registry;

import io.berth.core.error.ErrorCode;
import io.berth.core.error.RegistryException;
import io.berth.core.metadata.CachedRepository;
import io.berth.core.metadata.MetadataStore;
import io.berth.core.model.RepositoryName;
import io.berth.core.proxy.ProxyRoute;
import io.berth.core.proxy.Upstreams;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Which repositories are pull-through caches, and the rule that they are read-only to clients: every
 * write path of the engine asks {@link #requireLocal} first. A repository is proxied when the
 * configuration routes it to an upstream, or when it was cached from an upstream no longer configured.
 */
final class ProxyGuard {
    /** How long a read trusts "no cache rows anywhere" before asking the database again. */
    static final long RECHECK_MILLIS = 1000;

    private final Upstreams upstreams;
    private final MetadataStore metadata;
    private final Clock clock;
    /**
     * Whether cache rows were seen (or written here): then every read looks its repository's row up.
     * While none were, reads of local repositories skip that lookup, and ask the database again whether
     * any exist at most once per {@link #RECHECK_MILLIS}: another instance on the database may write some.
     */
    private volatile boolean cachesRecorded;
    /** When the database last said that no cache rows exist ({@link Long#MIN_VALUE}: never asked). */
    private volatile long noneSince = Long.MIN_VALUE;

    ProxyGuard(Upstreams upstreams, MetadataStore metadata, Clock clock) {
        this.upstreams = upstreams;
        this.metadata = metadata;
        this.clock = clock;
    }

    Upstreams upstreams() {
        return upstreams;
    }

    Optional<ProxyRoute> route(RepositoryName repository) {
        return upstreams.route(repository);
    }

    /**
     * Whether a read treats the repository as a cache. A repository cached by another instance from an
     * upstream not configured here may read as local for up to {@link #RECHECK_MILLIS} after its first
     * row was written, when this process had seen none: it serves the same content, without the cache's
     * header. Writes never rely on that ({@link #requireLocal}).
     */
    boolean proxied(RepositoryName repository) {
        return route(repository).isPresent()
                || (anyCacheRows() && metadata.proxy().repository(repository).isPresent());
    }

    /** A cache row was written: lookups are needed from now on. */
    void cacheRecorded() {
        cachesRecorded = true;
    }

    private boolean anyCacheRows() {
        if (cachesRecorded) {
            return true;
        }
        long now = clock.millis();
        long none = noneSince;
        if (none != Long.MIN_VALUE && now >= none && now - none < RECHECK_MILLIS) {
            return false;
        }
        if (!metadata.proxy().repositories("", 1).isEmpty()) {
            cachesRecorded = true;
            return true;
        }
        noneSince = now;
        return false;
    }

    /**
     * Refuses to act as a cache of a routed repository that holds content no cache wrote: a repository
     * is proxied or local, never both. Pushed before an upstream's route came to cover its name, its
     * tags would otherwise be moved or deleted by revalidation, and its images by eviction and purge.
     */
    void requireNoLocalContent(RepositoryName repository, ProxyRoute route) {
        // the row itself, not anyCacheRows(): another instance on the database may have cached it since this
        // process last found no cache rows at all
        if (metadata.proxy().repository(repository).isEmpty()
                && metadata.repositories().exists(repository)) {
            throw new RegistryException(
                    ErrorCode.DENIED,
                    "repository " + repository + " holds local content, but upstream "
                            + route.upstream().name() + "'s route covers its name: a repository is proxied or"
                            + " local, never both (change proxy.upstreams or move the content)",
                    Map.of(
                            "name",
                            repository.value(),
                            "upstream",
                            route.upstream().name()));
        }
    }

    /**
     * Local repositories whose names a configured route covers (at most {@code limit}): start-up refuses
     * them, as {@link #requireNoLocalContent} refuses each at its first pull.
     */
    List<RepositoryName> localContentUnderRoutes(int limit) {
        List<RepositoryName> found = new ArrayList<>();
        if (upstreams.all().isEmpty()) {
            return found;
        }
        String after = null; // from the start
        while (found.size() < limit) {
            List<String> names = metadata.repositories().names(after, 1000);
            for (String n : names) {
                RepositoryName name = RepositoryName.of(n);
                if (found.size() < limit
                        && route(name).isPresent()
                        && metadata.proxy().repository(name).isEmpty()) {
                    found.add(name);
                }
            }
            if (names.size() < 1000) {
                break;
            }
            after = names.getLast();
        }
        return found;
    }

    /**
     * Refuses a write ({@code what}: "pushes", "deletes", …) to a pull-through cache with
     * {@code DENIED}, saying which upstream it caches.
     */
    void requireLocal(RepositoryName repository, String what) {
        Optional<ProxyRoute> route = route(repository);
        if (route.isPresent()) {
            throw new RegistryException(
                    ErrorCode.DENIED,
                    "repository " + repository + " is a pull-through cache of upstream "
                            + route.get().upstream().name() + " ("
                            + route.get().upstream().describe() + "): "
                            + what + " are refused; push to a local repository instead",
                    Map.of(
                            "name",
                            repository.value(),
                            "upstream",
                            route.get().upstream().name()));
        }
        // the row itself, never the remembered "no cache rows": another instance on the database may have
        // cached the repository a moment ago from an upstream no longer configured here
        Optional<CachedRepository> cached = metadata.proxy().repository(repository);
        if (cached.isPresent()) {
            throw new RegistryException(
                    ErrorCode.DENIED,
                    "repository " + repository + " was cached from upstream "
                            + cached.get().upstream() + ", which is no longer configured: it is read-only (" + what
                            + " are refused)",
                    Map.of("name", repository.value(), "upstream", cached.get().upstream()));
        }
    }
}
