package io.berth.core.proxy;

import java.util.Objects;

/** The upstream's referrers index (exact bytes), and whether it applied the artifactType filter. */
public record UpstreamReferrers(byte[] index, boolean filtered) {
    public UpstreamReferrers {
        Objects.requireNonNull(index, "index");
    }
}
