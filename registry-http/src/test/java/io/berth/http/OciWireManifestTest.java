package io.berth.http;

import static io.berth.http.OciWire.DOCKER_CONFIG;
import static io.berth.http.OciWire.DOCKER_LAYER;
import static io.berth.http.OciWire.DOCKER_LIST;
import static io.berth.http.OciWire.DOCKER_MANIFEST;
import static io.berth.http.OciWire.OCI_CONFIG;
import static io.berth.http.OciWire.OCI_EMPTY;
import static io.berth.http.OciWire.OCI_INDEX;
import static io.berth.http.OciWire.OCI_LAYER;
import static io.berth.http.OciWire.OCI_MANIFEST;
import static io.berth.http.OciWire.assertError;
import static io.berth.http.OciWire.assertStatus;
import static io.berth.http.OciWire.bytes;
import static io.berth.http.OciWire.pretty;
import static io.berth.http.OciWire.repo;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.berth.core.model.Digest;
import io.berth.core.model.DigestAlgorithm;
import io.berth.http.OciWire.Blob;
import io.berth.http.OciWire.Image;
import io.berth.http.OciWire.Manifest;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Manifests on the wire, as the OCI distribution-spec v1.1 and its conformance data sets use them:
 * pushes by tag and by digest and pulls both ways (GET and HEAD), the digest headers, the
 * {@code ?tag=} parameters of a push by digest, sha512, every shape of manifest (images with and
 * without layers, Docker schema 2, indexes, nested and empty indexes, artifacts, custom and data
 * fields, non-distributable layers, a manifest of nearly 4 MiB), sparse manifests on and off, the
 * manifest error codes, and deletes of tags and manifests. See {@link OciWireProtocolTest}.
 */
class OciWireManifestTest {
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

    @Test
    void imagesPushedByTagArePulledByTagAndDigest() throws IOException {
        String repo = repo("image-tag");
        Image image = OciWire.image("by tag", 2);
        try (OciWire c = connect()) {
            c.assertNoManifest(repo, "v1");
            c.pushImage(repo, "v1", image);
            c.assertManifest(repo, "v1", image.manifest());
            c.assertManifest(repo, image.manifest().digest().toString(), image.manifest());
            // the same manifest under more tags, and by its digest: the same answers
            for (String tag : List.of("test0", "test1", "test2", "test3")) {
                c.pushManifest(repo, tag, image.manifest());
                c.assertManifest(repo, tag, image.manifest());
            }
            c.pushManifest(repo, image.manifest().digest().toString(), image.manifest());
            // the Location of the PUT is a pullable manifest URL
            WireClient.Response put = c.pushManifest(repo, "v2", image.manifest());
            WireClient.Response byLocation = c.get(put.header("Location"), "Accept", OCI_MANIFEST);
            assertStatus(byLocation, 200);
            assertEquals(image.manifest().digest(), Digest.compute(DigestAlgorithm.SHA256, byLocation.body()));
            // If-None-Match with the ETag: 304, no body
            WireClient.Response fresh = c.get(
                    "/v2/" + repo + "/manifests/v1",
                    "If-None-Match",
                    "\"" + image.manifest().digest() + "\"");
            assertStatus(fresh, 304);
            assertEquals(image.manifest().digest().toString(), fresh.header("Docker-Content-Digest"));
        }
    }

    /** sha512 manifests are pushed by digest (a tag push names no algorithm) and pulled by it. */
    @Test
    void sha512ManifestsArePushedAndPulledByDigest() throws IOException {
        String repo = repo("sha512");
        try (OciWire c = connect()) {
            List<Manifest> children = new ArrayList<>();
            for (String arch : List.of("amd64", "arm64")) {
                Image image = OciWire.image("sha512 " + arch, 1, DigestAlgorithm.SHA512, Map.of());
                for (Blob b : image.blobs()) {
                    c.pushBlob(repo, b);
                }
                c.pushManifest(repo, image.manifest().digest().toString(), image.manifest());
                c.assertManifest(repo, image.manifest().digest().toString(), image.manifest());
                children.add(image.manifest());
            }
            Manifest index = OciWire.index(children, Map.of(), DigestAlgorithm.SHA512);
            assertTrue(index.digest().toString().startsWith("sha512:"));
            c.pushManifest(repo, index.digest().toString(), index);
            c.assertManifest(repo, index.digest().toString(), index);
            // the sha256 digest of the same bytes names nothing the registry was given
            c.assertNoManifest(
                    repo, Digest.compute(DigestAlgorithm.SHA256, index.bytes()).toString());
            assertStatus(c.delete("/v2/" + repo + "/manifests/" + index.digest()), 202);
            c.assertNoManifest(repo, index.digest().toString());
        }
    }

    /**
     * Digest headers: every PUT answers {@code Docker-Content-Digest} equal to the digest it was
     * given; a PUT by a digest the body does not have is 400 DIGEST_INVALID and stores nothing.
     */
    @ParameterizedTest
    @EnumSource(DigestAlgorithm.class)
    void aPutByDigestMustMatchTheBody(DigestAlgorithm algorithm) throws IOException {
        String repo = repo("manifest-digest");
        Image image = OciWire.image("digest " + algorithm, 1, algorithm, Map.of());
        try (OciWire c = connect()) {
            for (Blob b : image.blobs()) {
                c.pushBlob(repo, b);
            }
            // the suite's bad-digest image: two spaces after the JSON
            byte[] spaced =
                    Arrays.copyOf(image.manifest().bytes(), image.manifest().bytes().length + 2);
            spaced[spaced.length - 2] = ' ';
            spaced[spaced.length - 1] = ' ';
            String path = "/v2/" + repo + "/manifests/" + image.manifest().digest();
            JsonNode e = assertError(c.put(path, spaced, "Content-Type", OCI_MANIFEST), 400, "DIGEST_INVALID");
            assertEquals(
                    image.manifest().digest().toString(),
                    e.get("detail").get("digest").asText());
            c.assertNoManifest(repo, image.manifest().digest().toString());
            c.assertNoManifest(repo, Digest.compute(algorithm, spaced).toString());
            for (String bad : List.of("sha256:baddigeststring", "sha512:" + "0".repeat(64), "md5:abc")) {
                assertError(
                        c.put(
                                "/v2/" + repo + "/manifests/" + bad,
                                image.manifest().bytes(),
                                "Content-Type",
                                OCI_MANIFEST),
                        400,
                        "DIGEST_INVALID");
                assertError(c.get("/v2/" + repo + "/manifests/" + bad), 400, "DIGEST_INVALID");
            }
            WireClient.Response ok = c.put(path, image.manifest().bytes(), "Content-Type", OCI_MANIFEST);
            assertStatus(ok, 201);
            assertEquals(image.manifest().digest().toString(), ok.header("Docker-Content-Digest"));
            assertEquals(path, ok.header("Location"));
            c.assertManifest(repo, image.manifest().digest().toString(), image.manifest());
        }
    }

    /**
     * {@code PUT /v2/<name>/manifests/<digest>?tag=a&tag=b} (distribution-spec v1.1, end-7b): the
     * manifest and every tag in one request, each accepted tag named in {@code OCI-Tag}; at least
     * ten per request; a bad tag refuses the whole push.
     */
    @ParameterizedTest
    @EnumSource(DigestAlgorithm.class)
    void tagParametersTagAPushByDigest(DigestAlgorithm algorithm) throws IOException {
        String repo = repo("tag-param");
        String prefix = "tag-param-" + algorithm.prefix();
        try (OciWire c = connect()) {
            List<Manifest> children = new ArrayList<>();
            int i = 0;
            for (String arch : List.of("amd64", "arm64")) {
                Image image = OciWire.image(prefix + arch, 1, algorithm, Map.of());
                for (Blob b : image.blobs()) {
                    c.pushBlob(repo, b);
                }
                String tag = prefix + "-" + i++;
                WireClient.Response put = c.put(
                        "/v2/" + repo + "/manifests/" + image.manifest().digest() + "?tag=" + tag,
                        image.manifest().bytes(),
                        "Content-Type",
                        OCI_MANIFEST);
                assertStatus(put, 201);
                assertEquals(List.of(tag), put.values("OCI-Tag"));
                assertEquals(image.manifest().digest().toString(), put.header("Docker-Content-Digest"));
                assertEquals("/v2/" + repo + "/manifests/" + image.manifest().digest(), put.header("Location"));
                c.assertManifest(repo, tag, image.manifest());
                children.add(image.manifest());
            }
            Manifest index = OciWire.index(children, Map.of(), algorithm);
            String tag = prefix + "-" + i;
            WireClient.Response put = c.put(
                    "/v2/" + repo + "/manifests/" + index.digest() + "?tag=" + prefix + "&tag=" + tag,
                    index.bytes(),
                    "Content-Type",
                    OCI_INDEX);
            assertStatus(put, 201);
            assertEquals(List.of(prefix, tag), put.values("OCI-Tag"));
            c.assertManifest(repo, prefix, index);
            c.assertManifest(repo, tag, index);
            c.assertManifest(repo, index.digest().toString(), index);
            List<String> listed = OciWire.strings(
                    OciWire.json(c.get("/v2/" + repo + "/tags/list")).get("tags"));
            assertEquals(List.of(prefix, prefix + "-0", prefix + "-1", prefix + "-2"), listed);

            // ten tags in one request, one of them moved from another manifest
            StringBuilder query = new StringBuilder();
            List<String> ten = new ArrayList<>();
            for (int t = 0; t < 10; t++) {
                String name = t == 0 ? prefix + "-0" : "ten." + t;
                ten.add(name);
                query.append(t == 0 ? "?" : "&").append("tag=").append(name);
            }
            WireClient.Response many = c.put(
                    "/v2/" + repo + "/manifests/" + index.digest() + query, index.bytes(), "Content-Type", OCI_INDEX);
            assertStatus(many, 201);
            assertEquals(ten, many.values("OCI-Tag"));
            for (String name : ten) {
                assertEquals(
                        index.digest().toString(),
                        c.head("/v2/" + repo + "/manifests/" + name).header("Docker-Content-Digest"),
                        name);
            }

            // a tag the grammar refuses: nothing of the push happens
            Image other = OciWire.image(prefix + " refused", 0, algorithm, Map.of());
            c.pushBlob(repo, other.config());
            JsonNode e = assertError(
                    c.put(
                            "/v2/" + repo + "/manifests/" + other.manifest().digest() + "?tag=fine&tag=-bad",
                            other.manifest().bytes(),
                            "Content-Type",
                            OCI_MANIFEST),
                    400,
                    "MANIFEST_INVALID");
            assertEquals("-bad", e.get("detail").get("tag").asText());
            c.assertNoManifest(repo, other.manifest().digest().toString());
            c.assertNoManifest(repo, "fine");
        }
    }

    /** The shapes of manifest the conformance data sets push, each pushed, pulled and deleted. */
    @Test
    void everyShapeOfManifestIsStoredExactlyAndDeletedInOrder() throws IOException {
        String repo = repo("shapes");
        try (OciWire c = connect()) {
            List<Shape> shapes = new ArrayList<>();
            // an image without layers, and one without a mediaType field (its Content-Type says it)
            shapes.add(Shape.of("no-layers", OciWire.image("no layers", 0)));
            Blob noTypeConfig = OciWire.config("no media type", "amd64", DigestAlgorithm.SHA256);
            Map<String, Object> noType = new LinkedHashMap<>();
            noType.put("schemaVersion", 2);
            noType.put("config", noTypeConfig.descriptor(OCI_CONFIG));
            noType.put("layers", List.of());
            shapes.add(new Shape("no-media-type", List.of(noTypeConfig), List.of(), Manifest.of(noType, OCI_MANIFEST)));
            // Docker schema 2
            Blob dockerConfig = OciWire.config("docker", "amd64", DigestAlgorithm.SHA256);
            Blob dockerLayer = Blob.random(300, 81);
            Map<String, Object> docker = new LinkedHashMap<>();
            docker.put("schemaVersion", 2);
            docker.put("mediaType", DOCKER_MANIFEST);
            docker.put("config", dockerConfig.descriptor(DOCKER_CONFIG));
            docker.put("layers", List.of(dockerLayer.descriptor(DOCKER_LAYER)));
            Manifest dockerImage = Manifest.of(docker, DOCKER_MANIFEST);
            shapes.add(new Shape("docker", List.of(dockerConfig, dockerLayer), List.of(), dockerImage));
            // a Docker manifest list of it
            Map<String, Object> list = new LinkedHashMap<>();
            list.put("schemaVersion", 2);
            list.put("mediaType", DOCKER_LIST);
            Map<String, Object> entry = new LinkedHashMap<>(dockerImage.descriptor());
            entry.put("platform", Map.of("architecture", "amd64", "os", "linux"));
            list.put("manifests", List.of(entry));
            shapes.add(new Shape("docker-list", List.of(), List.of(), Manifest.of(list, DOCKER_LIST)));
            // a two-platform index, with its images pushed by digest first
            Image amd = OciWire.image("index amd64", 1);
            Image arm = OciWire.image("index arm64", 1);
            Manifest index =
                    platformIndex(List.of(amd.manifest(), arm.manifest()), List.of("amd64", "arm64"), Map.of());
            shapes.add(new Shape(
                    "index", concat(amd.blobs(), arm.blobs()), List.of(amd.manifest(), arm.manifest()), index));
            // an index of indexes
            Image amd2 = OciWire.image("nested amd64", 1);
            Image arm2 = OciWire.image("nested arm64", 1);
            Manifest inner1 = platformIndex(List.of(amd2.manifest()), List.of("amd64"), Map.of());
            Manifest inner2 = platformIndex(List.of(arm2.manifest()), List.of("arm64"), Map.of());
            shapes.add(new Shape(
                    "index-of-index",
                    concat(amd2.blobs(), arm2.blobs()),
                    List.of(amd2.manifest(), arm2.manifest(), inner1, inner2),
                    OciWire.index(List.of(inner1, inner2), Map.of(), DigestAlgorithm.SHA256)));
            // an empty index
            shapes.add(new Shape(
                    "empty-index", List.of(), List.of(), OciWire.index(List.of(), Map.of(), DigestAlgorithm.SHA256)));
            // an artifact, an artifact without layers (the empty JSON blob as its layer), an artifact index
            Blob empty = Blob.of(bytes("{}"));
            Blob payload = Blob.random(128, 82);
            Manifest artifact = artifact(
                    "application/vnd.example.conf1",
                    empty,
                    payload.descriptor("application/vnd.example.conf1"),
                    Map.of());
            shapes.add(new Shape("artifact", List.of(empty, payload), List.of(), artifact));
            Manifest noLayers = artifact(
                    "application/vnd.example.conf1",
                    empty,
                    empty.descriptor(OCI_EMPTY),
                    Map.of("annotations", Map.of("org.example", "no layers")));
            shapes.add(new Shape("artifact-without-layers", List.of(empty), List.of(), noLayers));
            List<Manifest> listed = new ArrayList<>();
            for (String arch : List.of("amd64", "arm64")) {
                listed.add(artifact(
                        "application/vnd.example.conf1",
                        empty,
                        payload.descriptor("application/vnd.example.conf1"),
                        Map.of("annotations", Map.of("org.example.arch", arch))));
            }
            shapes.add(new Shape(
                    "artifact-index",
                    List.of(empty, payload),
                    listed,
                    OciWire.index(
                            listed, Map.of("artifactType", "application/vnd.example.conf1"), DigestAlgorithm.SHA256)));
            // fields of later specs, unknown fields and the descriptor data field, kept byte for byte
            Blob dataConfig = OciWire.config("data field", "amd64", DigestAlgorithm.SHA256);
            Map<String, Object> configDescriptor = new LinkedHashMap<>(dataConfig.descriptor(OCI_CONFIG));
            configDescriptor.put("data", Base64.getEncoder().encodeToString(dataConfig.bytes()));
            configDescriptor.put("newUnspecifiedField", Base64.getEncoder().encodeToString(bytes("hello world")));
            Map<String, Object> custom = new LinkedHashMap<>();
            custom.put("schemaVersion", 2);
            custom.put("mediaType", OCI_MANIFEST);
            custom.put("config", configDescriptor);
            custom.put("layers", List.of());
            custom.put("customField", Map.of("nested", List.of(1, "two", true)));
            shapes.add(new Shape("custom-fields", List.of(dataConfig), List.of(), Manifest.of(custom, OCI_MANIFEST)));
            // non-distributable layers: named with urls, never pushed
            Blob ndConfig = OciWire.config("non-distributable", "amd64", DigestAlgorithm.SHA256);
            Blob ndLayer = Blob.random(256, 83);
            Map<String, Object> foreign = new LinkedHashMap<>(
                    ndLayer.descriptor("application/vnd.oci.image.layer.nondistributable.v1.tar+gzip"));
            foreign.put(
                    "urls",
                    List.of("https://store.example.com/blobs/sha256/"
                            + ndLayer.digest().hex()));
            Blob normal = Blob.random(256, 84);
            Map<String, Object> nd = new LinkedHashMap<>();
            nd.put("schemaVersion", 2);
            nd.put("mediaType", OCI_MANIFEST);
            nd.put("config", ndConfig.descriptor(OCI_CONFIG));
            nd.put("layers", List.of(foreign, normal.descriptor(OCI_LAYER)));
            shapes.add(new Shape(
                    "non-distributable", List.of(ndConfig, normal), List.of(), Manifest.of(nd, OCI_MANIFEST)));
            // nearly 4 MiB of annotations (the suite's large manifest), below manifests.max-size
            Map<String, String> large = new LinkedHashMap<>();
            for (int i = 0; i < 390; i++) {
                large.put("large-annotation-" + i, "A".repeat(10_000));
            }
            Image big = OciWire.image("large", 1, DigestAlgorithm.SHA256, Map.of("annotations", large));
            assertTrue(big.manifest().bytes().length > 3_900_000);
            shapes.add(Shape.of("large-manifest", big));

            for (Shape s : shapes) {
                for (Blob b : s.blobs()) {
                    c.pushBlob(repo, b);
                }
                for (Manifest child : s.children()) {
                    c.pushManifest(repo, child.digest().toString(), child);
                }
                c.pushManifest(repo, s.tag(), s.manifest());
                c.assertManifest(repo, s.tag(), s.manifest());
                c.assertManifest(repo, s.manifest().digest().toString(), s.manifest());
                for (Blob b : s.blobs()) {
                    c.assertBlob(repo, b);
                }
            }
            // deleted top-down, as the suite does: the tag, the manifest, its children; blobs last
            List<Shape> reversed = new ArrayList<>(shapes);
            Collections.reverse(reversed);
            for (Shape s : reversed) {
                assertStatus(c.delete("/v2/" + repo + "/manifests/" + s.tag()), 202);
                c.assertNoManifest(repo, s.tag());
                assertStatus(
                        c.delete("/v2/" + repo + "/manifests/" + s.manifest().digest()), 202);
                c.assertNoManifest(repo, s.manifest().digest().toString());
                List<Manifest> children = new ArrayList<>(s.children());
                Collections.reverse(children);
                for (Manifest child : children) {
                    assertStatus(c.delete("/v2/" + repo + "/manifests/" + child.digest()), 202);
                    c.assertNoManifest(repo, child.digest().toString());
                }
            }
            for (Shape s : shapes) {
                for (Blob b : s.blobs()) {
                    WireClient.Response del = c.delete("/v2/" + repo + "/blobs/" + b.digest());
                    assertTrue(del.status() == 202 || del.status() == 404, del.toString()); // the shared {} blob
                    c.assertNoBlob(repo, b.digest());
                }
            }
        }
    }

    record Shape(String tag, List<Blob> blobs, List<Manifest> children, Manifest manifest) {
        static Shape of(String tag, Image image) {
            return new Shape(tag, image.blobs(), List.of(), image.manifest());
        }
    }

    static <T> List<T> concat(List<T> a, List<T> b) {
        List<T> all = new ArrayList<>(a);
        all.addAll(b);
        return all;
    }

    static Manifest platformIndex(List<Manifest> images, List<String> archs, Map<String, Object> extra) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("schemaVersion", 2);
        m.put("mediaType", OCI_INDEX);
        List<Map<String, Object>> list = new ArrayList<>();
        for (int i = 0; i < images.size(); i++) {
            Map<String, Object> d = new LinkedHashMap<>(images.get(i).descriptor());
            d.put("platform", Map.of("architecture", archs.get(i), "os", "linux"));
            list.add(d);
        }
        m.put("manifests", list);
        m.putAll(extra);
        return Manifest.of(m, OCI_INDEX);
    }

    static Manifest artifact(String artifactType, Blob config, Map<String, Object> layer, Map<String, Object> extra) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("schemaVersion", 2);
        m.put("mediaType", OCI_MANIFEST);
        m.put("artifactType", artifactType);
        m.put("config", config.descriptor(OCI_EMPTY));
        m.put("layers", List.of(layer));
        m.putAll(extra);
        return Manifest.of(m, OCI_MANIFEST);
    }

    /**
     * With {@code manifests.allow-sparse: true} an image whose layer, and an index whose child, the
     * repository does not hold are accepted and served as pushed; the config must still be there.
     * Off (the default), the same pushes are 400 MANIFEST_BLOB_UNKNOWN naming what is missing, and
     * nothing is stored (docs/api.md, docs/configuration.md).
     */
    @Test
    void sparseManifestsAreAcceptedOnlyWhenAllowed(@TempDir Path sparseDir) throws IOException {
        Image image = OciWire.image("sparse image", 2);
        Blob missingLayer = image.layers().get(0);
        Image child = OciWire.image("sparse child", 1);
        Manifest absent = Manifest.of(
                pretty(Map.of("random", Blob.random(1024, 91).digest().toString())),
                OCI_MANIFEST,
                DigestAlgorithm.SHA256);
        Manifest index = platformIndex(List.of(child.manifest(), absent), List.of("amd64", "arm64"), Map.of());
        Image noConfig = OciWire.image("sparse without config", 1);

        String refused = repo("sparse-off");
        try (OciWire c = connect()) {
            c.pushBlob(refused, image.config());
            c.pushBlob(refused, image.layers().get(1));
            JsonNode e = assertError(
                    c.put(
                            "/v2/" + refused + "/manifests/sparse-image",
                            image.manifest().bytes(),
                            "Content-Type",
                            OCI_MANIFEST),
                    400,
                    "MANIFEST_BLOB_UNKNOWN");
            assertEquals(
                    missingLayer.digest().toString(),
                    e.get("detail").get("digest").asText());
            c.assertNoManifest(refused, "sparse-image");
            c.assertNoManifest(refused, image.manifest().digest().toString());
            c.pushImage(refused, child.manifest().digest().toString(), child);
            e = assertError(
                    c.put("/v2/" + refused + "/manifests/sparse-index", index.bytes(), "Content-Type", OCI_INDEX),
                    400,
                    "MANIFEST_BLOB_UNKNOWN");
            assertEquals(
                    absent.digest().toString(), e.get("detail").get("digest").asText());
            c.assertNoManifest(refused, index.digest().toString());
        }

        String repo = repo("sparse-on");
        try (TestRegistry sparse = new TestRegistry(sparseDir, Map.of("manifests.allow-sparse", "true"));
                OciWire c = new OciWire(sparse.port())) {
            c.pushBlob(repo, image.config());
            c.pushBlob(repo, image.layers().get(1));
            c.pushManifest(repo, "sparse-image", image.manifest());
            c.assertManifest(repo, "sparse-image", image.manifest());
            c.assertManifest(repo, image.manifest().digest().toString(), image.manifest());
            c.assertNoBlob(repo, missingLayer.digest());
            c.assertBlob(repo, image.layers().get(1));

            c.pushImage(repo, child.manifest().digest().toString(), child);
            c.pushManifest(repo, "sparse-index", index);
            c.assertManifest(repo, "sparse-index", index);
            c.assertManifest(repo, child.manifest().digest().toString(), child.manifest());
            c.assertNoManifest(repo, absent.digest().toString());

            // the config is what makes an image usable: still required
            c.pushBlob(repo, noConfig.layers().get(0));
            JsonNode e = assertError(
                    c.put(
                            "/v2/" + repo + "/manifests/no-config",
                            noConfig.manifest().bytes(),
                            "Content-Type",
                            OCI_MANIFEST),
                    400,
                    "MANIFEST_BLOB_UNKNOWN");
            assertEquals(
                    noConfig.config().digest().toString(),
                    e.get("detail").get("digest").asText());

            for (String ref : List.of(
                    "sparse-index",
                    index.digest().toString(),
                    "sparse-image",
                    image.manifest().digest().toString())) {
                assertStatus(c.delete("/v2/" + repo + "/manifests/" + ref), 202);
                c.assertNoManifest(repo, ref);
            }
        }
    }

    @Test
    void manifestErrorsCarryTheirCodes() throws IOException {
        String repo = repo("manifest-errors");
        Image image = OciWire.image("errors", 1);
        try (OciWire c = connect()) {
            c.assertNoManifest(repo, "missing"); // a repository that does not exist
            for (Blob b : image.blobs()) {
                c.pushBlob(repo, b);
            }
            c.assertNoManifest(repo, "missing-tag");
            c.assertNoManifest(repo, Blob.random(1024, 92).digest().toString());
            c.assertNoManifest(repo, ".INVALID_MANIFEST_NAME"); // no valid tag names it
            String put = "/v2/" + repo + "/manifests/v1";
            for (byte[] invalid : List.of(
                    bytes("blablabla"),
                    bytes("{}"),
                    bytes("[]"),
                    bytes("{\"schemaVersion\":2}"),
                    bytes("{\"schemaVersion\":1,\"name\":\"x\"}"),
                    new byte[0])) {
                assertError(c.put(put, invalid, "Content-Type", OCI_MANIFEST), 400, "MANIFEST_INVALID");
            }
            // Content-Type contradicting the manifest's mediaType
            assertError(c.put(put, image.manifest().bytes(), "Content-Type", OCI_INDEX), 400, "MANIFEST_INVALID");
            // an invalid descriptor: detail names the field
            JsonNode field = assertError(
                    c.put(
                            put,
                            bytes(new String(image.manifest().bytes())
                                    .replace(image.config().digest().toString(), "sha256:x")),
                            "Content-Type",
                            OCI_MANIFEST),
                    400,
                    "MANIFEST_INVALID");
            assertEquals("config.digest", field.get("detail").get("field").asText());
            // tags outside the grammar: MANIFEST_INVALID (the spec's code table has no tag code)
            for (String tag : List.of("-bad", ".bad", "a".repeat(129), "sp%20ace")) {
                assertError(
                        c.put(
                                "/v2/" + repo + "/manifests/" + tag,
                                image.manifest().bytes(),
                                "Content-Type",
                                OCI_MANIFEST),
                        400,
                        "MANIFEST_INVALID");
            }
            assertStatus(
                    c.put(
                            "/v2/" + repo + "/manifests/" + "a".repeat(128),
                            image.manifest().bytes(),
                            "Content-Type",
                            OCI_MANIFEST),
                    201);
            // a blob missing from the repository
            Image missing = OciWire.image("errors missing", 1);
            c.pushBlob(repo, missing.config());
            JsonNode unknown = assertError(
                    c.put(put, missing.manifest().bytes(), "Content-Type", OCI_MANIFEST), 400, "MANIFEST_BLOB_UNKNOWN");
            assertEquals(
                    missing.layers().get(0).digest().toString(),
                    unknown.get("detail").get("digest").asText());
            assertError(
                    c.put("/v2/Proto/Upper/manifests/v1", image.manifest().bytes(), "Content-Type", OCI_MANIFEST),
                    400,
                    "NAME_INVALID");
            // methods the route does not serve
            WireClient.Response patch = c.patch(put, image.manifest().bytes(), "Content-Type", OCI_MANIFEST);
            assertError(patch, 405, "UNSUPPORTED");
            assertEquals("DELETE, GET, HEAD, PUT", patch.header("Allow"));
            assertError(c.post(put, image.manifest().bytes(), "Content-Type", OCI_MANIFEST), 405, "UNSUPPORTED");
            assertError(c.get("/v2/" + repo + "/nothing/here"), 404, "UNSUPPORTED");
            c.assertNoManifest(repo, "v1");
        }
    }

    /**
     * Parameters on the request's {@code Content-Type} are ignored (spec: the registry SHOULD), and
     * the type served back carries none (SHOULD NOT include them).
     */
    @Test
    void contentTypeParametersAreIgnored() throws IOException {
        String repo = repo("content-type");
        Blob config = OciWire.config("content type", "amd64", DigestAlgorithm.SHA256);
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("schemaVersion", 2);
        body.put("config", config.descriptor(OCI_CONFIG));
        body.put("layers", List.of());
        Manifest untyped = Manifest.of(body, OCI_MANIFEST);
        Image typed = OciWire.image("content type typed", 0);
        try (OciWire c = connect()) {
            c.pushBlob(repo, config);
            c.pushBlob(repo, typed.config());
            for (Manifest m : List.of(untyped, typed.manifest())) {
                WireClient.Response put = c.put(
                        "/v2/" + repo + "/manifests/" + m.digest(),
                        m.bytes(),
                        "Content-Type",
                        m.mediaType() + "; charset=utf-8");
                assertStatus(put, 201);
                c.assertManifest(repo, m.digest().toString(), m);
            }
        }
    }

    /**
     * A GET that carries a body (the old suite's error-code check sends a manifest with its GET of
     * {@code sha256:totallywrong}): answered, and the body read off the connection.
     */
    @Test
    void aGetWithABodyIsAnsweredAndTheConnectionStaysInStep() throws IOException {
        String repo = repo("get-body");
        try (OciWire c = connect()) {
            for (int i = 0; i < 3; i++) {
                assertError(c.get("/v2/" + repo + "/manifests/sha256:totallywrong"), 400, "DIGEST_INVALID");
                assertError(
                        c.exchange(
                                "GET",
                                "/v2/" + repo + "/manifests/sha256:totallywrong",
                                bytes("blablabla"),
                                "Content-Type",
                                OCI_MANIFEST),
                        400,
                        "DIGEST_INVALID");
                assertError(
                        c.exchange(
                                "GET",
                                "/v2/" + repo + "/manifests/v1",
                                bytes("blablabla"),
                                "Content-Type",
                                OCI_MANIFEST),
                        404,
                        "MANIFEST_UNKNOWN");
                assertStatus(c.exchange("GET", "/v2/", bytes("{}"), "Content-Type", "application/json"), 200);
            }
        }
    }

    /** Over {@code manifests.max-size}: 413 SIZE_INVALID, and the connection stays in step. */
    @Test
    void aManifestOverTheSizeLimitIs413() throws IOException {
        String repo = repo("manifest-size");
        byte[] huge = new byte[4 * 1024 * 1024 + 10];
        Arrays.fill(huge, (byte) ' ');
        try (WireClient w = new WireClient(r.port())) {
            w.send("PUT", "/v2/" + repo + "/manifests/big", huge, "Content-Type", OCI_MANIFEST);
            WireClient.Response res = w.read("PUT");
            OciWire.checkFraming(res, "/v2/");
            JsonNode e = assertError(res, 413, "SIZE_INVALID");
            assertTrue(e.get("message").asText().contains(Long.toString(4 * 1024 * 1024)), e.toString());
            if ("close".equals(res.header("Connection"))) {
                w.assertClosedByServer();
            } else {
                w.send("GET", "/v2/", null);
                assertStatus(w.read("GET"), 200);
                w.assertNothingMore(200);
            }
        }
    }

    /**
     * Deletes (content management): a tag delete removes only the tag, a manifest delete the
     * manifest and every tag on it; each 202, then 404; a second delete 404.
     */
    @Test
    void tagAndManifestDeletesAnswer202ThenTheyAreGone() throws IOException {
        String repo = repo("delete-manifest");
        Image image = OciWire.image("delete", 1);
        try (OciWire c = connect()) {
            c.pushImage(repo, "keep", image);
            c.pushManifest(repo, "drop", image.manifest());
            WireClient.Response tag = c.delete("/v2/" + repo + "/manifests/drop");
            assertStatus(tag, 202);
            assertEquals("0", tag.header("Content-Length"));
            c.assertNoManifest(repo, "drop");
            c.assertManifest(repo, "keep", image.manifest());
            c.assertManifest(repo, image.manifest().digest().toString(), image.manifest());
            assertError(c.delete("/v2/" + repo + "/manifests/drop"), 404, "MANIFEST_UNKNOWN");

            assertStatus(
                    c.delete("/v2/" + repo + "/manifests/" + image.manifest().digest()), 202);
            c.assertNoManifest(repo, image.manifest().digest().toString());
            c.assertNoManifest(repo, "keep");
            JsonNode again = assertError(
                    c.delete("/v2/" + repo + "/manifests/" + image.manifest().digest()), 404, "MANIFEST_UNKNOWN");
            assertEquals(
                    image.manifest().digest().toString(),
                    again.get("detail").get("digest").asText());
            assertError(
                    c.delete("/v2/" + repo("delete-never") + "/manifests/"
                            + image.manifest().digest()),
                    404,
                    "MANIFEST_UNKNOWN");
            assertError(c.delete("/v2/" + repo + "/manifests/sha256:bad"), 400, "DIGEST_INVALID");
            // the blobs stay until deleted themselves
            for (Blob b : image.blobs()) {
                c.assertBlob(repo, b);
                assertStatus(c.delete("/v2/" + repo + "/blobs/" + b.digest()), 202);
                c.assertNoBlob(repo, b.digest());
            }
        }
    }

    /**
     * Berth's documented refusal (docs/api.md): content something in the repository still needs is
     * not deleted — 409 DENIED naming what needs it — where the spec lists 202/404/400/405. Deleting
     * top-down, as the suite and clients do, works.
     */
    @Test
    void contentStillReferencedIsNotDeletedAndSaysWhy() throws IOException {
        String repo = repo("delete-referenced");
        Image image = OciWire.image("referenced", 1);
        Manifest index = platformIndex(List.of(image.manifest()), List.of("amd64"), Map.of());
        try (OciWire c = connect()) {
            c.pushImage(repo, image.manifest().digest().toString(), image);
            c.pushManifest(repo, "multi", index);
            JsonNode child = assertError(
                    c.delete("/v2/" + repo + "/manifests/" + image.manifest().digest()), 409, "DENIED");
            assertEquals(
                    index.digest().toString(), child.get("detail").get("index").asText());
            JsonNode blob = assertError(
                    c.delete("/v2/" + repo + "/blobs/" + image.config().digest()), 409, "DENIED");
            assertTrue(blob.toString().contains(image.manifest().digest().toString()), blob.toString());
            c.assertManifest(repo, image.manifest().digest().toString(), image.manifest());
            c.assertBlob(repo, image.config());
            assertStatus(c.delete("/v2/" + repo + "/manifests/" + index.digest()), 202);
            assertStatus(
                    c.delete("/v2/" + repo + "/manifests/" + image.manifest().digest()), 202);
            assertStatus(c.delete("/v2/" + repo + "/blobs/" + image.config().digest()), 202);
        }
    }
}
