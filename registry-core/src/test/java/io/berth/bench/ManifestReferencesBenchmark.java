package io.berth.bench;

import io.berth.core.blob.FilesystemBlobStore;
import io.berth.core.config.ConfigKeys;
import io.berth.core.metadata.sqlite.SqliteMetadataStore;
import io.berth.core.model.Digest;
import io.berth.core.model.DigestAlgorithm;
import io.berth.core.model.MediaTypes;
import io.berth.core.model.RepositoryName;
import io.berth.core.model.Tag;
import io.berth.core.registry.Registry;
import io.berth.core.registry.RegistryOptions;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * How long the largest manifest {@code manifests.max-references} admits holds the single metadata
 * writer (a benchmark: prints figures, asserts nothing about time). Run with
 * {@code bin/test -pl registry-core -Dgroups=benchmark -Dberth.test.excluded-groups= -Dtest=ManifestReferencesBenchmark}.
 */
@org.junit.jupiter.api.Tag("benchmark")
class ManifestReferencesBenchmark {
    @TempDir
    Path dir;

    @Test
    void largestAllowedIndexAndImage() throws Exception {
        int max = Integer.parseInt(ConfigKeys.MANIFESTS_MAX_REFERENCES.defaultValue());
        RepositoryName repo = RepositoryName.of("bench/refs");
        try (Registry r = new Registry(
                new FilesystemBlobStore(dir.resolve("b"), false),
                new SqliteMetadataStore(dir.resolve("m.db")),
                RegistryOptions.of(Map.of("manifests.allow-sparse", "true", "manifests.max-size", "64MiB")))) {
            byte[] config = "{}".getBytes(StandardCharsets.UTF_8);
            Digest c = Digest.compute(DigestAlgorithm.SHA256, config);
            r.uploads().putMonolithic(repo, c, OptionalLong.of(2), new ByteArrayInputStream(config));
            for (int round = 0; round < 3; round++) {
                StringBuilder layers = new StringBuilder();
                for (int i = 0; i < max - 1; i++) {
                    Digest l = Digest.compute(
                            DigestAlgorithm.SHA256, ("layer " + round + " " + i).getBytes(StandardCharsets.UTF_8));
                    layers.append(i == 0 ? "" : ",")
                            .append("{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar\"," + "\"digest\":\"")
                            .append(l)
                            .append("\",\"size\":1}");
                }
                byte[] m = ("{\"schemaVersion\":2,\"mediaType\":\"" + MediaTypes.OCI_MANIFEST + "\",\"config\":{"
                                + "\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"digest\":\"" + c
                                + "\",\"size\":2},\"layers\":[" + layers + "]}")
                        .getBytes(StandardCharsets.UTF_8);
                long t = System.nanoTime();
                r.manifests().put(repo, new Tag("v" + round), MediaTypes.OCI_MANIFEST, m);
                System.out.printf(
                        "manifest with %d references (%d KiB): put in %.1f ms%n",
                        max, m.length / 1024, (System.nanoTime() - t) / 1e6);
            }
        }
    }
}
