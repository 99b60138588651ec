package io.berth.core.proxy;

import io.berth.core.model.RepositoryName;
import java.util.List;
import java.util.Optional;

/**
 * The configured upstreams and which local repository names they serve. A repository is proxied or
 * local, never both: {@link #route} answers for every name the configuration gives an upstream.
 */
public interface Upstreams {
    /** The upstream serving a local repository name, and the name there; empty for a local repository. */
    Optional<ProxyRoute> route(RepositoryName local);

    /** Every configured upstream, in configuration order. */
    List<Upstream> all();

    /** How cached content is evicted (the {@code proxy.*} keys); the defaults unless configured. */
    default ProxySettings settings() {
        return ProxySettings.DEFAULTS;
    }

    /** No upstreams: every repository is local. */
    static Upstreams none() {
        return none(ProxySettings.DEFAULTS);
    }

    /**
     * No upstreams, but eviction settings: content cached from upstreams no longer configured is still
     * evicted by them.
     */
    static Upstreams none(ProxySettings settings) {
        return new Upstreams() {
            @Override
            public ProxySettings settings() {
                return settings;
            }

            @Override
            public Optional<ProxyRoute> route(RepositoryName local) {
                return Optional.empty();
            }

            @Override
            public List<Upstream> all() {
                return List.of();
            }
        };
    }
}
