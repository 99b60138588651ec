package io.berth.http;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.berth.core.blob.FilesystemBlobStore;
import io.berth.core.manifest.ManifestParser;
import io.berth.core.metadata.ManifestRecord;
import io.berth.core.metadata.sqlite.SqliteMetadataStore;
import io.berth.core.model.Descriptor;
import io.berth.core.model.Digest;
import io.berth.core.model.RepositoryName;
import io.berth.core.model.Tag;
import io.berth.core.proxy.UpstreamException;
import io.berth.core.registry.Registry;
import io.berth.core.registry.RegistryOptions;
import io.berth.core.testing.Images;
import io.berth.core.testing.RegistryUpstream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Pull-through caches on the registry port: dispatch, {@code X-Berth-Cache}, and the upstream's errors as OCI errors. */
class PullThroughHttpTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final RepositoryName REMOTE = RepositoryName.of("library/app");
    private static final String BASE = "/v2/hub/library/app";
    private static final String ACCEPT = "application/vnd.oci.image.manifest.v1+json";

    @TempDir
    Path dir;

    Registry origin;
    Images images;
    RegistryUpstream upstream;
    TestRegistry cache;
    final HttpClient streaming = HttpClient.newHttpClient();

    @BeforeEach
    void open() throws IOException {
        origin = new Registry(
                new FilesystemBlobStore(dir.resolve("origin"), false),
                new SqliteMetadataStore(dir.resolve("origin.db")),
                RegistryOptions.defaults());
        images = new Images(origin);
        upstream = new RegistryUpstream("hub", origin).policy(Duration.ofMinutes(5), Duration.ofHours(1));
        cache = new TestRegistry(dir.resolve("cache"), Map.of(), RegistryUpstream.prefixed("hub", upstream));
    }

    @AfterEach
    void close() {
        streaming.shutdownNow();
        cache.close();
        origin.close();
    }

    private static String cacheHeader(HttpResponse<byte[]> r) {
        return cacheHeader(r.headers().firstValue("X-Berth-Cache"));
    }

    private static String cacheHeader(Optional<String> header) {
        return header.orElse("(none)");
    }

    private static JsonNode error(HttpResponse<byte[]> r) throws IOException {
        return JSON.readTree(r.body()).get("errors").get(0);
    }

    @Test
    void manifestsBlobsAndTagsOfACacheSayHowTheyWereServed() throws IOException {
        Digest d = images.image(REMOTE, "v1", "one");
        HttpResponse<byte[]> cold = cache.get(BASE + "/manifests/v1", "Accept", ACCEPT);
        assertEquals(200, cold.statusCode());
        assertEquals("miss", cacheHeader(cold));
        assertEquals(
                d.toString(), cold.headers().firstValue("Docker-Content-Digest").orElseThrow());
        HttpResponse<byte[]> warm = cache.get(BASE + "/manifests/v1", "Accept", ACCEPT);
        assertEquals("hit", cacheHeader(warm));
        assertArrayEquals(cold.body(), warm.body());
        assertEquals("hit", cacheHeader(cache.send("HEAD", BASE + "/manifests/" + d, null)));

        ManifestRecord m = origin.manifests().head(REMOTE, new Tag("v1"));
        Descriptor layer =
                ManifestParser.parse(m.mediaType(), m.payload()).blobs().get(1);
        byte[] expected;
        try (InputStream in =
                origin.blobs().open(REMOTE, origin.blobs().stat(REMOTE, layer.digest()), 0, layer.size())) {
            expected = in.readAllBytes();
        }
        assertEquals("miss", cacheHeader(cache.send("HEAD", BASE + "/blobs/" + layer.digest(), null)));
        HttpResponse<byte[]> blob = cache.get(BASE + "/blobs/" + layer.digest());
        assertEquals(200, blob.statusCode());
        assertEquals("miss", cacheHeader(blob));
        assertArrayEquals(expected, blob.body());
        HttpResponse<byte[]> again = cache.get(BASE + "/blobs/" + layer.digest());
        assertEquals("hit", cacheHeader(again));
        assertArrayEquals(expected, again.body());
        assertEquals(1, upstream.calls("blob"));

        HttpResponse<byte[]> tags = cache.get(BASE + "/tags/list");
        assertEquals(200, tags.statusCode());
        assertEquals("miss", cacheHeader(tags));
        assertEquals("v1", JSON.readTree(tags.body()).get("tags").get(0).asText());

        assertEquals("(none)", cacheHeader(cache.get("/v2/team/app/tags/list")), "local repositories: no header");

        HttpResponse<byte[]> none = cache.get("/v2/hub/library/none/tags/list");
        assertEquals(404, none.statusCode(), "a repository the upstream lacks, as a local one");
        assertEquals("NAME_UNKNOWN", error(none).get("code").asText());
    }

    @Test
    void aDueTagIsRevalidatedOrServedStaleWhenTheUpstreamIsDown() {
        upstream.policy(Duration.ZERO, Duration.ofHours(1)); // every pull revalidates
        images.image(REMOTE, "v1", "one");
        assertEquals("miss", cacheHeader(cache.get(BASE + "/manifests/v1", "Accept", ACCEPT)));
        assertEquals("revalidated", cacheHeader(cache.get(BASE + "/manifests/v1", "Accept", ACCEPT)));
        images.image(REMOTE, "v1", "two");
        assertEquals("refreshed", cacheHeader(cache.get(BASE + "/manifests/v1", "Accept", ACCEPT)));
        upstream.failWith(UpstreamException.Kind.UNREACHABLE, null);
        HttpResponse<byte[]> stale = cache.get(BASE + "/manifests/v1", "Accept", ACCEPT);
        assertEquals(200, stale.statusCode());
        assertEquals("stale", cacheHeader(stale));
    }

    @Test
    void uncachedContentWithTheUpstreamDownIs503AndThrottledIs429WithItsRetryAfter() throws IOException {
        images.image(REMOTE, "v1", "one");
        upstream.failWith(UpstreamException.Kind.UNREACHABLE, null);
        HttpResponse<byte[]> down = cache.get(BASE + "/manifests/v1", "Accept", ACCEPT);
        assertEquals(503, down.statusCode());
        assertEquals("UNAVAILABLE", error(down).get("code").asText());
        assertTrue(error(down).get("message").asText().contains("is unavailable"), new String(down.body()));
        assertTrue(down.headers().firstValue("Retry-After").isPresent());

        upstream.failWith(UpstreamException.Kind.THROTTLED, Duration.ofSeconds(42));
        HttpResponse<byte[]> throttled = cache.get(BASE + "/manifests/v1", "Accept", ACCEPT);
        assertEquals(429, throttled.statusCode());
        assertEquals("TOOMANYREQUESTS", error(throttled).get("code").asText());
        assertEquals("42", throttled.headers().firstValue("Retry-After").orElseThrow());

        upstream.failWith(UpstreamException.Kind.REFUSED, null);
        HttpResponse<byte[]> refused = cache.get(BASE + "/manifests/v1", "Accept", ACCEPT);
        assertEquals(502, refused.statusCode());
        assertEquals("UNKNOWN", error(refused).get("code").asText());
    }

    /**
     * On the wire, one keep-alive connection, as Go clients read it: every cache answer and every
     * upstream error is framed exactly (the next response parses), errors carry an OCI body and no
     * {@code X-Berth-Cache}, and a HEAD of either carries no body.
     */
    @Test
    void cacheAnswersAndUpstreamErrorsAreFramedExactlyOnOneConnection() throws IOException {
        Digest d = images.image(REMOTE, "v1", "one");
        images.image(REMOTE, "v2", "two");
        try (WireClient wire = new WireClient(cache.port())) {
            WireClient.Response cold = wire.exchange("GET", BASE + "/manifests/v1", null, "Accept", ACCEPT);
            assertEquals(200, cold.status(), cold.toString());
            assertEquals("miss", cold.header("X-Berth-Cache"));
            assertEquals(d.toString(), cold.header("Docker-Content-Digest"));
            WireClient.Response head = wire.exchange("HEAD", BASE + "/manifests/v1", null, "Accept", ACCEPT);
            assertEquals(200, head.status());
            assertEquals("hit", head.header("X-Berth-Cache"));
            assertEquals(0, head.body().length);
            assertEquals(String.valueOf(cold.body().length), head.header("Content-Length"));

            upstream.failWith(UpstreamException.Kind.UNREACHABLE, null);
            WireClient.Response down = wire.exchange("GET", BASE + "/manifests/v2", null, "Accept", ACCEPT);
            assertEquals(503, down.status(), down.toString());
            assertEquals(null, down.header("X-Berth-Cache"), "an error says nothing of the cache");
            assertEquals(
                    "UNAVAILABLE",
                    JSON.readTree(down.body()).get("errors").get(0).get("code").asText());
            assertTrue(down.header("Retry-After") != null, down.toString());
            WireClient.Response headDown = wire.exchange("HEAD", BASE + "/manifests/v2", null, "Accept", ACCEPT);
            assertEquals(503, headDown.status());
            assertEquals(0, headDown.body().length);
            assertEquals(null, headDown.header("X-Berth-Cache"));

            upstream.failWith(UpstreamException.Kind.THROTTLED, Duration.ofSeconds(42));
            WireClient.Response throttled = wire.exchange("GET", BASE + "/manifests/v2", null, "Accept", ACCEPT);
            assertEquals(429, throttled.status(), throttled.toString());
            assertEquals("42", throttled.header("Retry-After"));
            assertEquals(null, throttled.header("X-Berth-Cache"));
            WireClient.Response staleTags = wire.exchange("GET", BASE + "/tags/list", null);
            assertEquals(200, staleTags.status(), staleTags.toString());
            assertEquals("stale", staleTags.header("X-Berth-Cache"), "the cached tags while the upstream holds back");

            WireClient.Response stillCached = wire.exchange("GET", BASE + "/manifests/" + d, null, "Accept", ACCEPT);
            assertEquals(200, stillCached.status(), "the connection goes on after the errors");
            assertArrayEquals(cold.body(), stillCached.body());
            assertEquals("hit", stillCached.header("X-Berth-Cache"));
        }
    }

    @Test
    void referrersAndSignaturesPassThroughByteForByteAndStayWhileTheUpstreamIsDown() throws Exception {
        upstream.policy(Duration.ZERO, Duration.ofHours(1)); // every request asks the upstream again
        Digest subject = images.image(REMOTE, "v1", "one");
        Digest signature = images.referrer(REMOTE, subject, "sig");
        byte[] upstreamIndex = upstream.referrers(REMOTE, subject, Optional.empty())
                .orElseThrow()
                .index();

        assertEquals(200, cache.get(BASE + "/manifests/v1", "Accept", ACCEPT).statusCode(), "the image first");
        HttpResponse<byte[]> cold = cache.get(BASE + "/referrers/" + subject);
        assertEquals(200, cold.statusCode());
        assertEquals("miss", cacheHeader(cold));
        assertArrayEquals(upstreamIndex, cold.body(), "the upstream's bytes");
        assertEquals(
                "application/vnd.oci.image.index.v1+json",
                cold.headers().firstValue("Content-Type").orElseThrow());
        assertTrue(cold.headers().firstValue("OCI-Filters-Applied").isEmpty());
        HttpResponse<byte[]> filtered =
                cache.get(BASE + "/referrers/" + subject + "?artifactType=application/vnd.oci.image.config.v1%2Bjson");
        assertEquals(200, filtered.statusCode());
        assertEquals(
                "artifactType",
                filtered.headers().firstValue("OCI-Filters-Applied").orElseThrow());

        HttpResponse<byte[]> sig = cache.get(BASE + "/manifests/" + signature, "Accept", ACCEPT);
        assertEquals(200, sig.statusCode());
        assertArrayEquals(origin.manifests().head(REMOTE, signature).payload(), sig.body());
        assertEquals(
                signature.toString(),
                sig.headers().firstValue("Docker-Content-Digest").orElseThrow());

        upstream.failWith(UpstreamException.Kind.UNREACHABLE, null);
        HttpResponse<byte[]> stale = cache.get(BASE + "/referrers/" + subject);
        assertEquals(200, stale.statusCode());
        assertEquals("stale", cacheHeader(stale));
        assertArrayEquals(upstreamIndex, stale.body());
        assertEquals(
                200,
                cache.get(BASE + "/manifests/" + signature, "Accept", ACCEPT).statusCode(),
                "held");
        Digest other = images.referrer(REMOTE, subject, "other");
        HttpResponse<byte[]> uncached = cache.get(BASE + "/manifests/" + other, "Accept", ACCEPT);
        assertEquals(503, uncached.statusCode());
        assertEquals("UNAVAILABLE", error(uncached).get("code").asText());
        HttpResponse<byte[]> neverAsked = cache.get(BASE + "/referrers/" + other);
        assertEquals(503, neverAsked.statusCode());
        assertEquals("UNAVAILABLE", error(neverAsked).get("code").asText());
    }

    private Digest bigLayer(byte[] bytes, int seed) {
        new Random(seed).nextBytes(bytes);
        return images.blob(REMOTE, bytes).digest();
    }

    /**
     * A response whose body is read as it arrives. The client stays open until the test ends: closed
     * here, before the body was read, {@code HttpClient.close} waited for the stalled exchange for good.
     */
    private HttpResponse<InputStream> stream(URI uri) throws Exception {
        return streaming.send(HttpRequest.newBuilder(uri).build(), HttpResponse.BodyHandlers.ofInputStream());
    }

    @Test
    void aColdBlobIsStreamedToItsFirstClientWhileItArrives() throws Exception {
        byte[] layer = new byte[3 << 20];
        Digest digest = bigLayer(layer, 1);
        int first = 1 << 20;
        upstream.stallBlobsAfter(first);
        HttpResponse<InputStream> r = stream(cache.uri(BASE + "/blobs/" + digest));
        assertEquals(200, r.statusCode());
        assertEquals("miss", cacheHeader(r.headers().firstValue("X-Berth-Cache")));
        assertEquals(
                Long.toString(layer.length),
                r.headers().firstValue("Content-Length").orElseThrow());
        try (InputStream in = r.body()) {
            assertArrayEquals(
                    Arrays.copyOf(layer, first), in.readNBytes(first), "the first part before the rest arrived");
            upstream.resumeBlobs();
            assertArrayEquals(Arrays.copyOfRange(layer, first, layer.length), in.readAllBytes());
        }
        assertEquals("hit", cacheHeader(cache.get(BASE + "/blobs/" + digest)));
        assertEquals(1, upstream.calls("blob"));
    }

    @Test
    void wrongBytesAreCutBeforeTheirEndAndNeverKept() throws Exception {
        byte[] layer = new byte[1 << 20];
        Digest digest = bigLayer(layer, 2);
        upstream.corruptBlobs(true);
        upstream.stallBlobsAfter(layer.length);
        HttpResponse<InputStream> r = stream(cache.uri(BASE + "/blobs/" + digest));
        assertEquals(200, r.statusCode());
        assertEquals(
                Long.toString(layer.length),
                r.headers().firstValue("Content-Length").orElseThrow());
        ByteArrayOutputStream got = new ByteArrayOutputStream();
        try (InputStream in = r.body()) {
            byte[] part = in.readNBytes(layer.length - 64 * 1024);
            got.write(part);
            upstream.resumeBlobs();
            assertThrows(IOException.class, () -> in.transferTo(got), "a short body, not a complete one");
        }
        assertTrue(got.size() < layer.length, "cut before its end: " + got.size());
        // a blob within the withheld tail: no byte can leave before verification, so the answer is an error
        byte[] tiny = new byte[10_000];
        Digest small = bigLayer(tiny, 3);
        upstream.stallBlobsAfter(-1);
        HttpResponse<byte[]> refused = cache.get(BASE + "/blobs/" + small);
        assertEquals(502, refused.statusCode(), "nothing sent yet: the upstream's error");
        assertEquals("UNKNOWN", error(refused).get("code").asText());
        upstream.corruptBlobs(false);
        HttpResponse<byte[]> fixed = cache.get(BASE + "/blobs/" + digest);
        assertEquals(200, fixed.statusCode());
        assertArrayEquals(layer, fixed.body(), "nothing wrong was kept: fetched again");
        assertEquals(3, upstream.calls("blob"));
    }

    @Test
    void aBlobFillThatFailsBeforeItsFirstByteIsAnErrorWithoutACacheHeader() throws Exception {
        Digest wrong = bigLayer(new byte[10_000], 11);
        upstream.corruptBlobs(true);
        HttpResponse<byte[]> refused = cache.get(BASE + "/blobs/" + wrong);
        assertEquals(502, refused.statusCode());
        assertEquals("(none)", cacheHeader(refused), "an error says nothing of the cache");
        upstream.corruptBlobs(false);

        Digest broken = bigLayer(new byte[10_000], 12);
        upstream.stallBlobsAfter(Long.MAX_VALUE);
        upstream.failBlobBodies(); // the connection resets mid-body
        HttpResponse<byte[]> down = cache.get(BASE + "/blobs/" + broken);
        assertEquals(503, down.statusCode());
        assertEquals("UNAVAILABLE", error(down).get("code").asText());
        assertEquals("(none)", cacheHeader(down));
    }

    @Test
    void aBlobAnnouncedEmptyIsAnsweredOnlyOnceItIsVerified() throws Exception {
        byte[] layer = new byte[100_000];
        Digest digest = bigLayer(layer, 7);
        upstream.announceBlobLength(0); // a lying Content-Length: 0 for a blob that is not empty
        HttpResponse<byte[]> lie = cache.get(BASE + "/blobs/" + digest);
        assertEquals(502, lie.statusCode(), "not a complete empty body before verification");
        assertEquals("UNKNOWN", error(lie).get("code").asText());
        upstream.announceBlobLength(-1);
        HttpResponse<byte[]> fixed = cache.get(BASE + "/blobs/" + digest);
        assertEquals(200, fixed.statusCode());
        assertArrayEquals(layer, fixed.body(), "nothing of the lie was kept");
    }

    @Test
    void metricsCountReadsByOutcomeAndTheBytesFetchedAndSaved() throws Exception {
        byte[] layer = new byte[300_000];
        Digest digest = bigLayer(layer, 4);
        assertEquals("miss", cacheHeader(cache.get(BASE + "/blobs/" + digest)));
        assertEquals("hit", cacheHeader(cache.get(BASE + "/blobs/" + digest)));
        assertEquals("hit", cacheHeader(cache.get(BASE + "/blobs/" + digest)));
        String scrape = new String(cache.get("/metrics").body(), StandardCharsets.UTF_8);
        assertEquals(1.0, metric(scrape, "berth_proxy_reads_total{outcome=\"miss\",upstream=\"hub\"}"), scrape);
        assertEquals(2.0, metric(scrape, "berth_proxy_reads_total{outcome=\"hit\",upstream=\"hub\"}"), scrape);
        assertEquals(layer.length, metric(scrape, "berth_proxy_upstream_bytes_total{upstream=\"hub\"}"), scrape);
        assertEquals(2.0 * layer.length, metric(scrape, "berth_proxy_saved_bytes_total{upstream=\"hub\"}"), scrape);
        assertEquals(0.0, metric(scrape, "berth_proxy_blobs_rejected_total{upstream=\"hub\"}"), scrape);
        assertEquals(0.0, metric(scrape, "berth_proxy_reads_total{outcome=\"hit\",upstream=\"(removed)\"}"), scrape);
    }

    @Test
    void metricsAreCountedPerUpstream() throws Exception {
        cache.close();
        RegistryUpstream ghcr = new RegistryUpstream("ghcr", origin);
        cache = new TestRegistry(
                dir.resolve("cache2"), Map.of(), RegistryUpstream.prefixed(Map.of("hub", upstream, "ghcr", ghcr)));
        byte[] layer = new byte[200_000];
        Digest digest = bigLayer(layer, 5);
        assertEquals("miss", cacheHeader(cache.get(BASE + "/blobs/" + digest)));
        byte[] other = new byte[100_000];
        String ghcrBlob = "/v2/ghcr/" + REMOTE.value() + "/blobs/" + bigLayer(other, 6);
        assertEquals("miss", cacheHeader(cache.get(ghcrBlob)));
        assertEquals("hit", cacheHeader(cache.get(ghcrBlob)));
        assertEquals("hit", cacheHeader(cache.get(ghcrBlob)));
        String scrape = new String(cache.get("/metrics").body(), StandardCharsets.UTF_8);
        assertEquals(1.0, metric(scrape, "berth_proxy_reads_total{outcome=\"miss\",upstream=\"hub\"}"), scrape);
        assertEquals(0.0, metric(scrape, "berth_proxy_reads_total{outcome=\"hit\",upstream=\"hub\"}"), scrape);
        assertEquals(1.0, metric(scrape, "berth_proxy_reads_total{outcome=\"miss\",upstream=\"ghcr\"}"), scrape);
        assertEquals(2.0, metric(scrape, "berth_proxy_reads_total{outcome=\"hit\",upstream=\"ghcr\"}"), scrape);
        assertEquals(2.0 * other.length, metric(scrape, "berth_proxy_saved_bytes_total{upstream=\"ghcr\"}"), scrape);
        assertEquals(0.0, metric(scrape, "berth_proxy_saved_bytes_total{upstream=\"hub\"}"), scrape);
    }

    private static double metric(String scrape, String series) {
        return scrape.lines()
                .filter(l -> l.startsWith(series + " "))
                .mapToDouble(l -> Double.parseDouble(l.substring(series.length() + 1)))
                .findFirst()
                .orElseThrow(() -> new AssertionError("no " + series));
    }

    @Test
    void pushesAndDeletesOfACacheAreDeniedSayingWhy() throws IOException {
        Digest d = images.image(REMOTE, "v1", "one");
        cache.get(BASE + "/manifests/v1", "Accept", ACCEPT);
        HttpResponse<byte[]> push = cache.send("POST", BASE + "/blobs/uploads/", new byte[0]);
        assertEquals(403, push.statusCode());
        assertEquals("DENIED", error(push).get("code").asText());
        assertTrue(
                error(push).get("message").asText().contains("is a pull-through cache of upstream hub"),
                new String(push.body()));
        ManifestRecord m = origin.manifests().head(REMOTE, d);
        HttpResponse<byte[]> put =
                cache.send("PUT", BASE + "/manifests/v2", m.payload(), "Content-Type", m.mediaType());
        assertEquals(403, put.statusCode());
        assertEquals(403, cache.send("DELETE", BASE + "/manifests/" + d, null).statusCode());
        assertEquals(200, cache.get(BASE + "/manifests/v1", "Accept", ACCEPT).statusCode(), "still there");
    }
}
