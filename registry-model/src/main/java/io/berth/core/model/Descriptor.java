package io.berth.core.model;

import java.util.List;

/**
 * An OCI content descriptor as a manifest lists it, with what the registry uses of it (its
 * annotations are checked when a manifest is parsed, not kept).
 */
public record Descriptor(String mediaType, Digest digest, long size, String artifactType, List<String> urls) {
    public Descriptor {
        urls = urls == null ? List.of() : List.copyOf(urls);
    }

    /** Non-distributable layers (with {@code urls}) need not be present in the registry. */
    public boolean isExternal() {
        return !urls.isEmpty();
    }
}
