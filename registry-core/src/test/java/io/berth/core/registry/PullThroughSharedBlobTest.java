package io.berth.core.registry;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.berth.core.blob.FilesystemBlobStore;
import io.berth.core.error.ErrorCode;
import io.berth.core.error.RegistryException;
import io.berth.core.metadata.sqlite.SqliteMetadataStore;
import io.berth.core.model.Caller;
import io.berth.core.model.Digest;
import io.berth.core.model.DigestAlgorithm;
import io.berth.core.model.MediaTypes;
import io.berth.core.model.RepositoryName;
import io.berth.core.model.Tag;
import io.berth.core.testing.Images;
import io.berth.core.testing.RegistryUpstream;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A cached manifest is the upstream's word, and an upstream may accept a manifest naming blobs it does
 * not hold (a sparse Berth, a lax or hostile registry): it must not hand out another repository's blob.
 */
class PullThroughSharedBlobTest {
    @TempDir
    Path dir;

    @Test
    void aBlobOfALocalRepositoryIsNotHandedOutBecauseAnUpstreamManifestNamesIt() throws IOException {
        Registry origin = new Registry(
                new FilesystemBlobStore(dir.resolve("origin"), false),
                new SqliteMetadataStore(dir.resolve("origin.db")),
                RegistryOptions.of(Map.of("manifests.allow-sparse", "true")));
        RegistryUpstream upstream = new RegistryUpstream("hub", origin);
        Registry cache = new Registry(
                new FilesystemBlobStore(dir.resolve("cache"), false),
                new SqliteMetadataStore(dir.resolve("cache.db")),
                RegistryOptions.defaults(),
                Clock.systemUTC(),
                RegistryUpstream.prefixed("hub", upstream));
        try {
            // a private local image; the caller may pull hub/** only, and knows the layer's digest
            byte[] secret = Images.bytes("private layer of private/app");
            new Images(cache).blob(RepositoryName.of("private/app"), secret);
            Digest secretDigest = Digest.compute(DigestAlgorithm.SHA256, secret);
            // upstream: a manifest that names the digest, without the upstream holding the blob
            RepositoryName remote = RepositoryName.of("attacker/app");
            Images up = new Images(origin);
            BlobInfo config = up.blob(remote, Images.bytes("{}"));
            up.put(
                    remote,
                    "v1",
                    MediaTypes.OCI_MANIFEST,
                    Images.imageManifest(config, List.of(new BlobInfo(secretDigest, secret.length)), null));

            RepositoryName local = RepositoryName.of("hub/attacker/app");
            Caller client = Caller.at("10.0.0.9");
            cache.proxy().manifest(client, local, new Tag("v1"), true);
            RegistryException e =
                    assertThrows(RegistryException.class, () -> cache.proxy().blob(client, local, secretDigest));
            assertEquals(ErrorCode.BLOB_UNKNOWN, e.code(), "the upstream does not hold it: nothing to serve");
        } finally {
            upstream.release();
            cache.close();
            origin.close();
        }
    }

    @Test
    void aBlobTheUpstreamConfirmsIsLinkedFromAnotherCacheWithoutATransfer() throws IOException {
        Registry origin = new Registry(
                new FilesystemBlobStore(dir.resolve("origin"), false),
                new SqliteMetadataStore(dir.resolve("origin.db")),
                RegistryOptions.defaults());
        RegistryUpstream upstream = new RegistryUpstream("hub", origin);
        Registry cache = new Registry(
                new FilesystemBlobStore(dir.resolve("cache"), false),
                new SqliteMetadataStore(dir.resolve("cache.db")),
                RegistryOptions.defaults(),
                Clock.systemUTC(),
                RegistryUpstream.prefixed("hub", upstream));
        try {
            Images up = new Images(origin);
            byte[] layer = Images.bytes("a base layer both images share");
            BlobInfo config = up.blob(RepositoryName.of("library/a"), Images.bytes("{}"));
            BlobInfo base = up.blob(RepositoryName.of("library/a"), layer);
            up.put(
                    RepositoryName.of("library/a"),
                    "v1",
                    MediaTypes.OCI_MANIFEST,
                    Images.imageManifest(config, List.of(base), null));
            up.blob(RepositoryName.of("library/b"), Images.bytes("{}"));
            up.blob(RepositoryName.of("library/b"), layer);
            up.put(
                    RepositoryName.of("library/b"),
                    "v1",
                    MediaTypes.OCI_MANIFEST,
                    Images.imageManifest(config, List.of(base), null));
            Caller client = Caller.at("10.0.0.9");
            RepositoryName a = RepositoryName.of("hub/library/a");
            RepositoryName b = RepositoryName.of("hub/library/b");
            cache.proxy().manifest(client, a, new Tag("v1"), true);
            cache.proxy().blob(client, a, base.digest());
            cache.proxy().manifest(client, b, new Tag("v1"), true);
            int transfers = upstream.calls("blob");
            int heads = upstream.calls("blobSize");
            CachedBlob head = cache.proxy().blobHead(client, b, base.digest());
            assertEquals(CacheOutcome.MISS, head.outcome(), "the upstream's HEAD answered");
            assertEquals(base.size(), head.blob().size());
            assertFalse(cache.metadata().blobs().linked(b, base.digest()), "a HEAD stores nothing, links nothing");
            assertEquals(heads + 1, upstream.calls("blobSize"));
            heads = upstream.calls("blobSize");
            CachedBlob shared = cache.proxy().blob(client, b, base.digest());
            assertEquals(CacheOutcome.HIT, shared.outcome());
            assertEquals(transfers, upstream.calls("blob"), "no second transfer of a blob held already");
            assertEquals(heads + 1, upstream.calls("blobSize"), "the upstream confirmed it holds the blob");
            assertTrue(cache.metadata().blobs().linked(b, base.digest()));
        } finally {
            upstream.release();
            cache.close();
            origin.close();
        }
    }
}
