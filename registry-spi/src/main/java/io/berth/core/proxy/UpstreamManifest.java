package io.berth.core.proxy;

import io.berth.core.model.Digest;
import java.util.Objects;

/** A manifest as the upstream sent it: exact bytes (signatures hold), media type, and their digest. */
public record UpstreamManifest(byte[] bytes, String mediaType, Digest digest) {
    public UpstreamManifest {
        Objects.requireNonNull(bytes, "bytes");
        Objects.requireNonNull(mediaType, "mediaType");
        Objects.requireNonNull(digest, "digest");
    }
}
