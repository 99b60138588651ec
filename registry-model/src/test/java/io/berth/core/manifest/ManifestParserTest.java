package io.berth.core.manifest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.management.ThreadMXBean;
import io.berth.core.error.ErrorCode;
import io.berth.core.error.RegistryException;
import io.berth.core.model.MediaTypes;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class ManifestParserTest {
    static final String D1 = "sha256:" + "1".repeat(64);
    static final String D2 = "sha256:" + "2".repeat(64);
    static final String D3 = "sha256:" + "3".repeat(64);

    static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void imageManifestWithSubjectAndArtifactType() {
        ParsedManifest m = ManifestParser.parse(MediaTypes.OCI_MANIFEST, bytes("""
                {"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",
                 "artifactType":"application/vnd.example.sbom",
                 "config":{"mediaType":"application/vnd.oci.empty.v1+json","digest":"%s","size":2},
                 "layers":[{"mediaType":"application/x","digest":"%s","size":5},
                           {"mediaType":"application/x","digest":"%s","size":5,"urls":["https://example.com/l"]}],
                 "subject":{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"%s","size":10},
                 "annotations":{"org.example":"yes"}}""".formatted(D1, D2, D3, D1)));
        assertEquals(3, m.blobs().size());
        assertTrue(m.blobs().get(2).isExternal());
        assertEquals(D1, m.subject().orElseThrow().toString());
        assertEquals("application/vnd.example.sbom", m.artifactType());
        assertEquals("yes", m.annotations().get("org.example"));
    }

    @Test
    void artifactTypeDefaultsToConfigMediaType() {
        ParsedManifest m = ManifestParser.parse(MediaTypes.DOCKER_MANIFEST, bytes("""
                {"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json",
                 "config":{"mediaType":"application/vnd.docker.container.image.v1+json","digest":"%s","size":2},
                 "layers":[]}""".formatted(D1)));
        assertEquals("application/vnd.docker.container.image.v1+json", m.artifactType());
    }

    @Test
    void indexListsChildren() {
        ParsedManifest m = ManifestParser.parse(MediaTypes.OCI_INDEX, bytes("""
                {"schemaVersion":2,"manifests":[
                  {"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"%s","size":7,
                   "platform":{"architecture":"amd64","os":"linux"}},
                  {"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"%s","size":7}]}""".formatted(D1, D2)));
        assertEquals(MediaTypes.OCI_INDEX, m.mediaType());
        assertEquals(2, m.children().size());
        assertTrue(m.blobs().isEmpty());
    }

    @ParameterizedTest
    @ValueSource(
            strings = {
                "not json",
                "[]",
                "{}",
                "{\"schemaVersion\":1}",
                "{\"schemaVersion\":\"2\"}",
                "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\"}",
                "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"config\":{},\"layers\":[]}",
                "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"config\":{\"mediaType\":\"a\",\"digest\":\"sha256:zz\",\"size\":1},\"layers\":[]}",
                "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"config\":{\"mediaType\":\"a\",\"digest\":\"sha256:1111111111111111111111111111111111111111111111111111111111111111\",\"size\":-1},\"layers\":[]}",
                "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.index.v1+json\"}",
                "{\"schemaVersion\":2,\"mediaType\":\"text/plain\",\"manifests\":[]}",
                "{\"schemaVersion\":2,\"schemaVersion\":2,\"manifests\":[]}"
            })
    void malformedManifestsAreManifestInvalid(String body) {
        RegistryException e = assertThrows(RegistryException.class, () -> ManifestParser.parse(null, bytes(body)));
        assertEquals(ErrorCode.MANIFEST_INVALID, e.code());
    }

    @Test
    void contentTypeMustMatchDeclaredMediaType() {
        RegistryException e = assertThrows(
                RegistryException.class,
                () -> ManifestParser.parse(
                        MediaTypes.OCI_INDEX,
                        bytes("{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
                                + "\"config\":{\"mediaType\":\"a\",\"digest\":\"" + D1
                                + "\",\"size\":1},\"layers\":[]}")));
        assertEquals(ErrorCode.MANIFEST_INVALID, e.code());
    }

    @Test
    void deeplyNestedJsonIsRejectedNotCrashing() {
        String deep = "{\"schemaVersion\":2,\"annotations\":" + "[".repeat(5000) + "]".repeat(5000) + "}";
        RegistryException e = assertThrows(RegistryException.class, () -> ManifestParser.parse(null, bytes(deep)));
        assertEquals(ErrorCode.MANIFEST_INVALID, e.code());
    }

    /** A 4 MiB payload: {@code head}, {@code unit} repeated to fill it, {@code tail}. */
    static byte[] fill(String head, String unit, String separator, String tail) {
        int n = ((4 << 20) - head.length() - tail.length()) / (unit.length() + separator.length());
        StringBuilder b = new StringBuilder(4 << 20).append(head);
        for (int i = 0; i < n; i++) {
            b.append(i == 0 ? "" : separator).append(unit);
        }
        return bytes(b.append(tail).toString());
    }

    static final String IMAGE_HEAD = "{\"schemaVersion\":2,\"mediaType\":\"" + MediaTypes.OCI_MANIFEST + "\","
            + "\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"digest\":\"" + D1
            + "\",\"size\":2},";

    /**
     * Hostile 4 MiB payloads from the review: each is refused as MANIFEST_INVALID, and parsing it
     * allocates a small part of what a JSON tree of it took (4 MiB of {@code {}} elements became about
     * 100 MB of tree before any check). Allocation is counted by the JVM for this thread.
     */
    @Test
    void hostilePayloadsAreRefusedWithBoundedMemory() {
        Map<String, byte[]> hostile = new LinkedHashMap<>();
        hostile.put("layers of {}", fill(IMAGE_HEAD + "\"layers\":[", "{}", ",", "]}"));
        hostile.put("an unknown member of {}", fill("{\"schemaVersion\":2,\"x\":[", "{}", ",", "]}"));
        hostile.put("an unknown member of []", fill("{\"schemaVersion\":2,\"x\":[", "[]", ",", "]}"));
        hostile.put("deep nesting", fill("{\"schemaVersion\":2,\"x\":", "[", "", ""));
        hostile.put("many keys", manyKeys("{\"schemaVersion\":2,\"x\":{"));
        hostile.put("many annotations", manyKeys(IMAGE_HEAD + "\"layers\":[],\"annotations\":{"));
        hostile.put("many descriptor annotations", manyKeys(IMAGE_HEAD + "\"layers\":[{\"annotations\":{"));
        hostile.put(
                "many urls",
                fill(
                        IMAGE_HEAD + "\"layers\":[{\"mediaType\":\"a\",\"digest\":\"" + D2 + "\",\"size\":1,\"urls\":[",
                        "\"\"",
                        ",",
                        "]}]}"));
        hostile.put("a huge unknown string", fill("{\"schemaVersion\":2,\"x\":\"", "x", "", "\"}"));
        for (var e : hostile.entrySet()) {
            long before = allocated();
            RegistryException error =
                    assertThrows(RegistryException.class, () -> ManifestParser.parse(null, e.getValue()), e.getKey());
            long allocated = allocated() - before;
            assertEquals(ErrorCode.MANIFEST_INVALID, error.code(), e.getKey());
            System.out.printf("%-28s %-90s %,d bytes allocated%n", e.getKey(), error.getMessage(), allocated);
            assertTrue(allocated < e.getValue().length, e.getKey() + ": " + allocated + " bytes allocated");
        }
    }

    /**
     * Strings the registry keeps (the manifest's own annotations) are read whole: a 4 MiB one costs
     * about five times its size while it is parsed (the parser's buffers and the string), as it did
     * in a tree.
     */
    @Test
    void aHugeAnnotationCostsAboutItsOwnSize() {
        byte[] payload = fill(IMAGE_HEAD + "\"layers\":[],\"annotations\":{\"a\":\"", "x", "", "\"}}");
        long before = allocated();
        ParsedManifest m = ManifestParser.parse(null, payload);
        long allocated = allocated() - before;
        assertEquals(
                payload.length - IMAGE_HEAD.length() - "\"layers\":[],\"annotations\":{\"a\":\"\"}}".length(),
                m.annotations().get("a").length());
        System.out.printf("a 4 MiB annotation: %,d bytes allocated%n", allocated);
        assertTrue(allocated < 6L * payload.length, allocated + " bytes allocated");
    }

    @Test
    void referencesBeyondTheLimitStopTheParseAtTheLimit() {
        String layer =
                "{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar\",\"digest\":\"" + D2 + "\",\"size\":1}";
        byte[] payload = fill(IMAGE_HEAD + "\"layers\":[", layer, ",", "]}");
        long before = allocated();
        RegistryException e = assertThrows(RegistryException.class, () -> ManifestParser.parse(null, payload, 100));
        long allocated = allocated() - before;
        assertEquals(ErrorCode.MANIFEST_INVALID, e.code());
        assertTrue(e.getMessage().contains("manifests.max-references"), e.getMessage());
        assertTrue(allocated < 1 << 20, allocated + " bytes allocated: the parse went on past the limit");
        // at the limit the same manifest is fine
        String hundred = IMAGE_HEAD + "\"layers\":[" + String.join(",", Collections.nCopies(99, layer)) + "]}";
        assertEquals(
                100, ManifestParser.parse(null, bytes(hundred), 100).blobs().size());
    }

    @Test
    void duplicateKeysAnywhereAndTrailingContentAreInvalid() {
        for (String body : new String[] {
            IMAGE_HEAD + "\"layers\":[],\"x\":{\"a\":1,\"a\":2}}",
            IMAGE_HEAD + "\"layers\":[],\"annotations\":{\"a\":\"1\",\"a\":\"2\"}}",
            IMAGE_HEAD + "\"layers\":[],\"layers\":[]}",
            IMAGE_HEAD + "\"layers\":[]} {}",
            IMAGE_HEAD + "\"layers\":[]",
            ""
        }) {
            RegistryException e =
                    assertThrows(RegistryException.class, () -> ManifestParser.parse(null, bytes(body)), body);
            assertEquals(ErrorCode.MANIFEST_INVALID, e.code(), body);
        }
        assertEquals(
                1,
                ManifestParser.parse(null, bytes(IMAGE_HEAD + "\"layers\":[]} \n"))
                        .blobs()
                        .size());
    }

    /** 4 MiB of {@code "kN":"v"} members in the object {@code head} opens. */
    static byte[] manyKeys(String head) {
        StringBuilder b = new StringBuilder(4 << 20).append(head);
        for (int i = 0; b.length() < (4 << 20) - 32; i++) {
            b.append(i == 0 ? "" : ",").append("\"k").append(i).append("\":\"v\"");
        }
        return bytes(b.append("}}").toString());
    }

    static long allocated() {
        return ((ThreadMXBean) ManagementFactory.getThreadMXBean()).getCurrentThreadAllocatedBytes();
    }
}
