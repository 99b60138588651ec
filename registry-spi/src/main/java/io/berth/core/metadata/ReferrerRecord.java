package io.berth.core.metadata;

import io.berth.core.model.Digest;
import java.util.Map;

/** A manifest whose subject is a given digest, as listed by the referrers API. */
public record ReferrerRecord(
        Digest digest, String mediaType, long size, String artifactType, Map<String, String> annotations) {
    public ReferrerRecord {
        annotations = Map.copyOf(annotations);
    }
}
