package io.berth.core.manifest;

import io.berth.core.model.Descriptor;
import io.berth.core.model.Digest;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * What the registry needs to know of a manifest: what it references (blobs, child manifests), its
 * subject (for referrers) and how it describes itself in a referrers index.
 *
 * @param mediaType    the manifest's media type
 * @param blobs        config and layers (image manifests); empty for indexes
 * @param children     manifests listed by an index; empty for image manifests
 * @param subject      the manifest this one refers to, if any
 * @param artifactType {@code artifactType}, else the config media type of an image manifest
 * @param annotations  the manifest's annotations
 */
public record ParsedManifest(
        String mediaType,
        List<Descriptor> blobs,
        List<Descriptor> children,
        Optional<Digest> subject,
        String artifactType,
        Map<String, String> annotations) {
    public ParsedManifest {
        blobs = List.copyOf(blobs);
        children = List.copyOf(children);
        annotations = Map.copyOf(annotations);
    }

    /** The config descriptor of an image manifest (always the first of {@link #blobs()}). */
    public Optional<Descriptor> config() {
        return blobs.isEmpty() ? Optional.empty() : Optional.of(blobs.get(0));
    }
}
