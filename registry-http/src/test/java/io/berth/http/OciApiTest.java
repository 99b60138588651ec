package io.berth.http;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.berth.core.model.Digest;
import io.berth.core.model.DigestAlgorithm;
import io.berth.core.registry.Blobs;
import java.io.IOException;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Every endpoint, status, header and error code of the distribution API, over real HTTP. */
class OciApiTest {
    static final ObjectMapper JSON = new ObjectMapper();
    static final String OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";
    static final String OCI_INDEX = "application/vnd.oci.image.index.v1+json";

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

    static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    static String header(HttpResponse<?> res, String name) {
        return res.headers().firstValue(name).orElse(null);
    }

    /** The codes the distribution spec defines; no other may reach a client (500s excepted). */
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

    /** Asserts an OCI error response: status, JSON body, first error code. */
    static JsonNode assertError(HttpResponse<byte[]> res, int status, String code) throws IOException {
        assertTrue(SPEC_CODES.contains(code), code + " is not a spec error code");
        assertEquals(status, res.statusCode(), () -> new String(res.body()));
        assertTrue(header(res, "Content-Type").startsWith("application/json"));
        JsonNode body = JSON.readTree(res.body());
        assertEquals(code, body.get("errors").get(0).get("code").asText(), body.toString());
        assertTrue(body.get("errors").get(0).has("message"));
        return body;
    }

    static String manifest(Digest config, long configSize, Digest layer, long layerSize, String extra) {
        return TestRegistry.manifest(config, configSize, layer, layerSize, extra);
    }

    /** Pushes config + layer and a manifest under {@code tag}; returns the manifest digest. */
    static Digest pushImage(String repo, String tag, String seed, String extra) {
        return r.pushImage(repo, tag, seed, extra);
    }

    @Test
    void baseEndpoint() {
        HttpResponse<byte[]> res = r.get("/v2/");
        assertEquals(200, res.statusCode());
        assertEquals("registry/2.0", header(res, "Docker-Distribution-API-Version"));
    }

    @Test
    void monolithicPushAndBlobReads() throws IOException {
        byte[] content = bytes("0123456789abcdef");
        Digest d = TestRegistry.sha256(content);
        HttpResponse<byte[]> put = r.send(
                "POST",
                "/v2/blobs/mono/blobs/uploads/?digest=" + d,
                content,
                "Content-Type",
                "application/octet-stream");
        assertEquals(201, put.statusCode());
        assertEquals("/v2/blobs/mono/blobs/" + d, header(put, "Location"));
        assertEquals(d.toString(), header(put, "Docker-Content-Digest"));

        HttpResponse<byte[]> get = r.get("/v2/blobs/mono/blobs/" + d);
        assertEquals(200, get.statusCode());
        assertArrayEquals(content, get.body());
        assertEquals("16", header(get, "Content-Length"));
        assertEquals(d.toString(), header(get, "Docker-Content-Digest"));
        assertEquals("application/octet-stream", header(get, "Content-Type"));
        assertEquals("bytes", header(get, "Accept-Ranges"));

        HttpResponse<byte[]> head = r.send("HEAD", "/v2/blobs/mono/blobs/" + d, null);
        assertEquals(200, head.statusCode());
        assertEquals("16", header(head, "Content-Length"));
        assertEquals(d.toString(), header(head, "Docker-Content-Digest"));
        assertEquals(0, head.body().length);

        HttpResponse<byte[]> range = r.get("/v2/blobs/mono/blobs/" + d, "Range", "bytes=2-5");
        assertEquals(206, range.statusCode());
        assertArrayEquals(bytes("2345"), range.body());
        assertEquals("bytes 2-5/16", header(range, "Content-Range"));
        HttpResponse<byte[]> suffix = r.get("/v2/blobs/mono/blobs/" + d, "Range", "bytes=-3");
        assertArrayEquals(bytes("def"), suffix.body());
        HttpResponse<byte[]> open = r.get("/v2/blobs/mono/blobs/" + d, "Range", "bytes=10-");
        assertArrayEquals(bytes("abcdef"), open.body());
        HttpResponse<byte[]> unsat = r.get("/v2/blobs/mono/blobs/" + d, "Range", "bytes=16-20");
        assertEquals(416, unsat.statusCode());
        assertEquals("bytes */16", header(unsat, "Content-Range"));
        assertEquals(
                416, r.get("/v2/blobs/mono/blobs/" + d, "Range", "bytes=5-0").statusCode());
        HttpResponse<byte[]> past = r.get("/v2/blobs/mono/blobs/" + d, "Range", "bytes=8-100");
        assertEquals(206, past.statusCode());
        assertEquals("bytes 8-15/16", header(past, "Content-Range"));
        assertEquals("8", header(past, "Content-Length"));

        // either side of the size up to which blobs are read whole and kept in memory: small ranges of
        // a larger blob stream from storage, every range of a small one comes from memory
        for (int size : new int[] {Blobs.SMALL_BLOB, Blobs.SMALL_BLOB + 1, 3 * Blobs.SMALL_BLOB}) {
            byte[] blob = new byte[size];
            new Random(size).nextBytes(blob);
            Digest bd = r.pushBlob("blobs/sized", blob);
            for (int round = 0; round < 2; round++) {
                HttpResponse<byte[]> whole = r.get("/v2/blobs/sized/blobs/" + bd);
                assertEquals(200, whole.statusCode());
                assertArrayEquals(blob, whole.body());
                HttpResponse<byte[]> part = r.get("/v2/blobs/sized/blobs/" + bd, "Range", "bytes=1000-1999");
                assertEquals(206, part.statusCode(), "size " + size);
                assertArrayEquals(Arrays.copyOfRange(blob, 1000, 2000), part.body());
                assertEquals("bytes 1000-1999/" + size, header(part, "Content-Range"));
                assertEquals("1000", header(part, "Content-Length"));
            }
        }

        Digest unknown = TestRegistry.sha256(bytes("unknown"));
        JsonNode err = assertError(r.get("/v2/blobs/mono/blobs/" + unknown), 404, "BLOB_UNKNOWN");
        assertEquals(
                unknown.toString(),
                err.get("errors").get(0).get("detail").get("digest").asText());
        assertEquals(
                404, r.send("HEAD", "/v2/blobs/mono/blobs/" + unknown, null).statusCode());
        // a blob is only visible in the repository it was pushed to
        assertError(r.get("/v2/blobs/elsewhere/blobs/" + d), 404, "BLOB_UNKNOWN");
        assertError(r.get("/v2/blobs/mono/blobs/sha256:nothex"), 400, "DIGEST_INVALID");
        assertError(r.get("/v2/blobs/mono/blobs/md5:abc"), 400, "DIGEST_INVALID");
    }

    @Test
    void emptyBlobs() throws IOException {
        Digest empty = TestRegistry.sha256(new byte[0]);
        HttpResponse<byte[]> put = r.send("POST", "/v2/blobs/empty/blobs/uploads/?digest=" + empty, new byte[0]);
        assertEquals(201, put.statusCode(), () -> new String(put.body()));
        HttpResponse<byte[]> head = r.send("HEAD", "/v2/blobs/empty/blobs/" + empty, null);
        assertEquals(200, head.statusCode());
        assertEquals("0", header(head, "Content-Length"));
        HttpResponse<byte[]> get = r.get("/v2/blobs/empty/blobs/" + empty);
        assertEquals(200, get.statusCode());
        assertEquals(0, get.body().length);
        // and through a session completed by a PUT without a body
        String loc = header(r.send("POST", "/v2/blobs/empty2/blobs/uploads/", null), "Location");
        assertEquals(201, r.send("PUT", loc + "?digest=" + empty, null).statusCode());
        assertEquals(
                202, r.send("DELETE", "/v2/blobs/empty2/blobs/" + empty, null).statusCode());
        assertEquals(
                404, r.send("HEAD", "/v2/blobs/empty2/blobs/" + empty, null).statusCode());
    }

    @Test
    void sha512Everywhere() throws IOException {
        byte[] content = bytes("sha512 blob");
        Digest d = Digest.compute(DigestAlgorithm.SHA512, content);
        assertEquals(
                201,
                r.send("POST", "/v2/sha/five12/blobs/uploads/?digest=" + d, content)
                        .statusCode());
        assertArrayEquals(content, r.get("/v2/sha/five12/blobs/" + d).body());
        // chunked upload completed with a sha512 digest
        HttpResponse<byte[]> start = r.send("POST", "/v2/sha/five12/blobs/uploads/", null);
        String loc = header(start, "Location");
        assertEquals(
                202,
                r.send("PATCH", loc, bytes("part1"), "Content-Range", "0-4", "Content-Type", "application/octet-stream")
                        .statusCode());
        Digest d2 = Digest.compute(DigestAlgorithm.SHA512, bytes("part1part2"));
        HttpResponse<byte[]> done = r.send("PUT", loc + "?digest=" + d2, bytes("part2"), "Content-Range", "5-9");
        assertEquals(201, done.statusCode(), () -> new String(done.body()));
        assertEquals(d2.toString(), header(done, "Docker-Content-Digest"));
        // a manifest pushed by its sha512 digest
        byte[] config = bytes("{}");
        Digest c = Digest.compute(DigestAlgorithm.SHA512, config);
        r.send("POST", "/v2/sha/five12/blobs/uploads/?digest=" + c, config);
        byte[] m = bytes(manifest(c, 2, d, content.length, ""));
        Digest md = Digest.compute(DigestAlgorithm.SHA512, m);
        HttpResponse<byte[]> put = r.send("PUT", "/v2/sha/five12/manifests/" + md, m, "Content-Type", OCI_MANIFEST);
        assertEquals(201, put.statusCode(), () -> new String(put.body()));
        assertEquals(md.toString(), header(put, "Docker-Content-Digest"));
        assertArrayEquals(m, r.get("/v2/sha/five12/manifests/" + md).body());
    }

    @Test
    void chunkedUpload() throws IOException {
        HttpResponse<byte[]> start = r.send("POST", "/v2/up/chunked/blobs/uploads/", null, "Content-Length", "0");
        assertEquals(202, start.statusCode());
        String loc = header(start, "Location");
        String uuid = header(start, "Docker-Upload-UUID");
        assertTrue(loc.startsWith("/v2/up/chunked/blobs/uploads/"), loc);
        assertTrue(loc.endsWith(uuid));
        assertEquals("0-0", header(start, "Range"));

        HttpResponse<byte[]> p1 = r.send(
                "PATCH", loc, bytes("hello "), "Content-Range", "0-5", "Content-Type", "application/octet-stream");
        assertEquals(202, p1.statusCode());
        assertEquals("0-5", header(p1, "Range"));
        assertEquals(uuid, header(p1, "Docker-Upload-UUID"));
        assertEquals(loc, header(p1, "Location"));

        // a chunk that does not start at the current offset
        HttpResponse<byte[]> bad = r.send("PATCH", loc, bytes("xx"), "Content-Range", "10-11");
        assertEquals(416, bad.statusCode());
        assertEquals("0-5", header(bad, "Range"));
        assertEquals(loc, header(bad, "Location"));
        // going back to the start is out of order too, and a final chunk out of order leaves the session intact
        assertEquals(
                416, r.send("PATCH", loc, bytes("he"), "Content-Range", "0-1").statusCode());
        assertEquals(
                416,
                r.send("PUT", loc + "?digest=" + TestRegistry.sha256(bytes("x")), bytes("xx"), "Content-Range", "20-21")
                        .statusCode());

        HttpResponse<byte[]> status = r.get(loc);
        assertEquals(204, status.statusCode());
        assertEquals("0-5", header(status, "Range"));
        assertEquals(uuid, header(status, "Docker-Upload-UUID"));

        // a streamed chunk (no Content-Range)
        HttpResponse<byte[]> p2 = r.send("PATCH", loc, bytes("chunked "));
        assertEquals(202, p2.statusCode());
        assertEquals("0-13", header(p2, "Range"));

        byte[] all = bytes("hello chunked world");
        Digest d = TestRegistry.sha256(all);
        HttpResponse<byte[]> put = r.send("PUT", loc + "?digest=" + d, bytes("world"), "Content-Range", "14-18");
        assertEquals(201, put.statusCode(), () -> new String(put.body()));
        assertEquals("/v2/up/chunked/blobs/" + d, header(put, "Location"));
        assertEquals(d.toString(), header(put, "Docker-Content-Digest"));
        assertArrayEquals(all, r.get("/v2/up/chunked/blobs/" + d).body());
        assertError(r.get(loc), 404, "BLOB_UPLOAD_UNKNOWN");
    }

    @Test
    void completingWithoutFinalChunkAndCancelling() throws IOException {
        String loc = header(r.send("POST", "/v2/up/other/blobs/uploads/", null), "Location");
        r.send("PATCH", loc, bytes("all of it"));
        Digest d = TestRegistry.sha256(bytes("all of it"));
        assertEquals(201, r.send("PUT", loc + "?digest=" + d, null).statusCode());

        String loc2 = header(r.send("POST", "/v2/up/other/blobs/uploads/", null), "Location");
        assertEquals(204, r.send("DELETE", loc2, null).statusCode());
        assertError(r.get(loc2), 404, "BLOB_UPLOAD_UNKNOWN");
        assertError(r.send("DELETE", loc2, null), 404, "BLOB_UPLOAD_UNKNOWN");
        assertError(r.send("PATCH", "/v2/up/other/blobs/uploads/not-a-uuid", bytes("x")), 404, "BLOB_UPLOAD_UNKNOWN");
        assertError(
                r.send("PATCH", "/v2/up/other/blobs/uploads/" + UUID.randomUUID(), bytes("x")),
                404,
                "BLOB_UPLOAD_UNKNOWN");
        // a session belongs to its repository
        String loc3 = header(r.send("POST", "/v2/up/other/blobs/uploads/", null), "Location");
        assertError(r.get(loc3.replace("/up/other/", "/up/thief/")), 404, "BLOB_UPLOAD_UNKNOWN");
    }

    @Test
    void wrongDigestsAreRejectedAndNothingBecomesVisible() throws IOException {
        Digest claimed = TestRegistry.sha256(bytes("what the client claims"));
        assertError(
                r.send("POST", "/v2/up/wrong/blobs/uploads/?digest=" + claimed, bytes("other bytes")),
                400,
                "DIGEST_INVALID");
        assertEquals(404, r.send("HEAD", "/v2/up/wrong/blobs/" + claimed, null).statusCode());

        String loc = header(r.send("POST", "/v2/up/wrong/blobs/uploads/", null), "Location");
        r.send("PATCH", loc, bytes("some bytes"));
        assertError(r.send("PUT", loc + "?digest=" + claimed, null), 400, "DIGEST_INVALID");
        assertEquals(404, r.send("HEAD", "/v2/up/wrong/blobs/" + claimed, null).statusCode());
        assertError(r.get(loc), 404, "BLOB_UPLOAD_UNKNOWN");

        String loc2 = header(r.send("POST", "/v2/up/wrong/blobs/uploads/", null), "Location");
        assertError(r.send("PUT", loc2, bytes("x")), 400, "DIGEST_INVALID");
        assertError(r.send("PUT", loc2 + "?digest=sha256:short", bytes("x")), 400, "DIGEST_INVALID");
        assertError(r.send("POST", "/v2/up/wrong/blobs/uploads/?digest=nonsense", bytes("x")), 400, "DIGEST_INVALID");
    }

    @Test
    void lengthsAndRangesMustBeConsistent() throws IOException {
        String loc = header(r.send("POST", "/v2/up/len/blobs/uploads/", null), "Location");
        assertError(r.send("PATCH", loc, bytes("abc"), "Content-Range", "0-9"), 400, "SIZE_INVALID");
        assertEquals("0-0", header(r.get(loc), "Range"));
        assertEquals(
                400,
                r.send("PATCH", loc, bytes("abc"), "Content-Range", "garbage").statusCode());
        assertEquals(
                416, r.send("PATCH", loc, bytes("abc"), "Content-Range", "5-7").statusCode());
    }

    @Test
    void mountFromAnotherRepositoryAndAutomatically() throws IOException {
        Digest d = r.pushBlob("mount/source", bytes("mountable"));
        HttpResponse<byte[]> m =
                r.send("POST", "/v2/mount/target/blobs/uploads/?mount=" + d + "&from=mount/source", null);
        assertEquals(201, m.statusCode());
        assertEquals("/v2/mount/target/blobs/" + d, header(m, "Location"));
        assertEquals(d.toString(), header(m, "Docker-Content-Digest"));
        assertArrayEquals(
                bytes("mountable"), r.get("/v2/mount/target/blobs/" + d).body());
        // no from: the registry holds it somewhere, so it mounts
        assertEquals(
                201,
                r.send("POST", "/v2/mount/auto/blobs/uploads/?mount=" + d, null).statusCode());
        // from a repository that does not hold it: a normal upload session instead
        HttpResponse<byte[]> fallback =
                r.send("POST", "/v2/mount/third/blobs/uploads/?mount=" + d + "&from=mount/empty", null);
        assertEquals(202, fallback.statusCode());
        assertTrue(header(fallback, "Location").contains("/blobs/uploads/"));
        Digest unknown = TestRegistry.sha256(bytes("never pushed"));
        assertEquals(
                202,
                r.send("POST", "/v2/mount/third/blobs/uploads/?mount=" + unknown, null)
                        .statusCode());
        assertError(
                r.send("POST", "/v2/mount/third/blobs/uploads/?mount=" + d + "&from=Bad..Name", null),
                400,
                "NAME_INVALID");
    }

    @Test
    void blobDeleteUnlinksFromTheRepository() throws IOException {
        Digest d = r.pushBlob("del/blob", bytes("delete me"));
        r.send("POST", "/v2/del/other/blobs/uploads/?mount=" + d + "&from=del/blob", null);
        assertEquals(202, r.send("DELETE", "/v2/del/blob/blobs/" + d, null).statusCode());
        assertError(r.get("/v2/del/blob/blobs/" + d), 404, "BLOB_UNKNOWN");
        assertError(r.send("DELETE", "/v2/del/blob/blobs/" + d, null), 404, "BLOB_UNKNOWN");
        assertEquals(200, r.get("/v2/del/other/blobs/" + d).statusCode());
    }

    @Test
    void etagsAnswerNotModified() throws IOException {
        Digest m = pushImage("etag/app", "v1", "etag", "");
        String etag = "\"" + m + "\"";
        HttpResponse<byte[]> fresh = r.get("/v2/etag/app/manifests/v1", "If-None-Match", etag);
        assertEquals(304, fresh.statusCode());
        assertEquals(0, fresh.body().length);
        assertEquals(etag, header(fresh, "ETag"));
        assertEquals(m.toString(), header(fresh, "Docker-Content-Digest"));
        assertEquals(
                304,
                r.send("HEAD", "/v2/etag/app/manifests/v1", null, "If-None-Match", "W/" + etag)
                        .statusCode());
        assertEquals(
                200,
                r.get("/v2/etag/app/manifests/v1", "If-None-Match", "\"sha256:other\"")
                        .statusCode());
        Digest b = r.pushBlob("etag/app", bytes("etag blob"));
        HttpResponse<byte[]> blob = r.get("/v2/etag/app/blobs/" + b);
        assertEquals("\"" + b + "\"", header(blob, "ETag"));
        HttpResponse<byte[]> cached = r.get("/v2/etag/app/blobs/" + b, "If-None-Match", "\"" + b + "\"");
        assertEquals(304, cached.statusCode());
        assertEquals(0, cached.body().length);
        assertEquals(
                304,
                r.send("HEAD", "/v2/etag/app/blobs/" + b, null, "If-None-Match", "*")
                        .statusCode());
    }

    @Test
    void errorMessagesSayWhyAndDetailsCarryData() throws IOException {
        String longName = "a".repeat(300);
        JsonNode tooLong = assertError(r.get("/v2/" + longName + "/tags/list"), 400, "NAME_INVALID");
        JsonNode e = tooLong.get("errors").get(0);
        assertTrue(
                e.get("message").asText().contains("300 characters")
                        && e.get("message").asText().contains("255"),
                e.toString());
        assertEquals(255, e.get("detail").get("limit").asInt());
        JsonNode grammar = assertError(r.get("/v2/Upper/Case/tags/list"), 400, "NAME_INVALID")
                .get("errors")
                .get(0);
        assertTrue(grammar.get("message").asText().contains("[a-z0-9]+"), grammar.toString());
        pushImage("words/app", "v1", "words", "");
        byte[] m = r.get("/v2/words/app/manifests/v1").body();
        JsonNode badTag = assertError(
                        r.send("PUT", "/v2/words/app/manifests/-bad", m, "Content-Type", OCI_MANIFEST),
                        400,
                        "MANIFEST_INVALID")
                .get("errors")
                .get(0);
        assertTrue(badTag.get("message").asText().contains("[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}"), badTag.toString());
        String byTag = assertError(r.get("/v2/words/app/manifests/missing"), 404, "MANIFEST_UNKNOWN")
                .get("errors")
                .get(0)
                .get("message")
                .asText();
        Digest absent = TestRegistry.sha256(bytes("absent manifest"));
        String byDigest = assertError(r.get("/v2/words/app/manifests/" + absent), 404, "MANIFEST_UNKNOWN")
                .get("errors")
                .get(0)
                .get("message")
                .asText();
        String notATag = assertError(r.get("/v2/words/app/manifests/.nope"), 404, "MANIFEST_UNKNOWN")
                .get("errors")
                .get(0)
                .get("message")
                .asText();
        assertEquals("manifest unknown: repository words/app has no manifest missing", byTag);
        assertEquals("manifest unknown: repository words/app has no manifest " + absent, byDigest);
        assertEquals("manifest unknown: repository words/app has no manifest .nope", notATag);
        JsonNode invalid = assertError(
                        r.send("PUT", "/v2/words/app/manifests/v2", bytes("""
                {"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",
                 "config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:x","size":1},
                 "layers":[]}"""), "Content-Type", OCI_MANIFEST),
                        400,
                        "MANIFEST_INVALID")
                .get("errors")
                .get(0);
        assertEquals("config.digest", invalid.get("detail").get("field").asText(), "detail is data: " + invalid);
        assertFalse(
                invalid.get("detail").toString().contains(invalid.get("message").asText()));
    }

    @Test
    void referencedContentCannotBeDeleted() throws IOException {
        Digest image = pushImage("refd/app", "v1", "referenced", "");
        JsonNode m = JSON.readTree(r.get("/v2/refd/app/manifests/v1").body());
        String config = m.get("config").get("digest").asText();
        JsonNode blobRefused = assertError(r.send("DELETE", "/v2/refd/app/blobs/" + config, null), 409, "DENIED");
        assertTrue(blobRefused.toString().contains(image.toString()), "names the manifest: " + blobRefused);
        assertEquals(200, r.get("/v2/refd/app/blobs/" + config).statusCode(), "the blob stays");

        long size = r.get("/v2/refd/app/manifests/" + image).body().length;
        byte[] index = bytes("""
                {"schemaVersion":2,"mediaType":"%s","manifests":[
                 {"mediaType":"%s","digest":"%s","size":%d}]}""".formatted(OCI_INDEX, OCI_MANIFEST, image, size));
        assertEquals(
                201,
                r.send("PUT", "/v2/refd/app/manifests/multi", index, "Content-Type", OCI_INDEX)
                        .statusCode());
        Digest indexDigest = TestRegistry.sha256(index);
        JsonNode childRefused = assertError(r.send("DELETE", "/v2/refd/app/manifests/" + image, null), 409, "DENIED");
        assertTrue(childRefused.toString().contains(indexDigest.toString()), "names the index: " + childRefused);
        assertEquals(200, r.get("/v2/refd/app/manifests/" + image).statusCode(), "the manifest stays");

        // deleting top-down works, as the conformance suite and clients do it
        assertEquals(
                202,
                r.send("DELETE", "/v2/refd/app/manifests/" + indexDigest, null).statusCode());
        assertEquals(
                202, r.send("DELETE", "/v2/refd/app/manifests/" + image, null).statusCode());
        assertEquals(202, r.send("DELETE", "/v2/refd/app/blobs/" + config, null).statusCode());
    }

    @Test
    void immutableTagsAreRefusedOverV2With409DeniedNamingTheRule() throws IOException {
        var rule = r.registry.immutability().add("frozen/**", "v.*");
        try {
            Digest v1 = pushImage("frozen/app", "v1", "frozen one", "");
            pushImage("frozen/app", "v1", "frozen one", ""); // the same manifest again: allowed
            HttpResponse<byte[]> get = r.get("/v2/frozen/app/manifests/v1");
            JsonNode other = JSON.readTree(get.body());
            Digest two = pushImage("frozen/app", "latest", "frozen two", "");
            byte[] twoBody = r.get("/v2/frozen/app/manifests/" + two).body();
            JsonNode move = assertError(
                    r.send("PUT", "/v2/frozen/app/manifests/v1", twoBody, "Content-Type", OCI_MANIFEST), 409, "DENIED");
            assertTrue(move.toString().contains(rule.id()) && move.toString().contains("immutable"), move.toString());
            assertError(r.send("DELETE", "/v2/frozen/app/manifests/v1", null), 409, "DENIED");
            assertError(r.send("DELETE", "/v2/frozen/app/manifests/" + v1, null), 409, "DENIED");
            assertEquals(v1.toString(), header(r.get("/v2/frozen/app/manifests/v1"), "Docker-Content-Digest"));
            assertTrue(other.has("config"));
            assertEquals(
                    202,
                    r.send("DELETE", "/v2/frozen/app/manifests/latest", null).statusCode(),
                    "not protected");
        } finally {
            r.registry.immutability().delete(rule.id());
        }
    }

    @Test
    void manifestPushPullDelete() throws IOException {
        Digest md = pushImage("man/app", "v1", "a", "");
        HttpResponse<byte[]> byTag = r.get("/v2/man/app/manifests/v1", "Accept", OCI_MANIFEST);
        assertEquals(200, byTag.statusCode());
        assertEquals(OCI_MANIFEST, header(byTag, "Content-Type"));
        assertEquals(md.toString(), header(byTag, "Docker-Content-Digest"));
        assertEquals(md, TestRegistry.sha256(byTag.body()));
        assertEquals(Integer.toString(byTag.body().length), header(byTag, "Content-Length"));
        HttpResponse<byte[]> byDigest = r.get("/v2/man/app/manifests/" + md);
        assertArrayEquals(byTag.body(), byDigest.body());
        HttpResponse<byte[]> head = r.send("HEAD", "/v2/man/app/manifests/v1", null);
        assertEquals(200, head.statusCode());
        assertEquals(Integer.toString(byTag.body().length), header(head, "Content-Length"));
        assertEquals(md.toString(), header(head, "Docker-Content-Digest"));
        assertEquals(OCI_MANIFEST, header(head, "Content-Type"));

        // re-pushing identical bytes by digest works and returns the same digest and Location
        HttpResponse<byte[]> again =
                r.send("PUT", "/v2/man/app/manifests/" + md, byTag.body(), "Content-Type", OCI_MANIFEST);
        assertEquals(201, again.statusCode());
        assertEquals("/v2/man/app/manifests/" + md, header(again, "Location"));

        // tags given as ?tag= on a push by digest (distribution-spec 1.1+dev), answered with OCI-Tag
        HttpResponse<byte[]> tagged = r.send(
                "PUT", "/v2/man/app/manifests/" + md + "?tag=v2&tag=v3", byTag.body(), "Content-Type", OCI_MANIFEST);
        assertEquals(201, tagged.statusCode());
        assertEquals(List.of("v2", "v3"), tagged.headers().allValues("OCI-Tag"));
        assertEquals(md.toString(), header(r.get("/v2/man/app/manifests/v3"), "Docker-Content-Digest"));
        assertError(
                r.send("PUT", "/v2/man/app/manifests/" + md + "?tag=-bad", byTag.body(), "Content-Type", OCI_MANIFEST),
                400,
                "MANIFEST_INVALID");
        r.send("DELETE", "/v2/man/app/manifests/v3", null);
        assertEquals(202, r.send("DELETE", "/v2/man/app/manifests/v1", null).statusCode());
        assertError(r.get("/v2/man/app/manifests/v1"), 404, "MANIFEST_UNKNOWN");
        assertEquals(200, r.get("/v2/man/app/manifests/v2").statusCode());
        assertEquals(202, r.send("DELETE", "/v2/man/app/manifests/" + md, null).statusCode());
        assertError(r.get("/v2/man/app/manifests/v2"), 404, "MANIFEST_UNKNOWN");
        assertError(r.get("/v2/man/app/manifests/" + md), 404, "MANIFEST_UNKNOWN");
        assertError(r.send("DELETE", "/v2/man/app/manifests/" + md, null), 404, "MANIFEST_UNKNOWN");
        assertEquals(404, r.send("HEAD", "/v2/man/app/manifests/" + md, null).statusCode());
    }

    @Test
    void manifestValidation() throws IOException {
        byte[] config = bytes("{}");
        Digest c = r.pushBlob("man/bad", config);
        Digest missing = TestRegistry.sha256(bytes("missing layer"));
        byte[] m = bytes(manifest(c, 2, missing, 13, ""));
        JsonNode err = assertError(
                r.send("PUT", "/v2/man/bad/manifests/v1", m, "Content-Type", OCI_MANIFEST),
                400,
                "MANIFEST_BLOB_UNKNOWN");
        assertEquals(
                missing.toString(),
                err.get("errors").get(0).get("detail").get("digest").asText());
        // non-distributable layers need not be present
        String external = """
                {"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",
                 "config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"%s","size":2},
                 "layers":[{"mediaType":"application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
                   "digest":"%s","size":13,"urls":["https://example.com/layer"]}]}""".formatted(c, missing);
        assertEquals(
                201,
                r.send("PUT", "/v2/man/bad/manifests/ext", bytes(external), "Content-Type", OCI_MANIFEST)
                        .statusCode());
        Digest wrong = TestRegistry.sha256(bytes("not it"));
        assertError(
                r.send("PUT", "/v2/man/bad/manifests/" + wrong, bytes(external), "Content-Type", OCI_MANIFEST),
                400,
                "DIGEST_INVALID");
        assertError(
                r.send("PUT", "/v2/man/bad/manifests/v1", bytes("{not json"), "Content-Type", OCI_MANIFEST),
                400,
                "MANIFEST_INVALID");
        assertError(
                r.send("PUT", "/v2/man/bad/manifests/v1", bytes("{\"schemaVersion\":2}"), "Content-Type", OCI_MANIFEST),
                400,
                "MANIFEST_INVALID");
        assertError(
                r.send("PUT", "/v2/man/bad/manifests/v1", bytes(external), "Content-Type", "text/plain"),
                400,
                "MANIFEST_INVALID");
        assertError(
                r.send("PUT", "/v2/man/bad/manifests/v1", new byte[0], "Content-Type", OCI_MANIFEST),
                400,
                "MANIFEST_INVALID");
        assertError(
                r.send("PUT", "/v2/man/bad/manifests/-badtag", bytes(external), "Content-Type", OCI_MANIFEST),
                400,
                "MANIFEST_INVALID");
        // over 4 MiB
        byte[] huge = new byte[4 * 1024 * 1024 + 10];
        Arrays.fill(huge, (byte) ' ');
        assertError(
                r.send("PUT", "/v2/man/bad/manifests/big", huge, "Content-Type", OCI_MANIFEST), 413, "SIZE_INVALID");
        assertError(r.get("/v2/man/bad/manifests/nosuchtag"), 404, "MANIFEST_UNKNOWN");
        // a string that cannot be a tag names no manifest
        assertError(r.get("/v2/man/bad/manifests/.INVALID_MANIFEST_NAME"), 404, "MANIFEST_UNKNOWN");
        assertEquals(
                404,
                r.send("HEAD", "/v2/man/bad/manifests/.INVALID_MANIFEST_NAME", null)
                        .statusCode());
        assertError(r.send("DELETE", "/v2/man/bad/manifests/.INVALID", null), 404, "MANIFEST_UNKNOWN");
        assertError(r.get("/v2/man/bad/manifests/sha256:zzz"), 400, "DIGEST_INVALID");
    }

    @Test
    void indexesAndDockerManifestLists() throws IOException {
        Digest child = pushImage("idx/app", "amd64", "child", "");
        long childSize = r.get("/v2/idx/app/manifests/" + child).body().length;
        Digest missing = TestRegistry.sha256(bytes("absent child"));
        String index = """
                {"schemaVersion":2,"mediaType":"%s","manifests":[
                 {"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"%s","size":%d,
                  "platform":{"architecture":"amd64","os":"linux"}}]}""";
        // a PUT naming an absent child manifest is MANIFEST_BLOB_UNKNOWN 400 (spec), never a 404 on a PUT
        assertError(
                r.send(
                        "PUT",
                        "/v2/idx/app/manifests/multi",
                        bytes(index.formatted(OCI_INDEX, missing, 5)),
                        "Content-Type",
                        OCI_INDEX),
                400,
                "MANIFEST_BLOB_UNKNOWN");
        byte[] ok = bytes(index.formatted(OCI_INDEX, child, childSize));
        assertEquals(
                201,
                r.send("PUT", "/v2/idx/app/manifests/multi", ok, "Content-Type", OCI_INDEX)
                        .statusCode());
        assertEquals(OCI_INDEX, header(r.get("/v2/idx/app/manifests/multi"), "Content-Type"));
        String listType = "application/vnd.docker.distribution.manifest.list.v2+json";
        byte[] list = bytes(index.formatted(listType, child, childSize));
        assertEquals(
                201,
                r.send("PUT", "/v2/idx/app/manifests/list", list, "Content-Type", listType)
                        .statusCode());
        assertEquals(listType, header(r.get("/v2/idx/app/manifests/list"), "Content-Type"));
    }

    @Test
    void largeManifestsNestedIndexesAndIndexesWithSubjects() throws IOException {
        // nearly 4 MiB of annotations, as the conformance suite's large-manifest case
        StringBuilder annotations = new StringBuilder();
        for (int i = 0; i < 390; i++) {
            annotations
                    .append(i == 0 ? "" : ",")
                    .append("\"large-annotation-")
                    .append(i)
                    .append("\":\"")
                    .append("A".repeat(10_000))
                    .append('"');
        }
        byte[] config = bytes("{}");
        Digest c = r.pushBlob("big/app", config);
        byte[] large = bytes(manifest(c, 2, c, 2, "\"annotations\":{" + annotations + "},"));
        assertTrue(large.length > 3_900_000 && large.length < 4 * 1024 * 1024);
        assertEquals(
                201,
                r.send("PUT", "/v2/big/app/manifests/large", large, "Content-Type", OCI_MANIFEST)
                        .statusCode());
        assertArrayEquals(large, r.get("/v2/big/app/manifests/large").body());

        Digest child = pushImage("big/app", "child", "nested", "");
        long childSize = r.get("/v2/big/app/manifests/" + child).body().length;
        byte[] inner = bytes("""
                {"schemaVersion":2,"mediaType":"%s","manifests":[
                 {"mediaType":"%s","digest":"%s","size":%d,"platform":{"architecture":"amd64","os":"linux"}}]}""".formatted(OCI_INDEX, OCI_MANIFEST, child, childSize));
        Digest innerDigest = TestRegistry.sha256(inner);
        assertEquals(
                201,
                r.send("PUT", "/v2/big/app/manifests/" + innerDigest, inner, "Content-Type", OCI_INDEX)
                        .statusCode());
        byte[] outer = bytes("""
                {"schemaVersion":2,"mediaType":"%s","manifests":[
                 {"mediaType":"%s","digest":"%s","size":%d}],"customField":{"any":"thing"}}""".formatted(OCI_INDEX, OCI_INDEX, innerDigest, inner.length));
        assertEquals(
                201,
                r.send("PUT", "/v2/big/app/manifests/index-of-index", outer, "Content-Type", OCI_INDEX)
                        .statusCode());
        // an index that is itself an artifact with a subject is listed as a referrer, with its artifactType
        byte[] withSubject =
                bytes("""
                {"schemaVersion":2,"mediaType":"%s","artifactType":"application/vnd.example.list",
                 "manifests":[{"mediaType":"%s","digest":"%s","size":%d}],
                 "subject":{"mediaType":"%s","digest":"%s","size":%d}}""".formatted(OCI_INDEX, OCI_MANIFEST, child, childSize, OCI_INDEX, innerDigest, inner.length));
        HttpResponse<byte[]> put = r.send(
                "PUT",
                "/v2/big/app/manifests/" + TestRegistry.sha256(withSubject),
                withSubject,
                "Content-Type",
                OCI_INDEX);
        assertEquals(201, put.statusCode());
        assertEquals(innerDigest.toString(), header(put, "OCI-Subject"));
        JsonNode refs = JSON.readTree(
                        r.get("/v2/big/app/referrers/" + innerDigest).body())
                .get("manifests");
        assertEquals(1, refs.size());
        assertEquals(
                "application/vnd.example.list", refs.get(0).get("artifactType").asText());
        assertEquals(OCI_INDEX, refs.get(0).get("mediaType").asText());
        assertEquals(withSubject.length, refs.get(0).get("size").asLong());
    }

    @Test
    void referrersWithAndWithoutFilter() throws IOException {
        Digest subject = pushImage("ref/app", "v1", "subject", "");
        long subjectSize = r.get("/v2/ref/app/manifests/v1").body().length;
        Digest empty = r.pushBlob("ref/app", bytes("{}"));
        String artifact = """
                {"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",
                 "artifactType":"%s",
                 "config":{"mediaType":"application/vnd.oci.empty.v1+json","digest":"%s","size":2},
                 "layers":[{"mediaType":"application/vnd.oci.empty.v1+json","digest":"%s","size":2}],
                 "subject":{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"%s","size":%d},
                 "annotations":{"org.example.kind":"%s"}}""";
        byte[] sig =
                bytes(artifact.formatted("application/vnd.example.sig", empty, empty, subject, subjectSize, "sig"));
        byte[] sbom =
                bytes(artifact.formatted("application/vnd.example.sbom", empty, empty, subject, subjectSize, "sbom"));
        HttpResponse<byte[]> put =
                r.send("PUT", "/v2/ref/app/manifests/" + TestRegistry.sha256(sig), sig, "Content-Type", OCI_MANIFEST);
        assertEquals(201, put.statusCode());
        assertEquals(subject.toString(), header(put, "OCI-Subject"));
        r.send("PUT", "/v2/ref/app/manifests/" + TestRegistry.sha256(sbom), sbom, "Content-Type", OCI_MANIFEST);

        HttpResponse<byte[]> all = r.get("/v2/ref/app/referrers/" + subject);
        assertEquals(200, all.statusCode());
        assertEquals(OCI_INDEX, header(all, "Content-Type"));
        assertEquals(null, header(all, "OCI-Filters-Applied"));
        JsonNode index = JSON.readTree(all.body());
        assertEquals(2, index.get("schemaVersion").asInt());
        assertEquals(OCI_INDEX, index.get("mediaType").asText());
        assertEquals(2, index.get("manifests").size());
        for (JsonNode d : index.get("manifests")) {
            assertEquals(OCI_MANIFEST, d.get("mediaType").asText());
            assertTrue(d.get("artifactType").asText().startsWith("application/vnd.example."));
            assertTrue(d.get("annotations").has("org.example.kind"));
            assertTrue(d.get("size").asLong() > 0);
        }
        HttpResponse<byte[]> filtered =
                r.get("/v2/ref/app/referrers/" + subject + "?artifactType=application/vnd.example.sbom");
        assertEquals("artifactType", header(filtered, "OCI-Filters-Applied"));
        JsonNode only = JSON.readTree(filtered.body()).get("manifests");
        assertEquals(1, only.size());
        assertEquals(
                TestRegistry.sha256(sbom).toString(), only.get(0).get("digest").asText());

        HttpResponse<byte[]> none = r.get("/v2/ref/app/referrers/" + TestRegistry.sha256(bytes("no referrers")));
        assertEquals(200, none.statusCode());
        assertEquals(0, JSON.readTree(none.body()).get("manifests").size());
        assertError(r.get("/v2/ref/app/referrers/sha256:bad"), 400, "DIGEST_INVALID");
        // a subject that is not in the registry is accepted
        byte[] orphan = bytes(artifact.formatted(
                "application/vnd.example.sig", empty, empty, TestRegistry.sha256(bytes("elsewhere")), 10, "orphan"));
        assertEquals(
                201,
                r.send("PUT", "/v2/ref/app/manifests/orphan", orphan, "Content-Type", OCI_MANIFEST)
                        .statusCode());
    }

    @Test
    void tagListPagination() throws IOException {
        Digest md = pushImage("tags/app", "t0", "tags", "");
        byte[] m = r.get("/v2/tags/app/manifests/" + md).body();
        for (String t : List.of("b", "a", "d", "c")) {
            assertEquals(
                    201,
                    r.send("PUT", "/v2/tags/app/manifests/" + t, m, "Content-Type", OCI_MANIFEST)
                            .statusCode());
        }
        JsonNode all = JSON.readTree(r.get("/v2/tags/app/tags/list").body());
        assertEquals("tags/app", all.get("name").asText());
        assertEquals(List.of("a", "b", "c", "d", "t0"), strings(all.get("tags")));

        HttpResponse<byte[]> p1 = r.get("/v2/tags/app/tags/list?n=2");
        assertEquals(List.of("a", "b"), strings(JSON.readTree(p1.body()).get("tags")));
        assertEquals("</v2/tags/app/tags/list?n=2&last=b>; rel=\"next\"", header(p1, "Link"));
        HttpResponse<byte[]> p2 = r.get("/v2/tags/app/tags/list?n=2&last=b");
        assertEquals(List.of("c", "d"), strings(JSON.readTree(p2.body()).get("tags")));
        HttpResponse<byte[]> p3 = r.get("/v2/tags/app/tags/list?n=2&last=d");
        assertEquals(List.of("t0"), strings(JSON.readTree(p3.body()).get("tags")));
        assertEquals(null, header(p3, "Link"));
        HttpResponse<byte[]> exact = r.get("/v2/tags/app/tags/list?n=5");
        assertEquals(5, JSON.readTree(exact.body()).get("tags").size());
        assertEquals(null, header(exact, "Link"));
        HttpResponse<byte[]> zero = r.get("/v2/tags/app/tags/list?n=0");
        assertEquals(0, JSON.readTree(zero.body()).get("tags").size());
        assertEquals(
                List.of(),
                strings(JSON.readTree(r.get("/v2/tags/app/tags/list?last=t0").body())
                        .get("tags")));
        assertError(r.get("/v2/tags/app/tags/list?n=-1"), 400, "UNSUPPORTED");
        assertError(r.get("/v2/tags/app/tags/list?n=abc"), 400, "UNSUPPORTED");
        assertEquals(
                5,
                JSON.readTree(r.get("/v2/tags/app/tags/list?n=99999999999999").body())
                        .get("tags")
                        .size());
        assertError(r.get("/v2/tags/never/tags/list"), 404, "NAME_UNKNOWN");
    }

    @Test
    void catalogPagination() throws IOException {
        for (String repo : List.of("cat/zz1", "cat/zz2", "cat/zz3")) {
            r.pushBlob(repo, bytes("catalog " + repo));
        }
        List<String> all = strings(JSON.readTree(r.get("/v2/_catalog").body()).get("repositories"));
        assertTrue(all.containsAll(List.of("cat/zz1", "cat/zz2", "cat/zz3")));
        assertEquals(all.stream().sorted().toList(), all);
        HttpResponse<byte[]> page = r.get("/v2/_catalog?n=1&last=cat/zz1");
        assertEquals(List.of("cat/zz2"), strings(JSON.readTree(page.body()).get("repositories")));
        assertTrue(header(page, "Link").startsWith("</v2/_catalog?n=1&last=cat%2Fzz2>"));
    }

    @Test
    void traversalAttemptsAreNameInvalid() throws IOException {
        for (String path : List.of(
                "/v2/%2e%2e/tags/list",
                "/v2/a%2f..%2fb/tags/list",
                "/v2/a/%2e%2e/b/tags/list",
                "/v2/..%2fetc/blobs/uploads/",
                "/v2/a//b/tags/list",
                "/v2//etc/tags/list",
                "/v2/./a/tags/list",
                "/v2/../etc/tags/list",
                "/v2/a/../../etc/tags/list",
                "/v2/a/tags/list/../../../../x",
                "/v2/%2Fetc%2Fpasswd/blobs/uploads/",
                "/v2/a%5c..%5cb/tags/list",
                "/v2/A/tags/list")) {
            String res = r.raw("GET " + path + " HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
            assertTrue(res.startsWith("HTTP/1.1 400"), path + " -> " + res);
            assertTrue(res.contains("\"NAME_INVALID\""), path + " -> " + res);
        }
        // whatever the machine already has named x where the traversal points stays as it was
        List<Path> targets = List.of(dir.getParent().resolve("x"), Path.of("/tmp/x"), dir.resolve("x"));
        List<String> before = traces(targets);
        String post = r.raw("POST /v2/..%2F..%2Ftmp%2Fx/blobs/uploads/?digest=sha256:" + "0".repeat(64)
                + " HTTP/1.1\r\nHost: localhost\r\nContent-Length: 1\r\nConnection: close\r\n\r\nx");
        assertTrue(post.startsWith("HTTP/1.1 400"), post);
        assertEquals(before, traces(targets), "nothing written outside the registry's data");
        assertError(r.get("/v2/" + "a".repeat(256) + "/tags/list"), 400, "NAME_INVALID");
    }

    /** For each path: absent, or its kind, size and modification time. */
    static List<String> traces(List<Path> paths) throws IOException {
        List<String> out = new ArrayList<>();
        for (Path p : paths) {
            out.add(
                    Files.exists(p, LinkOption.NOFOLLOW_LINKS)
                            ? p + " " + Files.isDirectory(p) + " " + (Files.isDirectory(p) ? 0 : Files.size(p)) + " "
                                    + Files.getLastModifiedTime(p)
                            : p + " absent");
        }
        return out;
    }

    @Test
    void malformedRequestsAreClientErrorsNeverServerErrors() throws IOException {
        assertError(r.send("DELETE", "/v2/", null), 405, "UNSUPPORTED");
        assertError(r.send("PATCH", "/v2/x/manifests/latest", bytes("{}")), 405, "UNSUPPORTED");
        assertError(r.get("/v2/x/unknown/endpoint"), 404, "UNSUPPORTED");
        String hugeHeader = r.raw("GET /v2/ HTTP/1.1\r\nHost: localhost\r\nX-Big: " + "a".repeat(70_000)
                + "\r\nConnection: close\r\n\r\n");
        assertTrue(
                hugeHeader.startsWith("HTTP/1.1 4"),
                hugeHeader.length() > 200 ? hugeHeader.substring(0, 200) : hugeHeader);
        String badLength = r.raw("POST /v2/x/blobs/uploads/ HTTP/1.1\r\nHost: localhost\r\nContent-Length: abc\r\n"
                + "Connection: close\r\n\r\n");
        assertTrue(badLength.startsWith("HTTP/1.1 4"), badLength);
        String badPatch = r.raw(
                "PATCH /v2/x/blobs/uploads/" + UUID.randomUUID()
                        + " HTTP/1.1\r\nHost: localhost\r\nContent-Range: 1-a\r\nContent-Length: 1\r\nConnection: close\r\n\r\nx");
        assertTrue(badPatch.startsWith("HTTP/1.1 4"), badPatch);
        HttpResponse<byte[]> weird =
                r.send("PUT", "/v2/x/manifests/v1", new byte[] {(byte) 0xff, 0, 1}, "Content-Type", OCI_MANIFEST);
        assertError(weird, 400, "MANIFEST_INVALID");
    }

    @Test
    void requestIdsAreEchoedOrGenerated() {
        HttpResponse<byte[]> given = r.get("/v2/", "X-Request-Id", "abc-123");
        assertEquals("abc-123", header(given, "X-Request-Id"));
        String generated = header(r.get("/v2/"), "X-Request-Id");
        assertTrue(generated != null && generated.length() >= 16);
        String insane = header(r.get("/v2/", "X-Request-Id", "bad id with spaces"), "X-Request-Id");
        assertFalse(insane.contains(" "));
    }

    static List<String> strings(JsonNode array) {
        List<String> out = new ArrayList<>();
        array.forEach(n -> out.add(n.asText()));
        return out;
    }
}
