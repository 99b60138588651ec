package io.berth.proxy;

import static io.berth.proxy.Hub.repo;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.berth.core.model.Digest;
import io.berth.core.model.DigestAlgorithm;
import io.berth.core.model.Tag;
import io.berth.core.proxy.UpstreamBlob;
import io.berth.core.proxy.UpstreamException;
import io.berth.core.proxy.UpstreamException.Kind;
import io.berth.core.proxy.UpstreamManifest;
import io.berth.core.proxy.UpstreamReferrers;
import io.berth.core.proxy.UpstreamTagPage;
import io.berth.testsupport.HostileRegistry;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The upstream side against a real Berth in token mode, as Docker Hub answers a mirror. */
class OciUpstreamTest {
    @TempDir
    Path dir;

    Hub hub;

    @BeforeEach
    void start() throws Exception {
        hub = new Hub(dir.resolve("hub"));
    }

    @AfterEach
    void stop() {
        hub.close();
    }

    @Test
    void anAnonymousPullGoesThroughTheTokenFlowAndStreamsTheBlob() throws Exception {
        Digest latest = hub.images.image(repo("library/busybox"), "latest", "busybox");
        OciUpstream up = Hub.upstream(hub.uri(), "", "");
        assertEquals(Optional.of(latest), up.manifestDigest(repo("library/busybox"), new Tag("latest")));
        UpstreamManifest m =
                up.manifest(repo("library/busybox"), new Tag("latest"), 1 << 20).orElseThrow();
        assertEquals(latest, m.digest());
        assertEquals(latest, Digest.compute(DigestAlgorithm.SHA256, m.bytes()));
        assertEquals("application/vnd.oci.image.manifest.v1+json", m.mediaType());
        JsonNode layer = new ObjectMapper().readTree(m.bytes()).path("layers").path(0);
        Digest layerDigest = Digest.parse(layer.path("digest").asText());
        assertEquals(
                layer.path("size").asLong(),
                up.blobSize(repo("library/busybox"), layerDigest).getAsLong());
        try (UpstreamBlob b = up.blob(repo("library/busybox"), layerDigest).orElseThrow();
                InputStream in = b.body()) {
            byte[] bytes = in.readAllBytes();
            assertEquals(layerDigest, Digest.compute(DigestAlgorithm.SHA256, bytes));
            assertEquals(bytes.length, b.length().getAsLong());
        }
        // the bytes of a manifest asked for by digest are the same, checked against that digest
        assertArrayEquals(
                m.bytes(),
                up.manifest(repo("library/busybox"), latest, 1 << 20)
                        .orElseThrow()
                        .bytes());
    }

    @Test
    void whatTheUpstreamDoesNotHaveIsEmpty() throws Exception {
        hub.images.image(repo("library/busybox"), "latest", "busybox");
        OciUpstream up = Hub.upstream(hub.uri(), "", "");
        Digest nothing = Digest.compute(DigestAlgorithm.SHA256, "nothing".getBytes(StandardCharsets.UTF_8));
        assertEquals(Optional.empty(), up.manifest(repo("library/busybox"), new Tag("nope"), 1 << 20));
        assertEquals(Optional.empty(), up.manifestDigest(repo("library/busybox"), new Tag("nope")));
        assertEquals(Optional.empty(), up.blob(repo("library/busybox"), nothing));
        assertTrue(up.blobSize(repo("library/busybox"), nothing).isEmpty());
    }

    @Test
    void aUsersPrivateRepositoryNeedsItsCredentialsAndAWrongPasswordIsRefused() throws Exception {
        Digest app = hub.images.image(repo("private/app"), "1", "app");
        OciUpstream alice = Hub.upstream(hub.uri(), "alice", Hub.PASSWORD);
        assertEquals(
                app,
                alice.manifest(repo("private/app"), new Tag("1"), 1 << 20)
                        .orElseThrow()
                        .digest());

        UpstreamException anonymous = assertThrows(
                UpstreamException.class,
                () -> Hub.upstream(hub.uri(), "", "").manifest(repo("private/app"), new Tag("1"), 1 << 20));
        assertEquals(Kind.REFUSED, anonymous.kind(), anonymous.getMessage());

        String wrong = "not-" + Hub.PASSWORD;
        UpstreamException refused = assertThrows(
                UpstreamException.class,
                () -> Hub.upstream(hub.uri(), "alice", wrong).manifest(repo("private/app"), new Tag("1"), 1 << 20));
        assertEquals(Kind.REFUSED, refused.kind(), refused.getMessage());
        assertTrue(refused.getMessage().startsWith("upstream hub refused Berth's credentials"), refused.getMessage());
        for (Throwable t = refused; t != null; t = t.getCause()) {
            assertFalse(String.valueOf(t.getMessage()).contains(wrong), t.toString());
        }
    }

    @Test
    void manifestBytesThatDoNotMatchTheirDigestAreInvalid() throws Exception {
        Digest latest = hub.images.image(repo("library/busybox"), "latest", "busybox");
        byte[] other = "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\"}"
                .getBytes(StandardCharsets.UTF_8);
        try (HostileRegistry liar = new HostileRegistry(hub.uri())) {
            // the tag's bytes swapped, its Docker-Content-Digest kept; by digest, other bytes outright
            liar.rule(x -> {
                if (x.getRequestURI().getPath().startsWith("/v2/library/busybox/manifests/")
                        && x.getRequestMethod().equals("GET")) {
                    HostileRegistry.answer(
                            x,
                            200,
                            "application/vnd.oci.image.manifest.v1+json",
                            other,
                            "Docker-Content-Digest",
                            latest.toString());
                    return true;
                }
                return false;
            });
            OciUpstream up = Hub.upstream(liar.uri(), "", "");
            UpstreamException byTag = assertThrows(
                    UpstreamException.class, () -> up.manifest(repo("library/busybox"), new Tag("latest"), 1 << 20));
            assertEquals(Kind.INVALID, byTag.kind(), byTag.getMessage());
            UpstreamException byDigest =
                    assertThrows(UpstreamException.class, () -> up.manifest(repo("library/busybox"), latest, 1 << 20));
            assertEquals(Kind.INVALID, byDigest.kind(), byDigest.getMessage());
            UpstreamException tooLarge = assertThrows(
                    UpstreamException.class, () -> up.manifest(repo("library/busybox"), new Tag("latest"), 10));
            assertEquals(Kind.INVALID, tooLarge.kind(), tooLarge.getMessage());
        }
    }

    @Test
    void serverErrorsAreUnavailableAndA429IsThrottledWithItsRetryAfter() throws Exception {
        hub.images.image(repo("library/busybox"), "latest", "busybox");
        try (HostileRegistry sick = new HostileRegistry(hub.uri())) {
            sick.rule(x -> {
                String p = x.getRequestURI().getPath();
                if (p.contains("/manifests/five")) {
                    HostileRegistry.answer(x, 503, "text/plain", "down".getBytes(StandardCharsets.UTF_8));
                    return true;
                }
                if (p.contains("/manifests/slow")) {
                    HostileRegistry.answer(x, 429, "text/plain", new byte[0], "Retry-After", "7");
                    return true;
                }
                if (p.contains("/manifests/forever")) {
                    HostileRegistry.answer(x, 429, "text/plain", new byte[0], "Retry-After", "999999");
                    return true;
                }
                return false;
            });
            OciUpstream up = Hub.upstream(sick.uri(), "", "");
            UpstreamException five = assertThrows(
                    UpstreamException.class, () -> up.manifest(repo("library/busybox"), new Tag("five"), 1 << 20));
            assertEquals(Kind.UNAVAILABLE, five.kind());
            UpstreamException slow = assertThrows(
                    UpstreamException.class, () -> up.manifest(repo("library/busybox"), new Tag("slow"), 1 << 20));
            assertEquals(Kind.THROTTLED, slow.kind());
            assertEquals(Optional.of(Duration.ofSeconds(7)), slow.retryAfter());
            UpstreamException forever = assertThrows(
                    UpstreamException.class, () -> up.manifest(repo("library/busybox"), new Tag("forever"), 1 << 20));
            assertEquals(Optional.of(Duration.ofHours(1)), forever.retryAfter(), "bounded to an hour");
        }
    }

    @Test
    void tagsComePageByPageAndReferrersFallBackToTheTagSchema() throws Exception {
        Digest a = hub.images.image(repo("library/busybox"), "a", "a");
        hub.images.image(repo("library/busybox"), "b", "b");
        hub.images.image(repo("library/busybox"), "c", "c");
        OciUpstream up = Hub.upstream(hub.uri(), "", "");
        UpstreamTagPage first =
                up.tags(repo("library/busybox"), Optional.empty(), 2).orElseThrow();
        assertEquals(2, first.tags().size());
        assertEquals(Optional.of(first.tags().get(1).value()), first.next());
        UpstreamTagPage rest = up.tags(repo("library/busybox"), first.next(), 2).orElseThrow();
        assertEquals(1, rest.tags().size());
        assertEquals(
                Optional.empty(),
                up.tags(repo("library/none"), Optional.empty(), 2),
                "a 404 is no such repository, not an empty one");

        Digest signature = hub.images.referrer(repo("library/busybox"), a, "sig");
        UpstreamReferrers api =
                up.referrers(repo("library/busybox"), a, Optional.empty()).orElseThrow();
        assertTrue(new String(api.index(), StandardCharsets.UTF_8).contains(signature.toString()));
        // a registry without the referrers API: the index pushed under the tag sha256-<hex>
        byte[] index = api.index();
        hub.images.put(repo("library/busybox"), "sha256-" + a.hex(), "application/vnd.oci.image.index.v1+json", index);
        try (HostileRegistry old = new HostileRegistry(hub.uri())) {
            old.rule(x -> {
                if (x.getRequestURI().getPath().contains("/referrers/")) {
                    HostileRegistry.answer(x, 404, "text/plain", "404 page not found".getBytes(StandardCharsets.UTF_8));
                    return true;
                }
                return false;
            });
            UpstreamReferrers fallback = Hub.upstream(old.uri(), "", "")
                    .referrers(repo("library/busybox"), a, Optional.empty())
                    .orElseThrow();
            assertArrayEquals(index, fallback.index());
            assertFalse(fallback.filtered());
            assertTrue(
                    old.seen("/v2/library/busybox/manifests/sha256-" + a.hex()).size() > 0);
        }
    }
}
