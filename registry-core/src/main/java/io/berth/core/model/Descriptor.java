package io.berth.core.model;

import java.util.List;
import java.util.Map;

/** An OCI content descriptor as it appears in manifests and in the referrers index. */
public record Descriptor(String mediaType, Digest digest, long size, String artifactType,
                         Map<String, String> annotations, List<String> urls) {
    public Descriptor {
        annotations = annotations == null ? Map.of() : Map.copyOf(annotations);
        urls = urls == null ? List.of() : List.copyOf(urls);
    }

    /** Non-distributable layers (with {@code urls}) need not be present in the registry. */
    public boolean isExternal() {
        return !urls.isEmpty();
    }
}
