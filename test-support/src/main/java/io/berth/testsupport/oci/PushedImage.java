package io.berth.testsupport.oci;

import io.berth.core.model.Digest;
import java.util.ArrayList;
import java.util.List;

/** What {@link OciClient#pushImage} pushed: where, and the digests of the manifest, config and layers. */
public record PushedImage(String repo, String tag, Digest manifest, Digest config, List<Digest> layers) {
    public PushedImage {
        layers = List.copyOf(layers);
    }

    /** The config's digest, then the layers'. */
    public List<Digest> blobs() {
        List<Digest> all = new ArrayList<>(List.of(config));
        all.addAll(layers);
        return all;
    }
}
