package io.berth.testsupport.oci;

import io.berth.core.model.Digest;
import io.berth.core.model.DigestAlgorithm;
import io.berth.core.model.MediaTypes;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/** The content of a small OCI image: a config and layers, and the image manifest that lists them. */
public final class TestImage {
    private final byte[] config;
    private final List<byte[]> layers;

    private TestImage(byte[] config, List<byte[]> layers) {
        this.config = config.clone();
        this.layers = layers.stream().map(byte[]::clone).toList();
    }

    public static TestImage of(byte[] config, byte[]... layers) {
        return new TestImage(config, List.of(layers));
    }

    /** A config naming {@code seed} and one layer of text: images of different seeds share no blob. */
    public static TestImage of(String seed) {
        return of(
                ("{\"seed\":\"" + seed + "\"}").getBytes(StandardCharsets.UTF_8),
                ("layer of " + seed).getBytes(StandardCharsets.UTF_8));
    }

    public byte[] config() {
        return config.clone();
    }

    public List<byte[]> layers() {
        return layers.stream().map(byte[]::clone).toList();
    }

    /** The OCI image manifest listing the config and the layers (tar), in that order. */
    public byte[] manifest() {
        StringBuilder list = new StringBuilder();
        for (byte[] layer : layers) {
            list.append(list.isEmpty() ? "" : ",").append(descriptor("application/vnd.oci.image.layer.v1.tar", layer));
        }
        return ("{\"schemaVersion\":2,\"mediaType\":\"" + MediaTypes.OCI_MANIFEST + "\",\"config\":"
                        + descriptor("application/vnd.oci.image.config.v1+json", config) + ",\"layers\":[" + list
                        + "]}")
                .getBytes(StandardCharsets.UTF_8);
    }

    public Digest manifestDigest() {
        return sha256(manifest());
    }

    public Digest configDigest() {
        return sha256(config);
    }

    public List<Digest> layerDigests() {
        return layers.stream().map(TestImage::sha256).toList();
    }

    /** The sha256 digest of {@code content}, as the images here are addressed. */
    public static Digest sha256(byte[] content) {
        return Digest.compute(DigestAlgorithm.SHA256, content);
    }

    private static String descriptor(String mediaType, byte[] content) {
        return "{\"mediaType\":\"" + mediaType + "\",\"digest\":\"" + sha256(content) + "\",\"size\":" + content.length
                + "}";
    }

    /** The config, then the layers. */
    public List<byte[]> blobs() {
        List<byte[]> all = new ArrayList<>(List.of(config));
        all.addAll(layers);
        return all;
    }
}
