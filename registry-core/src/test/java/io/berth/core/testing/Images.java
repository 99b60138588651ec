package io.berth.core.testing;

import io.berth.core.model.Caller;
import io.berth.core.model.Digest;
import io.berth.core.model.DigestAlgorithm;
import io.berth.core.model.MediaTypes;
import io.berth.core.model.Reference;
import io.berth.core.model.RepositoryName;
import io.berth.core.model.Tag;
import io.berth.core.registry.BlobInfo;
import io.berth.core.registry.Registry;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.OptionalLong;

/** Pushes small images, indexes and referrers through a {@link Registry}'s own API, as tests need them. */
public final class Images {
    private final Registry registry;

    public Images(Registry registry) {
        this.registry = registry;
    }

    public static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    public BlobInfo blob(RepositoryName repo, byte[] content) {
        return registry.uploads()
                .putMonolithic(
                        repo,
                        Digest.compute(DigestAlgorithm.SHA256, content),
                        OptionalLong.of(content.length),
                        new ByteArrayInputStream(content));
    }

    /** The payload of an image manifest with a config and one layer per given blob. */
    public static byte[] imageManifest(BlobInfo config, List<BlobInfo> layers, String subject) {
        StringBuilder l = new StringBuilder();
        for (BlobInfo b : layers) {
            l.append(l.isEmpty() ? "" : ",")
                    .append("{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar\"," + "\"digest\":\"")
                    .append(b.digest())
                    .append("\",\"size\":")
                    .append(b.size())
                    .append('}');
        }
        return bytes("{\"schemaVersion\":2,\"mediaType\":\"" + MediaTypes.OCI_MANIFEST + "\",\"config\":{\"mediaType\":"
                + "\"application/vnd.oci.image.config.v1+json\",\"digest\":\"" + config.digest() + "\",\"size\":"
                + config.size() + "},\"layers\":[" + l + "]"
                + (subject == null
                        ? ""
                        : ",\"subject\":{\"mediaType\":\"" + MediaTypes.OCI_MANIFEST + "\",\"digest\":\"" + subject
                                + "\",\"size\":1}")
                + "}");
    }

    /** Pushes an image of a config and one layer made from {@code seed}; tagged when {@code tag} is not null. */
    public Digest image(RepositoryName repo, String tag, String seed) {
        BlobInfo config = blob(repo, bytes("{\"seed\":\"" + seed + "\"}"));
        BlobInfo layer = blob(repo, bytes("layer " + seed));
        byte[] m = imageManifest(config, List.of(layer), null);
        return put(repo, tag, MediaTypes.OCI_MANIFEST, m);
    }

    /** Pushes an index of {@code children} (each with a platform: linux/amd64, linux/arm64, …). */
    public Digest index(RepositoryName repo, String tag, Digest... children) {
        String[] arch = {"amd64", "arm64", "s390x", "ppc64le", "riscv64"};
        StringBuilder m = new StringBuilder();
        for (int i = 0; i < children.length; i++) {
            long size = registry.metadata()
                    .manifests()
                    .get(repo, children[i])
                    .orElseThrow()
                    .size();
            m.append(i == 0 ? "" : ",")
                    .append("{\"mediaType\":\"")
                    .append(MediaTypes.OCI_MANIFEST)
                    .append("\",\"digest\":\"")
                    .append(children[i])
                    .append("\",\"size\":")
                    .append(size)
                    .append(",\"platform\":{\"os\":\"linux\",\"architecture\":\"")
                    .append(arch[i % arch.length])
                    .append("\"}}");
        }
        return put(
                repo,
                tag,
                MediaTypes.OCI_INDEX,
                bytes("{\"schemaVersion\":2,\"mediaType\":\"" + MediaTypes.OCI_INDEX + "\",\"manifests\":[" + m
                        + "]}"));
    }

    /** Pushes an untagged referrer (a signature, an SBOM) of {@code subject}. */
    public Digest referrer(RepositoryName repo, Digest subject, String seed) {
        BlobInfo config = blob(repo, bytes("{}"));
        BlobInfo layer = blob(repo, bytes("signature " + seed));
        return put(repo, null, MediaTypes.OCI_MANIFEST, imageManifest(config, List.of(layer), subject.toString()));
    }

    public Digest put(RepositoryName repo, String tag, String mediaType, byte[] payload) {
        Reference ref = tag == null ? Digest.compute(DigestAlgorithm.SHA256, payload) : new Tag(tag);
        return registry.manifests()
                .put(Caller.at("127.0.0.1"), repo, ref, List.of(), mediaType, payload)
                .digest();
    }
}
