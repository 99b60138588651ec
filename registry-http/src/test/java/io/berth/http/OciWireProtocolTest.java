package io.berth.http;

import static io.berth.http.OciWire.OCTET;
import static io.berth.http.OciWire.assertError;
import static io.berth.http.OciWire.assertStatus;
import static io.berth.http.OciWire.bytes;
import static io.berth.http.OciWire.repo;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.berth.core.model.Digest;
import io.berth.core.model.DigestAlgorithm;
import io.berth.http.OciWire.Blob;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The OCI distribution-spec v1.1 walked endpoint by endpoint on raw keep-alive sockets: the base
 * endpoint, blob pulls (whole, HEAD, ranges), every way to push a blob (single POST, POST then
 * PUT, streamed PATCH, chunked PATCH in and out of order, the final chunk in the PUT), upload
 * status and cancel, cross-repository mounts and blob deletes, for sha256 and sha512. Every
 * response is checked by {@link OciWire} (status line, framing, headers, error body shape); each
 * test uses repositories of its own. Manifests are in {@link OciWireManifestTest}, listings and
 * referrers in {@link OciWireDiscoveryTest}.
 */
class OciWireProtocolTest {
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
    void theBaseEndpointAnswersGetAndHead() throws IOException {
        try (OciWire c = connect()) {
            for (String path : List.of("/v2/", "/v2")) {
                WireClient.Response get = c.get(path);
                assertStatus(get, 200);
                assertEquals("{}", get.text());
                assertEquals("application/json", get.header("Content-Type"));
                WireClient.Response head = c.head(path);
                assertStatus(head, 200);
                assertEquals("2", head.header("Content-Length"));
            }
            assertError(c.delete("/v2/"), 405, "UNSUPPORTED");
        }
    }

    @ParameterizedTest
    @EnumSource(DigestAlgorithm.class)
    void blobsArePulledWholeByHeadAndByRange(DigestAlgorithm algorithm) throws IOException {
        String repo = repo("pull-blob");
        Blob blob = Blob.random(2048, 7, algorithm);
        try (OciWire c = connect()) {
            Digest missing = Blob.random(42, 8, algorithm).digest();
            c.assertNoBlob(repo, missing); // the repository does not exist yet
            c.pushBlob(repo, blob);
            c.assertBlob(repo, blob);
            c.assertNoBlob(repo, missing);
            assertEquals(
                    "bytes", c.get("/v2/" + repo + "/blobs/" + blob.digest()).header("Accept-Ranges"));
            record Case(String range, int from, int to) {}
            // the ranges the conformance suite asks for, and a few more forms of RFC 9110 §14
            for (Case k : List.of(
                    new Case("bytes=500-1499", 500, 1499),
                    new Case("bytes=500-", 500, 2047),
                    new Case("bytes=-500", 1548, 2047),
                    new Case("bytes=2000-5000", 2000, 2047),
                    new Case("bytes=0-0", 0, 0),
                    new Case("bytes=2047-", 2047, 2047),
                    new Case("bytes=-5000", 0, 2047))) {
                WireClient.Response part = c.get("/v2/" + repo + "/blobs/" + blob.digest(), "Range", k.range());
                assertStatus(part, 206);
                assertArrayEquals(Arrays.copyOfRange(blob.bytes(), k.from(), k.to() + 1), part.body(), k.range());
                assertEquals("bytes " + k.from() + "-" + k.to() + "/2048", part.header("Content-Range"), k.range());
                assertEquals(blob.digest().toString(), part.header("Docker-Content-Digest"));
            }
            for (String unsatisfiable : List.of("bytes=500-0", "bytes=5000-10000", "bytes=2048-")) {
                WireClient.Response no = c.get("/v2/" + repo + "/blobs/" + blob.digest(), "Range", unsatisfiable);
                assertStatus(no, 416);
                assertEquals("bytes */2048", no.header("Content-Range"), unsatisfiable);
                // a refusal is not the blob: nothing for a shared cache to keep for a year
                assertNull(no.header("Cache-Control"), unsatisfiable);
                assertNull(no.header("ETag"), unsatisfiable);
            }
            // a range form the server does not take is ignored: the whole blob (RFC 9110 §14.2)
            WireClient.Response multi = c.get("/v2/" + repo + "/blobs/" + blob.digest(), "Range", "bytes=0-1,5-6");
            assertStatus(multi, 200);
            assertArrayEquals(blob.bytes(), multi.body());
            // a blob is in the repository it was pushed to, not in every one
            c.assertNoBlob(repo("pull-elsewhere"), blob.digest());
        }
    }

    @Test
    void malformedDigestsAreDigestInvalidAndUpperCaseNamesNameInvalid() throws IOException {
        String repo = repo("bad-digest");
        try (OciWire c = connect()) {
            for (String digest : List.of(
                    "sha256:totallywrong",
                    "sha256:" + "A".repeat(64),
                    "md5:abc",
                    "sha512:" + "0".repeat(64),
                    "nocolon")) {
                String path = "/v2/" + repo + "/blobs/" + digest;
                JsonNode e = assertError(c.get(path), 400, "DIGEST_INVALID");
                assertEquals(digest, e.get("detail").get("digest").asText(), path);
                assertError(c.head(path), 400, null);
                assertError(c.delete(path), 400, "DIGEST_INVALID");
            }
            Digest d = Blob.of(bytes("x")).digest();
            assertError(c.get("/v2/Proto/Upper/blobs/" + d), 400, "NAME_INVALID");
            assertError(c.post("/v2/Proto/Upper/blobs/uploads/", null), 400, "NAME_INVALID");
        }
    }

    @ParameterizedTest
    @EnumSource(DigestAlgorithm.class)
    void aSinglePostWithTheDigestPushesTheBlob(DigestAlgorithm algorithm) throws IOException {
        String repo = repo("post-only");
        Blob blob = Blob.random(512, 11, algorithm);
        try (OciWire c = connect()) {
            WireClient.Response post = c.post(
                    "/v2/" + repo + "/blobs/uploads/?digest=" + blob.digest(), blob.bytes(), "Content-Type", OCTET);
            assertStatus(post, 201);
            assertEquals("/v2/" + repo + "/blobs/" + blob.digest(), post.header("Location"));
            assertEquals(blob.digest().toString(), post.header("Docker-Content-Digest"));
            assertEquals("0", post.header("Content-Length"));
            c.assertBlob(repo, blob);
            // again: the same answer
            assertStatus(
                    c.post(
                            "/v2/" + repo + "/blobs/uploads/?digest=" + blob.digest(),
                            blob.bytes(),
                            "Content-Type",
                            OCTET),
                    201);
            c.assertBlob(repo, blob);
        }
    }

    @ParameterizedTest
    @EnumSource(DigestAlgorithm.class)
    void aPostThenAPutPushesTheBlob(DigestAlgorithm algorithm) throws IOException {
        String repo = repo("post-put");
        Blob blob = Blob.random(512, 12, algorithm);
        try (OciWire c = connect()) {
            // the POST as Go sends it without a body: no Content-Length at all
            WireClient.Response post = c.post("/v2/" + repo + "/blobs/uploads/", null);
            String location = assertNewSession(repo, post);
            WireClient.Response put = c.put(location + "?digest=" + blob.digest(), blob.bytes(), "Content-Type", OCTET);
            assertStatus(put, 201);
            assertEquals("/v2/" + repo + "/blobs/" + blob.digest(), put.header("Location"));
            assertEquals(blob.digest().toString(), put.header("Docker-Content-Digest"));
            c.assertBlob(repo, blob);
            // the Location answered is a pullable blob URL
            assertArrayEquals(blob.bytes(), c.get(put.header("Location")).body());
            // the session is closed
            assertError(c.get(location), 404, "BLOB_UPLOAD_UNKNOWN");
            assertError(c.put(location + "?digest=" + blob.digest(), blob.bytes()), 404, "BLOB_UPLOAD_UNKNOWN");
        }
    }

    /** Asserts the 202 of a new upload session; returns its Location. */
    static String assertNewSession(String repo, WireClient.Response post) {
        assertStatus(post, 202);
        String location = post.header("Location");
        assertNotNull(location, post.toString());
        String uuid = post.header("Docker-Upload-UUID");
        assertNotNull(uuid, post.toString());
        assertEquals(uuid, UUID.fromString(uuid).toString(), "the location holds a UUID");
        assertEquals("/v2/" + repo + "/blobs/uploads/" + uuid, location);
        assertEquals("0-0", post.header("Range"));
        assertEquals("0", post.header("Content-Length"));
        return location;
    }

    @ParameterizedTest
    @EnumSource(DigestAlgorithm.class)
    void aStreamedPatchThenAnEmptyPutPushesTheBlob(DigestAlgorithm algorithm) throws IOException {
        String repo = repo("stream");
        Blob blob = Blob.random(3000, 13, algorithm);
        try (OciWire c = connect()) {
            String location = assertNewSession(repo, c.post("/v2/" + repo + "/blobs/uploads/", new byte[0]));
            // length unknown to the client: chunked transfer coding, no Content-Range
            WireClient.Response patch = c.exchangeChunked(
                    "PATCH",
                    location,
                    List.of(Arrays.copyOfRange(blob.bytes(), 0, 1000), Arrays.copyOfRange(blob.bytes(), 1000, 3000)),
                    "Content-Type",
                    OCTET);
            assertStatus(patch, 202);
            assertEquals("0-2999", patch.header("Range"));
            assertEquals(location, patch.header("Location"));
            assertEquals(location.substring(location.lastIndexOf('/') + 1), patch.header("Docker-Upload-UUID"));
            assertEquals("0", patch.header("Content-Length"));
            WireClient.Response put =
                    c.put(patch.header("Location") + "?digest=" + blob.digest(), new byte[0], "Content-Type", OCTET);
            assertStatus(put, 201);
            assertEquals("/v2/" + repo + "/blobs/" + blob.digest(), put.header("Location"));
            assertEquals(blob.digest().toString(), put.header("Docker-Content-Digest"));
            c.assertBlob(repo, blob);
            // a streamed PATCH with a Content-Length, completed by a PUT without a body at all
            Blob second = Blob.random(700, 14, algorithm);
            String loc2 = assertNewSession(repo, c.post("/v2/" + repo + "/blobs/uploads/", null));
            WireClient.Response p2 = c.patch(loc2, second.bytes(), "Content-Type", OCTET);
            assertStatus(p2, 202);
            assertEquals("0-699", p2.header("Range"));
            assertStatus(c.put(p2.header("Location") + "?digest=" + second.digest(), null), 201);
            c.assertBlob(repo, second);
        }
    }

    /**
     * A blob of three chunks of at least 1 KiB (the suite's minimum when the registry announces
     * none): each in-order chunk answered 202 with {@code Range} and {@code Location}; a chunk that
     * skips ahead, and one that goes back, answered 416 leaving the session as it was, which a GET
     * reports (204, {@code Range}, {@code Location}); the final chunk sent with the PATCHes or in
     * the closing PUT.
     */
    @ParameterizedTest
    @EnumSource(DigestAlgorithm.class)
    void chunkedUploadsAcceptChunksInOrderOnlyAnd416TheOthers(DigestAlgorithm algorithm) throws IOException {
        for (boolean lastInPut : List.of(false, true)) {
            String repo = repo("chunked");
            int chunk = 1024;
            Blob blob = Blob.random(3 * chunk - 5, lastInPut ? 21 : 22, algorithm);
            try (OciWire c = connect()) {
                WireClient.Response post = c.post("/v2/" + repo + "/blobs/uploads/", new byte[0]);
                String location = assertNewSession(repo, post);
                String min = post.header("OCI-Chunk-Min-Length");
                assertTrue(min == null || Integer.parseInt(min) <= chunk, "a minimum the walk can meet: " + min);
                // skipping ahead before the first chunk
                assertOutOfOrder(c, location, blob, chunk, 2 * chunk - 1, "PATCH", -1);
                int end = -1;
                while (end < blob.size() - 1) {
                    int start = end + 1;
                    end = Math.min(start + chunk - 1, blob.size() - 1);
                    byte[] part = Arrays.copyOfRange(blob.bytes(), start, end + 1);
                    boolean last = end == blob.size() - 1;
                    if (last && lastInPut) {
                        // the final chunk out of order in the PUT itself: 416, nothing completed
                        assertOutOfOrder(c, location, blob, 0, chunk - 1, "PUT", start - 1);
                        WireClient.Response put = c.put(
                                location + "?digest=" + blob.digest(),
                                part,
                                "Content-Type",
                                OCTET,
                                "Content-Range",
                                start + "-" + end);
                        assertStatus(put, 201);
                        assertEquals(blob.digest().toString(), put.header("Docker-Content-Digest"));
                        assertEquals("/v2/" + repo + "/blobs/" + blob.digest(), put.header("Location"));
                        break;
                    }
                    WireClient.Response patch =
                            c.patch(location, part, "Content-Type", OCTET, "Content-Range", start + "-" + end);
                    assertStatus(patch, 202);
                    assertEquals("0-" + end, patch.header("Range"));
                    assertEquals(location, patch.header("Location"));
                    assertEquals("0", patch.header("Content-Length"));
                    location = patch.header("Location");
                    // the same chunk again, and one skipping ahead (or back to the start at the end)
                    assertOutOfOrder(c, location, blob, start, end, "PATCH", end);
                    int ahead = end + 1 + chunk < blob.size() ? end + 1 + chunk : 0;
                    assertOutOfOrder(
                            c, location, blob, ahead, Math.min(ahead + chunk - 1, blob.size() - 1), "PATCH", end);
                }
                if (!lastInPut) {
                    WireClient.Response put =
                            c.put(location + "?digest=" + blob.digest(), new byte[0], "Content-Type", OCTET);
                    assertStatus(put, 201);
                    assertEquals(blob.digest().toString(), put.header("Docker-Content-Digest"));
                }
                c.assertBlob(repo, blob);
                assertError(c.get(location), 404, "BLOB_UPLOAD_UNKNOWN");
            }
        }
    }

    /**
     * Sends bytes {@code from..to} of {@code blob} as a chunk (a PATCH, or a closing PUT) and
     * asserts the 416, then a status GET still reporting {@code lastByte} as the end.
     */
    static void assertOutOfOrder(OciWire c, String location, Blob blob, int from, int to, String method, int lastByte)
            throws IOException {
        byte[] part = Arrays.copyOfRange(blob.bytes(), from, to + 1);
        String path = method.equals("PUT") ? location + "?digest=" + blob.digest() : location;
        WireClient.Response no =
                c.exchange(method, path, part, "Content-Type", OCTET, "Content-Range", from + "-" + to);
        assertError(no, 416, "BLOB_UPLOAD_INVALID");
        assertEquals(location, no.header("Location"), no.toString());
        String current = lastByte < 0 ? "0-0" : "0-" + lastByte;
        assertEquals(current, no.header("Range"), no.toString());
        WireClient.Response status = c.get(location);
        assertStatus(status, 204);
        assertEquals(current, status.header("Range"));
        assertEquals(location, status.header("Location"));
        assertEquals(location.substring(location.lastIndexOf('/') + 1), status.header("Docker-Upload-UUID"));
    }

    @Test
    void chunkHeadersThatContradictTheBodyAreRefusedAndKeepNothing() throws IOException {
        String repo = repo("chunk-headers");
        try (OciWire c = connect()) {
            String location = assertNewSession(repo, c.post("/v2/" + repo + "/blobs/uploads/", null));
            // Content-Range saying 10 bytes, Content-Length 3
            assertError(
                    c.patch(location, bytes("abc"), "Content-Range", "0-9", "Content-Type", OCTET),
                    400,
                    "SIZE_INVALID");
            for (String malformed : List.of("garbage", "5", "-3", "3-1", "a-b")) {
                JsonNode e = assertError(
                        c.patch(location, bytes("abc"), "Content-Range", malformed, "Content-Type", OCTET),
                        400,
                        "BLOB_UPLOAD_INVALID");
                assertEquals(malformed, e.get("detail").get("range").asText());
            }
            WireClient.Response status = c.get(location);
            assertStatus(status, 204);
            assertEquals("0-0", status.header("Range"), "nothing was kept");
            WireClient.Response ok = c.patch(location, bytes("abc"), "Content-Range", "0-2", "Content-Type", OCTET);
            assertStatus(ok, 202);
            assertEquals("0-2", ok.header("Range"));
        }
    }

    /** Pushes with the wrong digest by every method: 400 DIGEST_INVALID, and the blob never appears. */
    @ParameterizedTest
    @EnumSource(DigestAlgorithm.class)
    void everyPushWithTheWrongDigestIsDigestInvalid(DigestAlgorithm algorithm) throws IOException {
        String repo = repo("wrong-digest");
        try (OciWire c = connect()) {
            Blob postOnly = Blob.random(3 * 1024 - 5, 31, algorithm).corrupted();
            assertError(
                    c.post(
                            "/v2/" + repo + "/blobs/uploads/?digest=" + postOnly.digest(),
                            postOnly.bytes(),
                            "Content-Type",
                            OCTET),
                    400,
                    "DIGEST_INVALID");
            c.assertNoBlob(repo, postOnly.digest());

            Blob postPut = Blob.random(3 * 1024 - 5, 32, algorithm).corrupted();
            String loc = assertNewSession(repo, c.post("/v2/" + repo + "/blobs/uploads/", null));
            assertError(
                    c.put(loc + "?digest=" + postPut.digest(), postPut.bytes(), "Content-Type", OCTET),
                    400,
                    "DIGEST_INVALID");
            c.assertNoBlob(repo, postPut.digest());

            Blob chunked = Blob.random(3 * 1024 - 5, 33, algorithm).corrupted();
            loc = assertNewSession(repo, c.post("/v2/" + repo + "/blobs/uploads/", new byte[0]));
            WireClient.Response p = c.patch(
                    loc,
                    Arrays.copyOfRange(chunked.bytes(), 0, 1024),
                    "Content-Type",
                    OCTET,
                    "Content-Range",
                    "0-1023");
            assertStatus(p, 202);
            assertError(
                    c.put(
                            loc + "?digest=" + chunked.digest(),
                            Arrays.copyOfRange(chunked.bytes(), 1024, chunked.size()),
                            "Content-Type",
                            OCTET,
                            "Content-Range",
                            "1024-" + (chunked.size() - 1)),
                    400,
                    "DIGEST_INVALID");
            c.assertNoBlob(repo, chunked.digest());

            Blob streamed = Blob.random(3 * 1024 - 5, 34, algorithm).corrupted();
            loc = assertNewSession(repo, c.post("/v2/" + repo + "/blobs/uploads/", new byte[0]));
            assertStatus(c.exchangeChunked("PATCH", loc, List.of(streamed.bytes()), "Content-Type", OCTET), 202);
            assertError(c.put(loc + "?digest=" + streamed.digest(), new byte[0]), 400, "DIGEST_INVALID");
            c.assertNoBlob(repo, streamed.digest());
            // a session whose completion failed is gone
            assertError(c.get(loc), 404, "BLOB_UPLOAD_UNKNOWN");

            // a closing PUT without any digest, or with a malformed one
            loc = assertNewSession(repo, c.post("/v2/" + repo + "/blobs/uploads/", null));
            assertError(c.put(loc, bytes("x")), 400, "DIGEST_INVALID");
            assertError(c.put(loc + "?digest=sha256:short", bytes("x")), 400, "DIGEST_INVALID");
            assertError(c.post("/v2/" + repo + "/blobs/uploads/?digest=nonsense", bytes("x")), 400, "DIGEST_INVALID");
        }
    }

    @Test
    void theEmptyBlobAndTheEmptyJsonBlobPushAndPull() throws IOException {
        String repo = repo("empty-blobs");
        try (OciWire c = connect()) {
            Blob emptyJson = Blob.of(bytes("{}"));
            // the value every client hard-codes for the empty descriptor
            assertEquals(
                    "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a",
                    emptyJson.digest().toString());
            c.pushBlob(repo, emptyJson);
            c.assertBlob(repo, emptyJson);
            for (DigestAlgorithm algorithm : DigestAlgorithm.values()) {
                Blob empty = Blob.of(new byte[0], algorithm);
                String loc = assertNewSession(repo, c.post("/v2/" + repo + "/blobs/uploads/", null));
                WireClient.Response put = c.put(loc + "?digest=" + empty.digest(), new byte[0], "Content-Type", OCTET);
                assertStatus(put, 201);
                WireClient.Response head = c.head("/v2/" + repo + "/blobs/" + empty.digest());
                assertStatus(head, 200);
                assertEquals("0", head.header("Content-Length"));
                WireClient.Response get = c.get("/v2/" + repo + "/blobs/" + empty.digest());
                assertStatus(get, 200);
                assertEquals(0, get.body().length);
                assertEquals(empty.digest().toString(), get.header("Docker-Content-Digest"));
                assertStatus(c.delete("/v2/" + repo + "/blobs/" + empty.digest()), 202);
                c.assertNoBlob(repo, empty.digest());
            }
        }
    }

    @Test
    void aCancelledUploadIsGoneForEveryMethod() throws IOException {
        String repo = repo("cancel");
        try (OciWire c = connect()) {
            for (boolean withData : List.of(false, true)) {
                String loc = assertNewSession(repo, c.post("/v2/" + repo + "/blobs/uploads/", null));
                if (withData) {
                    assertStatus(c.patch(loc, bytes("some bytes"), "Content-Type", OCTET), 202);
                }
                WireClient.Response cancel = c.delete(loc, "Content-Length", "0");
                assertStatus(cancel, 204);
                assertEquals(0, cancel.body().length);
                assertError(c.get(loc), 404, "BLOB_UPLOAD_UNKNOWN");
                assertError(c.patch(loc, bytes("more"), "Content-Type", OCTET), 404, "BLOB_UPLOAD_UNKNOWN");
                Digest d = Blob.of(bytes("some bytes")).digest();
                assertError(c.put(loc + "?digest=" + d, new byte[0]), 404, "BLOB_UPLOAD_UNKNOWN");
                assertError(c.delete(loc), 404, "BLOB_UPLOAD_UNKNOWN");
                c.assertNoBlob(repo, d);
            }
            // sessions that never were
            for (String id : List.of(UUID.randomUUID().toString(), "not-a-uuid")) {
                String loc = "/v2/" + repo + "/blobs/uploads/" + id;
                assertError(c.get(loc), 404, "BLOB_UPLOAD_UNKNOWN");
                assertError(c.delete(loc), 404, "BLOB_UPLOAD_UNKNOWN");
                assertError(c.patch(loc, bytes("x"), "Content-Type", OCTET), 404, "BLOB_UPLOAD_UNKNOWN");
            }
            // a session is not reachable through another repository
            String loc = assertNewSession(repo, c.post("/v2/" + repo + "/blobs/uploads/", null));
            String other = loc.replace("/v2/" + repo + "/", "/v2/" + repo("cancel-thief") + "/");
            assertError(c.delete(other), 404, "BLOB_UPLOAD_UNKNOWN");
            assertStatus(c.get(loc), 204);
        }
    }

    @ParameterizedTest
    @EnumSource(DigestAlgorithm.class)
    void blobsMountFromAnotherRepositoryWithAndWithoutFrom(DigestAlgorithm algorithm) throws IOException {
        String source = repo("mount-source");
        String target = repo("mount-target");
        String anonymous = repo("mount-anonymous");
        Blob blob = Blob.random(512, 41, algorithm);
        try (OciWire c = connect()) {
            c.pushBlob(source, blob);
            WireClient.Response mount =
                    c.post("/v2/" + target + "/blobs/uploads/?mount=" + blob.digest() + "&from=" + source, null);
            assertStatus(mount, 201);
            assertEquals("/v2/" + target + "/blobs/" + blob.digest(), mount.header("Location"));
            assertEquals(blob.digest().toString(), mount.header("Docker-Content-Digest"));
            assertEquals("0", mount.header("Content-Length"));
            c.assertBlob(target, blob);
            // without from: Berth finds the blob in the registry and mounts it (the spec's MAY)
            WireClient.Response auto = c.post("/v2/" + anonymous + "/blobs/uploads/?mount=" + blob.digest(), null);
            assertStatus(auto, 201);
            assertEquals("/v2/" + anonymous + "/blobs/" + blob.digest(), auto.header("Location"));
            c.assertBlob(anonymous, blob);
            // deleting the source's link leaves the mounted ones
            assertStatus(c.delete("/v2/" + source + "/blobs/" + blob.digest()), 202);
            c.assertBlob(target, blob);
        }
    }

    /** A mount the registry cannot do is an upload session (202), which the client completes. */
    @ParameterizedTest
    @EnumSource(DigestAlgorithm.class)
    void aMountOfAnUnknownBlobFallsBackToAnUpload(DigestAlgorithm algorithm) throws IOException {
        String source = repo("mount-empty-source");
        String target = repo("mount-fallback");
        Blob blob = Blob.random(512, 42, algorithm);
        Blob elsewhere = Blob.random(100, 43, algorithm);
        try (OciWire c = connect()) {
            c.pushBlob(source, elsewhere);
            for (String query : List.of(
                    "?mount=" + blob.digest() + "&from=" + source,
                    "?mount=" + blob.digest(),
                    "?mount=" + blob.digest() + "&from=" + repo("never-pushed"))) {
                WireClient.Response post = c.post("/v2/" + target + "/blobs/uploads/" + query, null);
                String loc = assertNewSession(target, post);
                assertNull(post.header("Docker-Content-Digest"), post.toString());
                WireClient.Response put = c.put(loc + "?digest=" + blob.digest(), blob.bytes(), "Content-Type", OCTET);
                assertStatus(put, 201);
                c.assertBlob(target, blob);
                assertStatus(c.delete("/v2/" + target + "/blobs/" + blob.digest()), 202);
            }
            assertError(
                    c.post("/v2/" + target + "/blobs/uploads/?mount=sha256:bad&from=" + source, null),
                    400,
                    "DIGEST_INVALID");
            assertError(
                    c.post("/v2/" + target + "/blobs/uploads/?mount=" + blob.digest() + "&from=Bad..Name", null),
                    400,
                    "NAME_INVALID");
        }
    }

    /**
     * {@code ?digest-algorithm=} on the POST (end-4c): the session is opened (202) and completes
     * with a digest of that algorithm.
     */
    @Test
    void theDigestAlgorithmParameterOpensASession() throws IOException {
        String repo = repo("digest-algorithm");
        Blob blob = Blob.random(2000, 51, DigestAlgorithm.SHA512);
        try (OciWire c = connect()) {
            String loc = assertNewSession(
                    repo, c.post("/v2/" + repo + "/blobs/uploads/?digest-algorithm=sha512", new byte[0]));
            assertStatus(
                    c.patch(
                            loc,
                            Arrays.copyOfRange(blob.bytes(), 0, 1500),
                            "Content-Type",
                            OCTET,
                            "Content-Range",
                            "0-1499"),
                    202);
            WireClient.Response put = c.put(
                    loc + "?digest=" + blob.digest(),
                    Arrays.copyOfRange(blob.bytes(), 1500, 2000),
                    "Content-Type",
                    OCTET,
                    "Content-Range",
                    "1500-1999");
            assertStatus(put, 201);
            assertEquals(blob.digest().toString(), put.header("Docker-Content-Digest"));
            c.assertBlob(repo, blob);
            assertStatus(c.post("/v2/" + repo + "/blobs/uploads/?digest-algorithm=sha256", null), 202);
        }
    }

    /**
     * A {@code digest-algorithm} the registry cannot verify is refused at the POST (400
     * DIGEST_INVALID, as the spec's end-4c lists), not after the client has sent every byte.
     */
    @Test
    void anUnsupportedDigestAlgorithmIsRefusedAtThePost() throws IOException {
        String repo = repo("digest-algorithm-refused");
        try (OciWire c = connect()) {
            for (String algorithm : List.of("md5", "sha384", "SHA256", "")) {
                JsonNode e = assertError(
                        c.post("/v2/" + repo + "/blobs/uploads/?digest-algorithm=" + algorithm, new byte[0]),
                        400,
                        "DIGEST_INVALID");
                assertEquals(algorithm, e.get("detail").get("digest-algorithm").asText());
                assertTrue(e.get("message").asText().contains("sha256 and sha512"), e.toString());
            }
            Blob blob = Blob.random(100, 52);
            assertError(
                    c.post(
                            "/v2/" + repo + "/blobs/uploads/?digest-algorithm=md5&digest=" + blob.digest(),
                            blob.bytes(),
                            "Content-Type",
                            OCTET),
                    400,
                    "DIGEST_INVALID");
            c.assertNoBlob(repo, blob.digest());
        }
    }

    @Test
    void blobDeletesAnswer202ThenTheBlobIsGone() throws IOException {
        String repo = repo("delete-blob");
        Blob blob = Blob.random(300, 61);
        try (OciWire c = connect()) {
            c.pushBlob(repo, blob);
            WireClient.Response del = c.delete("/v2/" + repo + "/blobs/" + blob.digest());
            assertStatus(del, 202);
            assertEquals("0", del.header("Content-Length"));
            c.assertNoBlob(repo, blob.digest());
            JsonNode again = assertError(c.delete("/v2/" + repo + "/blobs/" + blob.digest()), 404, "BLOB_UNKNOWN");
            assertEquals(
                    blob.digest().toString(), again.get("detail").get("digest").asText());
            assertError(c.delete("/v2/" + repo("delete-never") + "/blobs/" + blob.digest()), 404, "BLOB_UNKNOWN");
            // pushed again, it is back
            c.pushBlob(repo, blob);
            c.assertBlob(repo, blob);
        }
    }

    /** Everything on one connection, requests written back to back before any answer is read. */
    @Test
    void pipelinedRequestsAreAnsweredInOrderWithoutStrayBytes() throws IOException {
        String repo = repo("pipelined");
        Blob blob = Blob.random(5000, 71);
        try (WireClient w = new WireClient(r.port())) {
            w.send(
                    "POST",
                    "/v2/" + repo + "/blobs/uploads/?digest=" + blob.digest(),
                    blob.bytes(),
                    "Content-Type",
                    OCTET);
            w.send("HEAD", "/v2/" + repo + "/blobs/" + blob.digest(), null);
            w.send("GET", "/v2/" + repo + "/blobs/" + blob.digest(), null, "Range", "bytes=10-19");
            w.send("GET", "/v2/" + repo + "/blobs/" + blob.digest(), null);
            w.send("POST", "/v2/" + repo + "/blobs/uploads/", null);
            w.send("GET", "/v2/" + repo + "/blobs/" + Blob.random(1, 72).digest(), null);
            w.send("DELETE", "/v2/" + repo + "/blobs/" + blob.digest(), null);
            w.send("HEAD", "/v2/" + repo + "/blobs/" + blob.digest(), null);
            List<String> methods = List.of("POST", "HEAD", "GET", "GET", "POST", "GET", "DELETE", "HEAD");
            int[] statuses = {201, 200, 206, 200, 202, 404, 202, 404};
            String path = "/v2/" + repo + "/blobs/x";
            for (int i = 0; i < methods.size(); i++) {
                WireClient.Response res = w.read(methods.get(i));
                OciWire.checkFraming(res, path);
                assertStatus(res, statuses[i]);
                if (i == 2) {
                    assertArrayEquals(Arrays.copyOfRange(blob.bytes(), 10, 20), res.body());
                }
                if (i == 3) {
                    assertArrayEquals(blob.bytes(), res.body());
                }
            }
            w.assertNothingMore(200);
        }
    }
}
