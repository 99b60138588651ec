package io.berth.core.proxy;

import io.berth.core.model.RepositoryName;
import java.util.Objects;

/** A local repository name routed to an upstream, and its name there. */
public record ProxyRoute(Upstream upstream, RepositoryName remote) {
    public ProxyRoute {
        Objects.requireNonNull(upstream, "upstream");
        Objects.requireNonNull(remote, "remote");
    }
}
