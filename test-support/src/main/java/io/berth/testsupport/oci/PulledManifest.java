package io.berth.testsupport.oci;

import io.berth.core.model.Digest;
import java.nio.charset.StandardCharsets;

/** A manifest as pulled: its media type and digest as the registry sent them, and its bytes. */
public record PulledManifest(String mediaType, Digest digest, byte[] bytes) {
    public String text() {
        return new String(bytes, StandardCharsets.UTF_8);
    }
}
