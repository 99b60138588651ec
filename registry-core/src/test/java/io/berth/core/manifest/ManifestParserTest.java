package io.berth.core.manifest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.berth.core.error.ErrorCode;
import io.berth.core.error.RegistryException;
import io.berth.core.model.MediaTypes;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

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
                  {"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"%s","size":7}]}"""
                .formatted(D1, D2)));
        assertEquals(MediaTypes.OCI_INDEX, m.mediaType());
        assertEquals(2, m.children().size());
        assertTrue(m.blobs().isEmpty());
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "not json", "[]", "{}", "{\"schemaVersion\":1}", "{\"schemaVersion\":\"2\"}",
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
        RegistryException e = assertThrows(RegistryException.class, () -> ManifestParser.parse(MediaTypes.OCI_INDEX,
                bytes("{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
                        + "\"config\":{\"mediaType\":\"a\",\"digest\":\"" + D1 + "\",\"size\":1},\"layers\":[]}")));
        assertEquals(ErrorCode.MANIFEST_INVALID, e.code());
    }

    @Test
    void deeplyNestedJsonIsRejectedNotCrashing() {
        String deep = "{\"schemaVersion\":2,\"annotations\":" + "[".repeat(5000) + "]".repeat(5000) + "}";
        RegistryException e = assertThrows(RegistryException.class, () -> ManifestParser.parse(null, bytes(deep)));
        assertEquals(ErrorCode.MANIFEST_INVALID, e.code());
    }
}
