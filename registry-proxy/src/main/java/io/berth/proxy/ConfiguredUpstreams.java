package io.berth.proxy;

import io.berth.core.model.RepositoryGlob;
import io.berth.core.model.RepositoryName;
import io.berth.core.proxy.ProxyRoute;
import io.berth.core.proxy.ProxySettings;
import io.berth.core.proxy.Upstream;
import io.berth.core.proxy.Upstreams;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Which upstream serves a local repository name, a function of the name alone: an upstream under a
 * prefix serves every name below it ({@code hub/library/busybox} is {@code library/busybox} there), and
 * such a name, or the prefix itself, never reaches a mirror; a mirror serves the names its
 * repositories match, as they are; every other name is local. The configuration refuses two routes
 * for one name ({@link ProxyConfig}).
 */
public final class ConfiguredUpstreams implements Upstreams {
    /** An upstream and the names it serves. */
    record Route(Upstream upstream, Optional<String> prefix, List<RepositoryGlob> repositories) {}

    private final List<Route> routes;
    private final GuardedUpstream.Registries registries;
    private final ProxySettings settings;

    ConfiguredUpstreams(List<Route> routes, GuardedUpstream.Registries registries, ProxySettings settings) {
        this.routes = List.copyOf(routes);
        this.registries = registries;
        this.settings = settings;
    }

    /** Where the upstreams' guards were made. */
    GuardedUpstream.Registries registries() {
        return registries;
    }

    /** Routes for {@code upstreams} as configured, each served by the upstream of the same name in {@code built}. */
    static ConfiguredUpstreams of(
            List<UpstreamConfig> configs, List<? extends Upstream> built, GuardedUpstream.Registries registries) {
        return of(configs, built, registries, ProxySettings.DEFAULTS);
    }

    /** As above, with the eviction settings the engine reads through {@link #settings()}. */
    static ConfiguredUpstreams of(
            List<UpstreamConfig> configs,
            List<? extends Upstream> built,
            GuardedUpstream.Registries registries,
            ProxySettings settings) {
        List<Route> routes = new ArrayList<>();
        for (int i = 0; i < configs.size(); i++) {
            UpstreamConfig c = configs.get(i);
            routes.add(new Route(built.get(i), c.prefix(), c.repositories()));
        }
        return new ConfiguredUpstreams(routes, registries, settings);
    }

    @Override
    public Optional<ProxyRoute> route(RepositoryName local) {
        String name = local.value();
        for (Route r : routes) {
            if (r.prefix().isPresent()) {
                String p = r.prefix().get();
                if (name.equals(p)) {
                    return Optional.empty(); // the prefix alone names nothing upstream, and no mirror gets it
                }
                if (name.startsWith(p + "/")) {
                    return Optional.of(new ProxyRoute(r.upstream(), RepositoryName.of(name.substring(p.length() + 1))));
                }
            }
        }
        for (Route r : routes) {
            if (r.prefix().isEmpty() && r.repositories().stream().anyMatch(g -> g.matches(name))) {
                return Optional.of(new ProxyRoute(r.upstream(), local));
            }
        }
        return Optional.empty();
    }

    @Override
    public ProxySettings settings() {
        return settings;
    }

    @Override
    public List<Upstream> all() {
        return routes.stream().map(Route::upstream).toList();
    }
}
