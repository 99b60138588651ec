package io.berth.core.registry;

import io.berth.core.error.ErrorCode;
import io.berth.core.error.RegistryException;
import io.berth.core.metadata.CachedRepository;
import io.berth.core.metadata.MetadataStore;
import io.berth.core.model.RepositoryName;
import io.berth.core.proxy.ProxyRoute;
import io.berth.core.proxy.Upstreams;
import java.util.Map;
import java.util.Optional;

/**
 * Which repositories are pull-through caches, and the rule that they are read-only to clients: every
 * write path of the engine asks {@link #requireLocal} first. A repository is proxied when the
 * configuration routes it to an upstream, or when it was cached from an upstream no longer configured.
 */
final class ProxyGuard {
    private final Upstreams upstreams;
    private final MetadataStore metadata;
    /** Whether any cache rows may exist: saves local repositories a lookup per request when none ever did. */
    private volatile Boolean cachesRecorded;

    ProxyGuard(Upstreams upstreams, MetadataStore metadata) {
        this.upstreams = upstreams;
        this.metadata = metadata;
    }

    Upstreams upstreams() {
        return upstreams;
    }

    Optional<ProxyRoute> route(RepositoryName repository) {
        return upstreams.route(repository);
    }

    boolean proxied(RepositoryName repository) {
        return route(repository).isPresent() || recorded(repository).isPresent();
    }

    /** A cache row was written: lookups are needed from now on. */
    void cacheRecorded() {
        cachesRecorded = Boolean.TRUE;
    }

    private Optional<CachedRepository> recorded(RepositoryName repository) {
        Boolean any = cachesRecorded;
        if (any == null) {
            any = !metadata.proxy().repositories("", 1).isEmpty();
            cachesRecorded = any;
        }
        return any ? metadata.proxy().repository(repository) : Optional.empty();
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
        Optional<CachedRepository> cached = recorded(repository);
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
