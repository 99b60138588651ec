package io.berth.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.berth.core.model.Digest;
import java.io.IOException;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Configuration keys that bound work, tested through to behaviour on the wire. */
class ListingLimitsTest {
    static final ObjectMapper JSON = new ObjectMapper();
    static final String OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";

    @TempDir
    Path dir;

    static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    static String link(HttpResponse<?> res) {
        return res.headers().firstValue("Link").orElse(null);
    }

    /** Follows Link headers from {@code first}, collecting {@code field} of every page. */
    static List<String> walk(TestRegistry r, String first, String field) throws IOException {
        List<String> all = new ArrayList<>();
        String next = first;
        int pages = 0;
        while (next != null) {
            HttpResponse<byte[]> res = r.get(next);
            assertEquals(200, res.statusCode(), new String(res.body()));
            JSON.readTree(res.body())
                    .get(field)
                    .forEach(n ->
                            all.add(n.isTextual() ? n.asText() : n.get("digest").asText()));
            String l = link(res);
            next = l == null ? null : l.substring(1, l.indexOf('>'));
            assertTrue(++pages < 20);
        }
        return all;
    }

    @Test
    void thePageSizeLimitBoundsEveryListing() throws IOException {
        try (TestRegistry r = new TestRegistry(dir, Map.of("listing.max-page-size", "2"))) {
            for (String tag : List.of("a", "b", "c", "d", "e")) {
                r.pushImage("paged/app", tag, "seed-" + tag, "");
            }
            HttpResponse<byte[]> first = r.get("/v2/paged/app/tags/list");
            assertEquals(2, JSON.readTree(first.body()).get("tags").size(), "no n: the configured page size");
            assertEquals("</v2/paged/app/tags/list?n=2&last=b>; rel=\"next\"", link(first));
            HttpResponse<byte[]> big = r.get("/v2/paged/app/tags/list?n=1000");
            assertEquals(2, JSON.readTree(big.body()).get("tags").size(), "n is clamped to the page size");
            assertEquals("</v2/paged/app/tags/list?n=1000&last=b>; rel=\"next\"", link(big));
            assertEquals(List.of("a", "b", "c", "d", "e"), walk(r, "/v2/paged/app/tags/list", "tags"));

            for (String repo : List.of("c1/x", "c2/x", "c3/x")) {
                r.pushBlob(repo, bytes(repo));
            }
            assertEquals(List.of("c1/x", "c2/x", "c3/x", "paged/app"), walk(r, "/v2/_catalog", "repositories"));
        }
    }

    @Test
    void referrersArePagedWithLinks() throws IOException {
        try (TestRegistry r = new TestRegistry(dir, Map.of("listing.max-page-size", "2"))) {
            Digest subject = r.pushImage("refs/app", "v1", "subject", "");
            long subjectSize = r.get("/v2/refs/app/manifests/v1").body().length;
            Digest empty = r.pushBlob("refs/app", bytes("{}"));
            List<String> expected = new ArrayList<>();
            for (int i = 0; i < 5; i++) {
                String type = i % 2 == 0 ? "application/vnd.example.sig" : "application/vnd.example.sbom";
                byte[] m =
                        bytes("""
                        {"schemaVersion":2,"mediaType":"%s","artifactType":"%s",
                         "config":{"mediaType":"application/vnd.oci.empty.v1+json","digest":"%s","size":2},
                         "layers":[{"mediaType":"application/vnd.oci.empty.v1+json","digest":"%s","size":2}],
                         "subject":{"mediaType":"%s","digest":"%s","size":%d},
                         "annotations":{"n":"%d"}}""".formatted(OCI_MANIFEST, type, empty, empty, OCI_MANIFEST, subject, subjectSize, i));
                Digest d = TestRegistry.sha256(m);
                assertEquals(
                        201,
                        r.send("PUT", "/v2/refs/app/manifests/" + d, m, "Content-Type", OCI_MANIFEST)
                                .statusCode());
                expected.add(d.toString());
            }
            expected.sort(null);
            HttpResponse<byte[]> first = r.get("/v2/refs/app/referrers/" + subject);
            assertEquals(2, JSON.readTree(first.body()).get("manifests").size());
            assertTrue(link(first).contains("last="), link(first));
            assertEquals(expected, walk(r, "/v2/refs/app/referrers/" + subject, "manifests"));
            List<String> sigs = walk(
                    r, "/v2/refs/app/referrers/" + subject + "?artifactType=application/vnd.example.sig", "manifests");
            assertEquals(3, sigs.size(), "the filter survives the page links");
        }
    }

    @Test
    void manifestsWithTooManyReferencesAreInvalid() throws IOException {
        try (TestRegistry r = new TestRegistry(dir, Map.of("manifests.max-references", "3"))) {
            Digest config = r.pushBlob("refs/many", bytes("{}"));
            StringBuilder layers = new StringBuilder();
            for (int i = 0; i < 3; i++) {
                Digest l = r.pushBlob("refs/many", bytes("layer " + i));
                layers.append(i == 0 ? "" : ",")
                        .append("{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar\"," + "\"digest\":\"")
                        .append(l)
                        .append("\",\"size\":7}");
            }
            byte[] m = bytes("{\"schemaVersion\":2,\"mediaType\":\"" + OCI_MANIFEST + "\",\"config\":{\"mediaType\":"
                    + "\"application/vnd.oci.image.config.v1+json\",\"digest\":\"" + config + "\",\"size\":2},"
                    + "\"layers\":[" + layers + "]}");
            HttpResponse<byte[]> res = r.send("PUT", "/v2/refs/many/manifests/v1", m, "Content-Type", OCI_MANIFEST);
            assertEquals(400, res.statusCode());
            JsonNode error = JSON.readTree(res.body()).get("errors").get(0);
            assertEquals("MANIFEST_INVALID", error.get("code").asText());
            assertTrue(error.get("message").asText().contains("manifests.max-references"), error.toString());
            assertFalse(r.get("/v2/refs/many/tags/list").statusCode() == 200
                    && new String(r.get("/v2/refs/many/tags/list").body()).contains("v1"));
        }
    }

    @Test
    void theManifestSizeLimitIsTheConfiguredOne() throws IOException {
        try (TestRegistry r = new TestRegistry(dir, Map.of("manifests.max-size", "1KiB"))) {
            byte[] big = bytes("{\"schemaVersion\":2,\"pad\":\"" + "x".repeat(2000) + "\"}");
            HttpResponse<byte[]> res = r.send("PUT", "/v2/size/app/manifests/v1", big, "Content-Type", OCI_MANIFEST);
            assertEquals(413, res.statusCode(), new String(res.body()));
            assertTrue(new String(res.body()).contains("1024"), new String(res.body()));
        }
    }
}
