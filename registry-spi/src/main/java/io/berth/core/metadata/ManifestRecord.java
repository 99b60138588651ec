package io.berth.core.metadata;

import io.berth.core.model.Digest;
import io.berth.core.model.RepositoryName;
import java.util.Map;
import java.util.Optional;

/** A stored manifest: its exact payload and what the registry derived from it at push time. */
public record ManifestRecord(
        RepositoryName repository,
        Digest digest,
        String mediaType,
        String artifactType,
        Optional<Digest> subject,
        Map<String, String> annotations,
        byte[] payload,
        long pushedAt) {
    public ManifestRecord {
        annotations = Map.copyOf(annotations);
    }

    public long size() {
        return payload.length;
    }
}
