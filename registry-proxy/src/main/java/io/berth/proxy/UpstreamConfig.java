package io.berth.proxy;

import io.berth.core.model.RepositoryGlob;
import io.berth.core.proxy.CachePolicy;
import io.berth.oci.OciEndpoint;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * One configured upstream: where it is, the identity Berth uses there, which local names it serves
 * ({@link #prefix} or mirror with {@link #repositories}), its cache policy and its guards. The
 * password lives in {@link #endpoint} and is never part of {@link #toString()}.
 */
public record UpstreamConfig(
        String name,
        OciEndpoint endpoint,
        Optional<String> prefix,
        List<RepositoryGlob> repositories,
        CachePolicy policy,
        double rateLimit,
        int maxConcurrent,
        int breakerFailures,
        Duration breakerOpenFor) {
    public UpstreamConfig {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(endpoint, "endpoint");
        Objects.requireNonNull(prefix, "prefix");
        repositories = List.copyOf(repositories);
        Objects.requireNonNull(policy, "policy");
        Objects.requireNonNull(breakerOpenFor, "breakerOpenFor");
    }

    /** Docker's registry-mirrors mode: local names are the upstream's names. */
    public boolean mirror() {
        return prefix.isEmpty();
    }

    /** How an operator sees it: {@code https://registry-1.docker.io (mirror)}, never credentials. */
    public String describe() {
        return endpoint.url() + (mirror() ? " (mirror)" : " (prefix " + prefix.get() + "/)");
    }

    @Override
    public String toString() {
        return "UpstreamConfig[" + name + ", " + describe()
                + (endpoint.username().isEmpty() ? "" : ", user " + endpoint.username()) + "]"; // never the password
    }
}
