package io.berth.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.berth.core.model.Digest;
import io.berth.core.model.DigestAlgorithm;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The distribution API spoken on one keep-alive socket ({@link WireClient}), with every response
 * checked as a strict client reads it before a test looks at it: an exact status line, the API
 * version and request id headers, a body framed by {@code Content-Length} (none for HEAD, 204 and
 * 304), and a spec-shaped JSON error body on every 4xx. Stray bytes would break the parse of the
 * next response; {@link #close()} checks that none follow the last one. Also the content a
 * protocol walk pushes: blobs, images, indexes and artifacts, built here in the test.
 */
final class OciWire implements AutoCloseable {
    static final ObjectMapper JSON = new ObjectMapper();

    static final String OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";
    static final String OCI_INDEX = "application/vnd.oci.image.index.v1+json";
    static final String OCI_CONFIG = "application/vnd.oci.image.config.v1+json";
    static final String OCI_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip";
    static final String OCI_EMPTY = "application/vnd.oci.empty.v1+json";
    static final String DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json";
    static final String DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json";
    static final String DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json";
    static final String DOCKER_LAYER = "application/vnd.docker.image.rootfs.diff.tar.gzip";
    static final String OCTET = "application/octet-stream";

    /** The codes of the spec's error table: a 4xx may carry no other. */
    static final Set<String> SPEC_CODES = Set.of(
            "BLOB_UNKNOWN",
            "BLOB_UPLOAD_INVALID",
            "BLOB_UPLOAD_UNKNOWN",
            "DIGEST_INVALID",
            "MANIFEST_BLOB_UNKNOWN",
            "MANIFEST_INVALID",
            "MANIFEST_UNKNOWN",
            "NAME_INVALID",
            "NAME_UNKNOWN",
            "SIZE_INVALID",
            "UNAUTHORIZED",
            "DENIED",
            "UNSUPPORTED",
            "TOOMANYREQUESTS");

    /** Reason phrases a status line may carry (RFC 9110, or the RFC 7231 wording it replaced). */
    private static final Map<Integer, Set<String>> REASONS = Map.ofEntries(
            Map.entry(200, Set.of("OK")),
            Map.entry(201, Set.of("Created")),
            Map.entry(202, Set.of("Accepted")),
            Map.entry(204, Set.of("No Content")),
            Map.entry(206, Set.of("Partial Content")),
            Map.entry(304, Set.of("Not Modified")),
            Map.entry(400, Set.of("Bad Request")),
            Map.entry(404, Set.of("Not Found")),
            Map.entry(405, Set.of("Method Not Allowed")),
            Map.entry(409, Set.of("Conflict")),
            Map.entry(413, Set.of("Content Too Large", "Payload Too Large", "Request Entity Too Large")),
            Map.entry(414, Set.of("URI Too Long", "Request-URI Too Long")),
            Map.entry(416, Set.of("Range Not Satisfiable", "Requested Range Not Satisfiable")));

    private static final AtomicInteger REPOSITORIES = new AtomicInteger();

    private final WireClient wire;
    private int exchanges;

    OciWire(int port) throws IOException {
        wire = new WireClient(port);
    }

    /** A repository no other test has used. */
    static String repo(String what) {
        return "proto/" + what + "-" + REPOSITORIES.incrementAndGet();
    }

    WireClient.Response get(String path, String... headers) throws IOException {
        return exchange("GET", path, null, headers);
    }

    WireClient.Response head(String path, String... headers) throws IOException {
        return exchange("HEAD", path, null, headers);
    }

    WireClient.Response delete(String path, String... headers) throws IOException {
        return exchange("DELETE", path, null, headers);
    }

    WireClient.Response post(String path, byte[] body, String... headers) throws IOException {
        return exchange("POST", path, body, headers);
    }

    WireClient.Response put(String path, byte[] body, String... headers) throws IOException {
        return exchange("PUT", path, body, headers);
    }

    WireClient.Response patch(String path, byte[] body, String... headers) throws IOException {
        return exchange("PATCH", path, body, headers);
    }

    /** One request and its response, checked as {@link #checkFraming} says. */
    WireClient.Response exchange(String method, String path, byte[] body, String... headers) throws IOException {
        wire.send(method, path, body, headers);
        return checked(method, path);
    }

    /** A request whose body goes out with chunked transfer coding (length unknown to the sender). */
    WireClient.Response exchangeChunked(String method, String path, List<byte[]> chunks, String... headers)
            throws IOException {
        wire.sendChunked(method, path, chunks, headers);
        return checked(method, path);
    }

    private WireClient.Response checked(String method, String path) throws IOException {
        WireClient.Response r = wire.read(method);
        exchanges++;
        checkFraming(r, path);
        return r;
    }

    /** How many exchanges this connection carried. */
    int exchanges() {
        return exchanges;
    }

    /** What every response of the API must be, whatever the request. */
    static void checkFraming(WireClient.Response r, String path) throws IOException {
        String context = r.method() + " " + path + " -> " + r;
        Set<String> reasons = REASONS.get(r.status());
        assertNotNull(reasons, "a status the walk does not expect: " + context);
        assertTrue(reasons.contains(r.reason()), "status line reason '" + r.reason() + "': " + context);
        assertNull(r.header("Transfer-Encoding"), "exact Content-Length framing, not chunked: " + context);
        boolean bodiless = r.method().equals("HEAD") || r.status() == 204 || r.status() == 304;
        if (!bodiless) {
            assertEquals(Integer.toString(r.body().length), r.header("Content-Length"), context);
        }
        if (path.startsWith("/v2")) {
            assertEquals("registry/2.0", r.header("Docker-Distribution-API-Version"), context);
        }
        assertNotNull(r.header("X-Request-Id"), context);
        boolean rangeRefused = r.status() == 416 && r.header("Content-Range") != null;
        if (rangeRefused) {
            // a blob range past the end: RFC 9110 §15.5.17, the current length and no body
            assertTrue(r.header("Content-Range").matches("bytes \\*/\\d+"), context);
            assertEquals(0, r.body().length, context);
        } else if (r.status() >= 400) {
            assertEquals("application/json", r.header("Content-Type"), context);
            if (!bodiless) {
                errors(r);
            }
        }
    }

    /**
     * The errors of a 4xx body, checked against the spec's shape: an object holding only
     * {@code errors}, a non-empty array of objects with a spec {@code code}, a string
     * {@code message} and an optional {@code detail}.
     */
    static JsonNode errors(WireClient.Response r) throws IOException {
        JsonNode body = JSON.readTree(r.body());
        assertTrue(body != null && body.isObject(), "a JSON object: " + r);
        assertEquals(List.of("errors"), fieldNames(body), r.toString());
        JsonNode errors = body.get("errors");
        assertTrue(errors.isArray() && !errors.isEmpty(), r.toString());
        for (JsonNode e : errors) {
            assertTrue(e.isObject(), r.toString());
            for (String field : fieldNames(e)) {
                assertTrue(Set.of("code", "message", "detail").contains(field), "field " + field + ": " + r);
            }
            String code = e.get("code").asText();
            assertTrue(code.matches("[A-Z_]+"), code);
            if (r.status() < 500) {
                assertTrue(SPEC_CODES.contains(code), code + " is not a code of the spec: " + r);
            }
            assertTrue(
                    e.get("message").isTextual() && !e.get("message").asText().isBlank(), r.toString());
            assertFalse(e.get("message").asText().contains("Exception"), r.toString());
        }
        return errors;
    }

    private static List<String> fieldNames(JsonNode node) {
        List<String> names = new ArrayList<>();
        node.fieldNames().forEachRemaining(names::add);
        return names;
    }

    /** Asserts an OCI error answer; returns its first error. A HEAD answer has the status and type only. */
    static JsonNode assertError(WireClient.Response r, int status, String code) throws IOException {
        assertEquals(status, r.status(), r.toString());
        if (r.method().equals("HEAD")) {
            assertEquals(0, r.body().length);
            return null;
        }
        JsonNode first = errors(r).get(0);
        assertEquals(code, first.get("code").asText(), r.toString());
        return first;
    }

    static void assertStatus(WireClient.Response r, int status) {
        assertEquals(status, r.status(), r::toString);
    }

    static JsonNode json(WireClient.Response r) throws IOException {
        return JSON.readTree(r.body());
    }

    static List<String> strings(JsonNode array) {
        List<String> out = new ArrayList<>();
        array.forEach(n -> out.add(n.asText()));
        return out;
    }

    /** The path and query of a {@code Link: <…>; rel="next"} header, or null. */
    static String next(WireClient.Response r) {
        String link = r.header("Link");
        if (link == null) {
            return null;
        }
        assertTrue(link.matches("<[^>]+>; *rel=\"next\""), "RFC 5988 link with rel=next: " + link);
        return link.substring(1, link.indexOf('>'));
    }

    /** Asserts the server sends nothing after the last response, then closes. */
    @Override
    public void close() throws IOException {
        try {
            wire.assertNothingMore(200);
        } finally {
            wire.close();
        }
    }

    // ----- content -----

    static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    /** Bytes and their digest. */
    record Blob(byte[] bytes, Digest digest) {
        static Blob of(byte[] bytes) {
            return of(bytes, DigestAlgorithm.SHA256);
        }

        static Blob of(byte[] bytes, DigestAlgorithm algorithm) {
            return new Blob(bytes, Digest.compute(algorithm, bytes));
        }

        static Blob random(int size, long seed) {
            return random(size, seed, DigestAlgorithm.SHA256);
        }

        static Blob random(int size, long seed, DigestAlgorithm algorithm) {
            byte[] b = new byte[size];
            new Random(seed).nextBytes(b);
            return of(b, algorithm);
        }

        int size() {
            return bytes.length;
        }

        /** The same bytes with something appended: content that no longer matches {@link #digest()}. */
        Blob corrupted() {
            byte[] b = Arrays.copyOf(bytes, bytes.length + 5);
            System.arraycopy(OciWire.bytes("oh no"), 0, b, bytes.length, 5);
            return new Blob(b, digest);
        }

        Map<String, Object> descriptor(String mediaType) {
            return OciWire.descriptor(mediaType, digest, bytes.length);
        }
    }

    static Map<String, Object> descriptor(String mediaType, Digest digest, long size) {
        Map<String, Object> d = new LinkedHashMap<>();
        d.put("mediaType", mediaType);
        d.put("digest", digest.toString());
        d.put("size", size);
        return d;
    }

    /** Pretty-printed JSON, as clients like the suite send it: the registry must keep the exact bytes. */
    static byte[] pretty(Object value) {
        try {
            return JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(value);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A manifest (image or index) ready to push: its bytes, digest and media type. */
    record Manifest(byte[] bytes, Digest digest, String mediaType) {
        static Manifest of(Map<String, Object> body, String mediaType) {
            return of(pretty(body), mediaType, DigestAlgorithm.SHA256);
        }

        static Manifest of(byte[] bytes, String mediaType, DigestAlgorithm algorithm) {
            return new Manifest(bytes, Digest.compute(algorithm, bytes), mediaType);
        }

        Map<String, Object> descriptor() {
            return OciWire.descriptor(mediaType, digest, bytes.length);
        }
    }

    /** An image: its config and layers, and the manifest naming them. */
    record Image(Blob config, List<Blob> layers, Manifest manifest) {
        List<Blob> blobs() {
            List<Blob> all = new ArrayList<>(List.of(config));
            all.addAll(layers);
            return all;
        }
    }

    /** A config whose author makes it unique, as the suite's configs are. */
    static Blob config(String seed, String arch, DigestAlgorithm algorithm) {
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("architecture", arch);
        c.put("os", "linux");
        c.put("rootfs", Map.of("type", "layers", "diff_ids", List.of()));
        c.put("author", seed);
        return Blob.of(pretty(c), algorithm);
    }

    static Image image(String seed, int layers) {
        return image(seed, layers, DigestAlgorithm.SHA256, Map.of());
    }

    /** An OCI image manifest with {@code layers} random layers and {@code extra} top-level fields. */
    static Image image(String seed, int layers, DigestAlgorithm algorithm, Map<String, Object> extra) {
        Blob config = config(seed, "amd64", algorithm);
        List<Blob> layerBlobs = new ArrayList<>();
        for (int i = 0; i < layers; i++) {
            layerBlobs.add(Blob.random(200 + i, (seed + "/" + i).hashCode(), algorithm));
        }
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("schemaVersion", 2);
        m.put("mediaType", OCI_MANIFEST);
        m.put("config", config.descriptor(OCI_CONFIG));
        m.put("layers", layerBlobs.stream().map(l -> l.descriptor(OCI_LAYER)).toList());
        m.putAll(extra);
        return new Image(config, layerBlobs, Manifest.of(pretty(m), OCI_MANIFEST, algorithm));
    }

    /** An OCI index of {@code children}, with {@code extra} top-level fields. */
    static Manifest index(List<Manifest> children, Map<String, Object> extra, DigestAlgorithm algorithm) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("schemaVersion", 2);
        m.put("mediaType", OCI_INDEX);
        List<Map<String, Object>> list = new ArrayList<>();
        for (Manifest child : children) {
            list.add(child.descriptor());
        }
        m.put("manifests", list);
        m.putAll(extra);
        return Manifest.of(pretty(m), OCI_INDEX, algorithm);
    }

    // ----- pushes every walk needs before it can look at something else -----

    /** Pushes a blob with a single POST (asserting the 201 answer). */
    void pushBlob(String repo, Blob blob) throws IOException {
        WireClient.Response r =
                post("/v2/" + repo + "/blobs/uploads/?digest=" + blob.digest(), blob.bytes(), "Content-Type", OCTET);
        assertStatus(r, 201);
        assertEquals("/v2/" + repo + "/blobs/" + blob.digest(), r.header("Location"));
        assertEquals(blob.digest().toString(), r.header("Docker-Content-Digest"));
    }

    /** Pushes a manifest under {@code reference} (asserting the 201 answer). */
    WireClient.Response pushManifest(String repo, String reference, Manifest m) throws IOException {
        WireClient.Response r =
                put("/v2/" + repo + "/manifests/" + reference, m.bytes(), "Content-Type", m.mediaType());
        assertStatus(r, 201);
        assertEquals("/v2/" + repo + "/manifests/" + m.digest(), r.header("Location"));
        assertEquals(m.digest().toString(), r.header("Docker-Content-Digest"));
        assertEquals("0", r.header("Content-Length"));
        return r;
    }

    /** Pushes an image's blobs and its manifest under {@code reference}. */
    void pushImage(String repo, String reference, Image image) throws IOException {
        for (Blob b : image.blobs()) {
            pushBlob(repo, b);
        }
        pushManifest(repo, reference, image.manifest());
    }

    /** Asserts the manifest answers GET and HEAD by {@code reference} with its exact bytes and headers. */
    void assertManifest(String repo, String reference, Manifest m) throws IOException {
        String path = "/v2/" + repo + "/manifests/" + reference;
        // Accept as Go clients send it: one line per type
        WireClient.Response get = get(
                path, "Accept", OCI_INDEX, "Accept", OCI_MANIFEST, "Accept", DOCKER_MANIFEST, "Accept", DOCKER_LIST);
        assertStatus(get, 200);
        assertTrue(Arrays.equals(m.bytes(), get.body()), "exact bytes of " + path);
        assertEquals(m.mediaType(), get.header("Content-Type"), path);
        assertEquals(m.digest().toString(), get.header("Docker-Content-Digest"), path);
        WireClient.Response head = head(path, "Accept", OCI_INDEX, "Accept", OCI_MANIFEST);
        assertStatus(head, 200);
        assertEquals(Integer.toString(m.bytes().length), head.header("Content-Length"), path);
        assertEquals(m.mediaType(), head.header("Content-Type"), path);
        assertEquals(m.digest().toString(), head.header("Docker-Content-Digest"), path);
    }

    /** Asserts the blob answers GET and HEAD with its exact bytes and headers. */
    void assertBlob(String repo, Blob blob) throws IOException {
        String path = "/v2/" + repo + "/blobs/" + blob.digest();
        WireClient.Response head = head(path);
        assertStatus(head, 200);
        assertEquals(Integer.toString(blob.size()), head.header("Content-Length"), path);
        assertEquals(blob.digest().toString(), head.header("Docker-Content-Digest"), path);
        WireClient.Response get = get(path);
        assertStatus(get, 200);
        assertTrue(Arrays.equals(blob.bytes(), get.body()), "exact bytes of " + path);
        assertEquals(blob.digest().toString(), get.header("Docker-Content-Digest"), path);
        assertEquals(OCTET, get.header("Content-Type"), path);
    }

    /** Asserts HEAD and GET of a blob answer 404 (BLOB_UNKNOWN). */
    void assertNoBlob(String repo, Digest digest) throws IOException {
        String path = "/v2/" + repo + "/blobs/" + digest;
        assertError(head(path), 404, null);
        JsonNode e = assertError(get(path), 404, "BLOB_UNKNOWN");
        assertEquals(digest.toString(), e.get("detail").get("digest").asText(), "the detail names the digest");
    }

    /** Asserts HEAD and GET of a manifest reference answer 404 (MANIFEST_UNKNOWN). */
    void assertNoManifest(String repo, String reference) throws IOException {
        String path = "/v2/" + repo + "/manifests/" + reference;
        assertError(head(path), 404, null);
        assertError(get(path), 404, "MANIFEST_UNKNOWN");
    }
}
