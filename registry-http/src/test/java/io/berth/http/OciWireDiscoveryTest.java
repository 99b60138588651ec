package io.berth.http;

import static io.berth.http.OciWire.OCI_EMPTY;
import static io.berth.http.OciWire.OCI_INDEX;
import static io.berth.http.OciWire.OCI_MANIFEST;
import static io.berth.http.OciWire.assertError;
import static io.berth.http.OciWire.assertStatus;
import static io.berth.http.OciWire.bytes;
import static io.berth.http.OciWire.json;
import static io.berth.http.OciWire.next;
import static io.berth.http.OciWire.repo;
import static io.berth.http.OciWire.strings;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.berth.core.model.Digest;
import io.berth.core.model.DigestAlgorithm;
import io.berth.http.OciWire.Blob;
import io.berth.http.OciWire.Image;
import io.berth.http.OciWire.Manifest;
import java.io.IOException;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Content discovery on the wire (OCI distribution-spec v1.1): tag listing with {@code n},
 * {@code last} and {@code Link}, the referrers API with and without the {@code artifactType}
 * filter (the conformance suite's referrers: artifact types from {@code artifactType} and from the
 * config, an index with a subject, a subject pushed after its referrers, a subject never pushed),
 * and how deletes show in both. See {@link OciWireProtocolTest}.
 */
class OciWireDiscoveryTest {
    static final String TYPE_A = "application/vnd.nhl.peanut.butter.bagel";
    static final String TYPE_B = "application/vnd.nba.strawberry.jam.croissant";
    static final String TYPE_INDEX = "application/vnd.food.stand";
    static final String ANNOTATION = "org.opencontainers.conformance.test";

    @TempDir
    static Path dir;

    static TestRegistry r;

    @BeforeAll
    static void start() throws IOException {
        r = new TestRegistry(dir);
    }

    @AfterAll
    static void stop() {
        r.close();
    }

    static OciWire connect() throws IOException {
        return new OciWire(r.port());
    }

    static List<String> tags(WireClient.Response res) throws IOException {
        JsonNode body = json(res);
        assertEquals(Set.of("name", "tags"), fieldNames(body), res.toString());
        assertTrue(body.get("tags").isArray(), "an array, never null: " + res);
        return strings(body.get("tags"));
    }

    static Set<String> fieldNames(JsonNode node) {
        Set<String> names = new TreeSet<>();
        node.fieldNames().forEachRemaining(names::add);
        return names;
    }

    @Test
    void tagsAreListedSortedAndPagedWithLinks() throws IOException {
        String repo = repo("tags");
        Image image = OciWire.image("tags", 1);
        List<String> pushed = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            pushed.add("test" + i);
            pushed.add("TEST" + i);
        }
        pushed.addAll(List.of("latest", "1.0", "_under", "v1.0-rc.1"));
        List<String> sorted = new ArrayList<>(pushed);
        sorted.sort(null); // byte order: Go's sort.Strings, which the spec allows
        try (OciWire c = connect()) {
            c.pushImage(repo, "latest", image);
            for (String tag : pushed) {
                c.pushManifest(repo, tag, image.manifest());
            }
            String path = "/v2/" + repo + "/tags/list";
            WireClient.Response all = c.get(path);
            assertStatus(all, 200);
            assertEquals("application/json", all.header("Content-Type"));
            assertEquals(repo, json(all).get("name").asText());
            assertEquals(sorted, tags(all));
            assertNull(all.header("Link"), "everything on one page");
            WireClient.Response head = c.head(path);
            assertStatus(head, 200);
            assertEquals(Integer.toString(all.body().length), head.header("Content-Length"));

            // n=4 a page at a time, following Link: every tag once, in order
            List<String> walked = new ArrayList<>();
            String page = path + "?n=4";
            int pages = 0;
            while (page != null) {
                WireClient.Response res = c.get(page);
                assertStatus(res, 200);
                List<String> got = tags(res);
                walked.addAll(got);
                page = next(res);
                if (page != null) {
                    assertEquals(4, got.size(), "a full page before a Link");
                    assertEquals(path + "?n=4&last=" + URLEncoder.encode(got.get(3), StandardCharsets.UTF_8), page);
                }
                assertTrue(++pages <= 4, "pages: " + pages);
            }
            assertEquals(sorted, walked);

            // last alone: everything after it, not it
            String last = sorted.get(sorted.size() / 2 - 1);
            assertEquals(sorted.subList(sorted.size() / 2, sorted.size()), tags(c.get(path + "?last=" + last)));
            assertEquals(
                    sorted.subList(sorted.size() / 2, sorted.size() / 2 + 2), tags(c.get(path + "?n=2&last=" + last)));
            assertEquals(List.of(), tags(c.get(path + "?last=" + sorted.get(sorted.size() - 1))));
            // a last that is no tag of the repository: what sorts after it
            assertEquals(List.of("test0", "test1", "test2", "test3", "v1.0-rc.1"), tags(c.get(path + "?last=latest0")));
            // n=0: an empty list and no Link (spec); n the exact total: no Link
            WireClient.Response zero = c.get(path + "?n=0");
            assertEquals(List.of(), tags(zero));
            assertNull(zero.header("Link"));
            WireClient.Response exact = c.get(path + "?n=" + sorted.size());
            assertEquals(sorted, tags(exact));
            assertNull(exact.header("Link"));
            assertEquals(sorted, tags(c.get(path + "?n=1000")));
            assertError(c.get(path + "?n=-1"), 400, "UNSUPPORTED");
            assertError(c.get(path + "?n=two"), 400, "UNSUPPORTED");

            // a repository nobody pushed to
            JsonNode unknown = assertError(c.get("/v2/" + repo("tags-never") + "/tags/list"), 404, "NAME_UNKNOWN");
            assertTrue(unknown.get("message").asText().contains("tags-never"), unknown.toString());
            assertError(c.get("/v2/Proto/Upper/tags/list"), 400, "NAME_INVALID");
        }
    }

    /** Deletes show in the tag list at once; a repository with no tags left lists none. */
    @Test
    void theTagListFollowsDeletes() throws IOException {
        String repo = repo("tags-deleted");
        Image image = OciWire.image("tags deleted", 1);
        Image other = OciWire.image("tags deleted other", 1);
        try (OciWire c = connect()) {
            c.pushImage(repo, "tagtest0", image);
            c.pushManifest(repo, "tagtest1", image.manifest());
            c.pushImage(repo, "other", other);
            String path = "/v2/" + repo + "/tags/list";
            assertEquals(List.of("other", "tagtest0", "tagtest1"), tags(c.get(path)));
            assertStatus(c.delete("/v2/" + repo + "/manifests/tagtest0"), 202);
            assertEquals(List.of("other", "tagtest1"), tags(c.get(path)));
            assertStatus(
                    c.delete("/v2/" + repo + "/manifests/" + image.manifest().digest()), 202);
            assertEquals(List.of("other"), tags(c.get(path)));
            assertStatus(c.delete("/v2/" + repo + "/manifests/other"), 202);
            WireClient.Response none = c.get(path);
            assertStatus(none, 200);
            assertEquals(List.of(), tags(none));
        }
    }

    /** What the suite pushes for the referrers API, and what each listing must then hold. */
    record Referrer(Manifest manifest, String artifactType, Map<String, String> annotations) {}

    static Manifest artifact(
            Blob config,
            String configType,
            String artifactType,
            Map<String, Object> layer,
            Manifest subject,
            Map<String, String> annotations) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("schemaVersion", 2);
        m.put("mediaType", OCI_MANIFEST);
        if (artifactType != null) {
            m.put("artifactType", artifactType);
        }
        m.put("config", config.descriptor(configType));
        m.put("layers", List.of(layer));
        m.put("subject", subject.descriptor());
        if (!annotations.isEmpty()) {
            m.put("annotations", annotations);
        }
        return Manifest.of(m, OCI_MANIFEST);
    }

    @Test
    void referrersAreListedWithTheirArtifactTypesAndFiltered() throws IOException {
        String repo = repo("referrers");
        Image subject = OciWire.image("referrers subject", 1);
        Image neverPushed = OciWire.image("referrers missing subject", 1);
        Blob empty = Blob.of(bytes("{}"));
        Blob a = Blob.of(bytes("NHL Peanut Butter on my NHL bagel"));
        Blob b = Blob.of(bytes("NBA Strawberry Jam on my NBA croissant"));
        Manifest s = subject.manifest();
        // artifact type from the config media type (no artifactType field), and from artifactType
        Referrer aConfig = new Referrer(
                artifact(a, TYPE_A, null, empty.descriptor(OCI_EMPTY), s, Map.of(ANNOTATION, "test config a")),
                TYPE_A,
                Map.of(ANNOTATION, "test config a"));
        Referrer aLayer = new Referrer(
                artifact(empty, OCI_EMPTY, TYPE_A, a.descriptor(TYPE_A), s, Map.of(ANNOTATION, "test layer a")),
                TYPE_A,
                Map.of(ANNOTATION, "test layer a"));
        Map<String, Object> idx = new LinkedHashMap<>();
        idx.put("artifactType", TYPE_INDEX);
        idx.put("subject", s.descriptor());
        idx.put("annotations", Map.of(ANNOTATION, "test index"));
        Referrer index = new Referrer(
                OciWire.index(List.of(aConfig.manifest(), aLayer.manifest()), idx, DigestAlgorithm.SHA256),
                TYPE_INDEX,
                Map.of(ANNOTATION, "test index"));
        Referrer bConfig = new Referrer(
                artifact(b, TYPE_B, null, empty.descriptor(OCI_EMPTY), s, Map.of(ANNOTATION, "test config b")),
                TYPE_B,
                Map.of(ANNOTATION, "test config b"));
        Referrer bLayer = new Referrer(
                artifact(empty, OCI_EMPTY, TYPE_B, b.descriptor(TYPE_B), s, Map.of(ANNOTATION, "test layer b")),
                TYPE_B,
                Map.of(ANNOTATION, "test layer b"));
        // an index without artifactType: its entry has none
        Map<String, Object> plain = new LinkedHashMap<>();
        plain.put("subject", s.descriptor());
        Referrer untyped = new Referrer(OciWire.index(List.of(), plain, DigestAlgorithm.SHA256), null, Map.of());
        Referrer cLayer = new Referrer(
                artifact(empty, OCI_EMPTY, TYPE_B, b.descriptor(TYPE_B), neverPushed.manifest(), Map.of()),
                TYPE_B,
                Map.of());

        try (OciWire c = connect()) {
            // nothing yet: an empty index, not a 404
            assertReferrers(c, repo, s.digest(), null, List.of());
            c.pushBlob(repo, empty);
            c.pushBlob(repo, a);
            // referrers pushed before their subject exists
            for (Referrer ref : List.of(aConfig, aLayer, index)) {
                assertEquals(
                        s.digest().toString(),
                        pushByDigest(c, repo, ref.manifest()).header("OCI-Subject"));
            }
            c.pushImage(repo, "tagtest0", subject);
            c.pushBlob(repo, b);
            for (Referrer ref : List.of(bConfig, bLayer, untyped)) {
                assertEquals(
                        s.digest().toString(),
                        pushByDigest(c, repo, ref.manifest()).header("OCI-Subject"));
            }
            WireClient.Response missing = pushByDigest(c, repo, cLayer.manifest());
            assertEquals(neverPushed.manifest().digest().toString(), missing.header("OCI-Subject"));
            // a manifest without subject answers no OCI-Subject
            Image plainImage = OciWire.image("no subject", 0);
            c.pushBlob(repo, plainImage.config());
            assertNull(c.pushManifest(repo, "plain", plainImage.manifest()).header("OCI-Subject"));

            List<Referrer> all = List.of(aConfig, aLayer, index, bConfig, bLayer, untyped);
            assertReferrers(c, repo, s.digest(), null, all);
            assertReferrers(c, repo, s.digest(), TYPE_A, List.of(aConfig, aLayer));
            assertReferrers(c, repo, s.digest(), TYPE_B, List.of(bConfig, bLayer));
            assertReferrers(c, repo, s.digest(), TYPE_INDEX, List.of(index));
            assertReferrers(c, repo, s.digest(), "application/vnd.example.none", List.of());
            assertReferrers(c, repo, neverPushed.manifest().digest(), null, List.of(cLayer));
            assertReferrers(c, repo, Blob.of(bytes("hello world")).digest(), null, List.of());
            // referrers are per repository
            assertReferrers(c, repo("referrers-elsewhere"), s.digest(), null, List.of());
            assertError(c.get("/v2/" + repo + "/referrers/sha256:totallywrong"), 400, "DIGEST_INVALID");
            assertError(c.get("/v2/" + repo + "/referrers/tagtest0"), 400, "DIGEST_INVALID");
            assertError(c.post("/v2/" + repo + "/referrers/" + s.digest(), null), 405, "UNSUPPORTED");

            // a deleted referrer leaves the list; deleting the subject leaves its referrers listed
            assertStatus(
                    c.delete("/v2/" + repo + "/manifests/" + index.manifest().digest()), 202);
            assertStatus(
                    c.delete("/v2/" + repo + "/manifests/" + aLayer.manifest().digest()), 202);
            assertReferrers(c, repo, s.digest(), null, List.of(aConfig, bConfig, bLayer, untyped));
            assertReferrers(c, repo, s.digest(), TYPE_A, List.of(aConfig));
            assertStatus(c.delete("/v2/" + repo + "/manifests/" + s.digest()), 202);
            assertReferrers(c, repo, s.digest(), null, List.of(aConfig, bConfig, bLayer, untyped));
        }
    }

    static WireClient.Response pushByDigest(OciWire c, String repo, Manifest m) throws IOException {
        return c.pushManifest(repo, m.digest().toString(), m);
    }

    /**
     * GET (and HEAD) of the referrers of {@code subject}: 200, an OCI index, exactly the expected
     * descriptors (digest, media type, size, artifact type, annotations), the filter header when
     * filtered.
     */
    static void assertReferrers(OciWire c, String repo, Digest subject, String artifactType, List<Referrer> expected)
            throws IOException {
        String path = "/v2/" + repo + "/referrers/" + subject
                + (artifactType == null
                        ? ""
                        : "?artifactType=" + URLEncoder.encode(artifactType, StandardCharsets.UTF_8));
        WireClient.Response res = c.get(path);
        assertStatus(res, 200);
        assertEquals(OCI_INDEX, res.header("Content-Type"), path);
        assertEquals(artifactType == null ? null : "artifactType", res.header("OCI-Filters-Applied"), path);
        assertNull(res.header("Link"), path);
        JsonNode body = json(res);
        assertEquals(2, body.get("schemaVersion").asInt(), path);
        assertEquals(OCI_INDEX, body.get("mediaType").asText(), path);
        JsonNode manifests = body.get("manifests");
        assertTrue(manifests.isArray(), "an array, never null: " + res);
        Map<String, JsonNode> byDigest = new HashMap<>();
        manifests.forEach(d -> byDigest.put(d.get("digest").asText(), d));
        assertEquals(expected.size(), manifests.size(), path + ": " + res.text());
        assertEquals(expected.size(), byDigest.size(), "no descriptor twice: " + res.text());
        for (Referrer ref : expected) {
            JsonNode d = byDigest.get(ref.manifest().digest().toString());
            String context = path + " " + ref.manifest().digest() + ": " + res.text();
            assertTrue(d != null, context);
            assertEquals(ref.manifest().mediaType(), d.get("mediaType").asText(), context);
            assertEquals(ref.manifest().bytes().length, d.get("size").asLong(), context);
            if (ref.artifactType() == null) {
                assertFalse(d.has("artifactType"), "omitted for an index without one: " + context);
            } else {
                assertEquals(ref.artifactType(), d.get("artifactType").asText(), context);
            }
            Map<String, String> annotations = new HashMap<>();
            if (d.has("annotations")) {
                d.get("annotations")
                        .properties()
                        .forEach(e -> annotations.put(e.getKey(), e.getValue().asText()));
            }
            assertEquals(ref.annotations(), annotations, context);
        }
        WireClient.Response head = c.head(path);
        assertStatus(head, 200);
        assertEquals(Integer.toString(res.body().length), head.header("Content-Length"), path);
    }

    /** The suite's content-management walk, on one connection. */
    @Test
    void contentManagementAsTheSuiteWalksIt() throws IOException {
        String repo = repo("management");
        Image image = OciWire.image("management", 1);
        try (OciWire c = connect()) {
            c.pushImage(repo, "tagtest0", image);
            c.pushManifest(repo, "tagtest1", image.manifest());
            int before = tags(c.get("/v2/" + repo + "/tags/list")).size();
            assertStatus(c.delete("/v2/" + repo + "/manifests/tagtest0"), 202);
            assertStatus(
                    c.delete("/v2/" + repo + "/manifests/" + image.manifest().digest()), 202);
            c.assertNoManifest(repo, image.manifest().digest().toString());
            assertEquals(before - 2, tags(c.get("/v2/" + repo + "/tags/list")).size());
            for (Blob blob : image.blobs()) {
                assertStatus(c.delete("/v2/" + repo + "/blobs/" + blob.digest()), 202);
                c.assertNoBlob(repo, blob.digest());
            }
            assertTrue(c.exchanges() > 10, "one connection carried the walk: " + c.exchanges());
        }
    }
}
