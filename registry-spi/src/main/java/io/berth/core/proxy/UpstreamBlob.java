package io.berth.core.proxy;

import java.io.IOException;
import java.io.InputStream;
import java.util.Objects;
import java.util.OptionalLong;

/** A blob's body as it arrives from the upstream, and its length when the upstream said it. */
public record UpstreamBlob(InputStream body, OptionalLong length) implements AutoCloseable {
    public UpstreamBlob {
        Objects.requireNonNull(body, "body");
        Objects.requireNonNull(length, "length");
    }

    @Override
    public void close() throws IOException {
        body.close();
    }
}
