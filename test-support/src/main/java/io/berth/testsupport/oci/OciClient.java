package io.berth.testsupport.oci;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import io.berth.core.model.Digest;
import io.berth.core.model.MediaTypes;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpRequest.BodyPublisher;
import java.net.http.HttpRequest.BodyPublishers;
import java.net.http.HttpResponse;
import java.net.http.HttpResponse.BodyHandlers;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * The OCI distribution API as a test speaks it to one registry: verbs named after the protocol's
 * steps ({@link #startUpload}, {@link #patch}, {@link #complete}, {@link #pushImage}, {@link #pullBlob}, …)
 * that check the answer the spec gives for success and fail with the request and the response body
 * otherwise, so a test reads as the sequence it checks. {@link #send} is the escape hatch for the
 * requests no verb makes (odd headers, wrong digests); its {@link OciResponse} then checks an error's
 * status and OCI code ({@link OciResponse#expectError}). Tests of the wire itself (framing,
 * pipelining) use raw sockets instead: this client is {@link HttpClient}, which repairs and refuses.
 *
 * <p>Immutable: {@link #withHeader} and its kin return a copy sharing the connection pool. Every
 * method throws unchecked exceptions, so the client works inside lambdas and thread pools.
 */
public final class OciClient {
    /** One pool per test JVM: HTTP/1.1 as registry clients speak it (the JDK's default tries h2c upgrades). */
    private static final HttpClient SHARED = HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(10))
            .build();

    private static final JsonFactory JSON = new JsonFactory();
    private static final String ALL_MANIFESTS = String.join(
            ", ",
            MediaTypes.OCI_INDEX,
            MediaTypes.OCI_MANIFEST,
            MediaTypes.DOCKER_MANIFEST_LIST,
            MediaTypes.DOCKER_MANIFEST);

    private final HttpClient http;
    private final URI base;
    private final Map<String, String> headers;
    private final Duration timeout;

    private OciClient(HttpClient http, URI base, Map<String, String> headers, Duration timeout) {
        this.http = http;
        this.base = base;
        this.headers = headers;
        this.timeout = timeout;
    }

    /** A client of the registry at {@code base} ({@code http://127.0.0.1:5000}), anonymous, 2-minute timeout. */
    public static OciClient of(String base) {
        return of(base, SHARED);
    }

    /** As {@link #of(String)} over a client of the test's own (a local address, TLS). */
    public static OciClient of(String base, HttpClient http) {
        return new OciClient(http, URI.create(base), Map.of(), Duration.ofMinutes(2));
    }

    /** A copy sending {@code name: value} on every request (a request's own headers win). */
    public OciClient withHeader(String name, String value) {
        Map<String, String> more = new LinkedHashMap<>(headers);
        more.put(name, value);
        return new OciClient(http, base, Map.copyOf(more), timeout);
    }

    public OciClient withBasic(String user, String password) {
        return withHeader("Authorization", basic(user, password));
    }

    public OciClient withBearer(String token) {
        return withHeader("Authorization", "Bearer " + token);
    }

    /** A copy whose requests may take {@code timeout} (large blobs). */
    public OciClient withTimeout(Duration timeout) {
        return new OciClient(http, base, headers, timeout);
    }

    /** An {@code Authorization} value for HTTP Basic. */
    public static String basic(String user, String password) {
        return "Basic " + Base64.getEncoder().encodeToString((user + ":" + password).getBytes(StandardCharsets.UTF_8));
    }

    public String base() {
        return base.toString();
    }

    // the escape hatch

    /**
     * One request as given: {@code path} is resolved against the base (a {@code Location} that is a
     * whole URL stays one); {@code headers} are name, value, name, value…; a null body sends none.
     */
    public OciResponse send(String method, String path, byte[] body, String... headers) {
        return sendBody(
                method, path, body == null ? BodyPublishers.noBody() : BodyPublishers.ofByteArray(body), headers);
    }

    /** A GET of {@code path} as given. */
    public OciResponse get(String path, String... headers) {
        return send("GET", path, null, headers);
    }

    /** As {@link #send(String, String, byte[], String...)} with a body of the caller's making (streamed, slow). */
    public OciResponse sendBody(String method, String path, BodyPublisher body, String... headers) {
        HttpResponse<byte[]> r = exchange(request(method, path, body, headers), BodyHandlers.ofByteArray());
        return new OciResponse(method, path, r.statusCode(), r.headers(), r.body());
    }

    /** A GET whose body is read as it arrives (blobs larger than a test's heap). */
    public HttpResponse<InputStream> stream(String path, String... headers) {
        return exchange(request("GET", path, BodyPublishers.noBody(), headers), BodyHandlers.ofInputStream());
    }

    private HttpRequest request(String method, String path, BodyPublisher body, String... own) {
        HttpRequest.Builder b =
                HttpRequest.newBuilder(base.resolve(path)).timeout(timeout).method(method, body);
        List<String> named = new ArrayList<>();
        for (int i = 0; i < own.length; i += 2) {
            b.header(own[i], own[i + 1]);
            named.add(own[i].toLowerCase(Locale.ROOT));
        }
        headers.forEach((name, value) -> {
            if (!named.contains(name.toLowerCase(Locale.ROOT))) {
                b.header(name, value);
            }
        });
        return b.build();
    }

    private <T> HttpResponse<T> exchange(HttpRequest request, HttpResponse.BodyHandler<T> handler) {
        try {
            return http.send(request, handler);
        } catch (IOException e) {
            throw new UncheckedIOException(request.method() + " " + request.uri() + ": " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted: " + request.method() + " " + request.uri(), e);
        }
    }

    // the token flow

    /** A bearer token from {@code /auth/token} for {@code scope} ({@code repository:team/app:pull,push}). */
    public String token(String service, String scope) {
        OciResponse r = get("/auth/token?service=" + encode(service) + "&scope=" + encode(scope))
                .expect(200);
        return stringField(r, "token");
    }

    // blobs

    /** POST: opens an upload session (202). */
    public Upload startUpload(String repo) {
        return new Upload(
                repo,
                send("POST", "/v2/" + repo + "/blobs/uploads/", null)
                        .expect(202)
                        .location(),
                0);
    }

    /**
     * GET of the session: how much the registry holds (204). {@code Range: 0-0} is read as empty, as
     * Distribution sends it for an empty session (it cannot tell one byte from none).
     */
    public Upload uploadStatus(Upload upload) {
        OciResponse r = get(upload.location()).expect(204);
        String range = r.header("Range").orElseThrow(() -> new AssertionError("no Range: " + r));
        assertTrue(range.startsWith("0-"), () -> "a range from the start: " + r);
        long last = Long.parseLong(range.substring(range.indexOf('-') + 1));
        return new Upload(upload.repo(), r.location(), last == 0 ? 0 : last + 1);
    }

    /**
     * PATCH with {@code Content-Range} from where the upload ends (202, and {@code Range} covers the
     * chunk). The offset is counted here, not read back: {@code Range: 0-0} is both none and one byte.
     */
    public Upload patch(Upload upload, byte[] chunk) {
        return patch(upload, BodyPublishers.ofByteArray(chunk), chunk.length);
    }

    /** As {@link #patch(Upload, byte[])}, the chunk streamed from {@code body} (never held whole). */
    public Upload patch(Upload upload, Supplier<InputStream> body, long length) {
        return patch(upload, BodyPublishers.fromPublisher(BodyPublishers.ofInputStream(body), length), length);
    }

    private Upload patch(Upload upload, BodyPublisher body, long length) {
        OciResponse r = sendBody(
                        "PATCH",
                        upload.location(),
                        body,
                        "Content-Type",
                        "application/octet-stream",
                        "Content-Range",
                        upload.offset() + "-" + (upload.offset() + length - 1))
                .expect(202);
        long offset = upload.offset() + length;
        assertEquals(
                "0-" + Math.max(0, offset - 1),
                r.header("Range").orElse(null),
                () -> "the range after the chunk: " + r);
        return new Upload(upload.repo(), r.location(), offset);
    }

    /** PUT {@code ?digest=}: closes the upload (201 with the blob's digest). */
    public Digest complete(Upload upload, Digest digest) {
        return complete(upload, digest, null);
    }

    /** As {@link #complete(Upload, Digest)} with the last chunk in the PUT's body. */
    public Digest complete(Upload upload, Digest digest, byte[] lastChunk) {
        OciResponse r = send(
                        "PUT",
                        withQuery(upload.location(), "digest=" + digest),
                        lastChunk,
                        "Content-Type",
                        "application/octet-stream")
                .expect(201);
        return created(r, upload.repo(), digest);
    }

    /** A blob's 201: its digest, and where it can be read (the spec's {@code Location}). */
    private static Digest created(OciResponse r, String repo, Digest digest) {
        assertEquals(digest.toString(), r.header("Docker-Content-Digest").orElse(null), r::toString);
        assertTrue(r.header("Location").orElse("").endsWith("/v2/" + repo + "/blobs/" + digest), r::toString);
        return digest;
    }

    /** Monolithic push: one POST {@code ?digest=} carrying the blob (201). */
    public Digest pushBlob(String repo, byte[] content) {
        Digest d = TestImage.sha256(content);
        OciResponse r = send(
                        "POST",
                        "/v2/" + repo + "/blobs/uploads/?digest=" + d,
                        content,
                        "Content-Type",
                        "application/octet-stream")
                .expect(201);
        return created(r, repo, d);
    }

    /** Chunked push: POST, a PATCH per {@code chunkSize} bytes, PUT {@code ?digest=}. */
    public Digest pushBlobChunked(String repo, byte[] content, int chunkSize) {
        Upload upload = startUpload(repo);
        for (int from = 0; from < content.length; from += chunkSize) {
            upload = patch(upload, Arrays.copyOfRange(content, from, Math.min(content.length, from + chunkSize)));
        }
        return complete(upload, TestImage.sha256(content));
    }

    /** The blob's bytes (200), checked against its digest. */
    public byte[] pullBlob(String repo, Digest digest) {
        byte[] body = get("/v2/" + repo + "/blobs/" + digest).expect(200).body();
        assertEquals(digest, Digest.compute(digest.algorithm(), body), () -> "pulled blob " + digest + " of " + repo);
        return body;
    }

    /** The blob read as it arrives and hashed, never held (200); the caller compares the digest. */
    public StreamedBlob pullBlobStreaming(String repo, Digest digest) {
        HttpResponse<InputStream> r = stream("/v2/" + repo + "/blobs/" + digest);
        try (InputStream in = r.body()) {
            assertEquals(200, r.statusCode(), () -> "GET blob " + digest + " of " + repo);
            MessageDigest md = digest.algorithm().newMessageDigest();
            byte[] buf = new byte[1 << 20];
            long total = 0;
            for (int n; (n = in.read(buf)) > 0; total += n) {
                md.update(buf, 0, n);
            }
            return new StreamedBlob(
                    r.headers().firstValueAsLong("Content-Length").orElse(-1),
                    total,
                    Digest.of(digest.algorithm(), md.digest()));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public void deleteBlob(String repo, Digest digest) {
        send("DELETE", "/v2/" + repo + "/blobs/" + digest, null).expect(202);
    }

    // manifests

    /** PUT of a manifest under a tag or its digest (201); returns its digest. */
    public Digest pushManifest(String repo, String reference, String mediaType, byte[] manifest) {
        OciResponse r = send("PUT", "/v2/" + repo + "/manifests/" + reference, manifest, "Content-Type", mediaType)
                .expect(201);
        Digest d = TestImage.sha256(manifest);
        assertEquals(d.toString(), r.header("Docker-Content-Digest").orElse(null), r::toString);
        return d;
    }

    /** Config and layers (monolithic pushes), then the manifest under {@code tag}. */
    public PushedImage pushImage(String repo, String tag, TestImage image) {
        List<Digest> blobs = new ArrayList<>();
        for (byte[] blob : image.blobs()) {
            blobs.add(pushBlob(repo, blob));
        }
        Digest manifest = pushManifest(repo, tag, MediaTypes.OCI_MANIFEST, image.manifest());
        return new PushedImage(repo, tag, manifest, blobs.getFirst(), blobs.subList(1, blobs.size()));
    }

    /** GET of a manifest accepting every type Berth serves (200), checked against the digest sent with it. */
    public PulledManifest pullManifest(String repo, String reference) {
        OciResponse r = get("/v2/" + repo + "/manifests/" + reference, "Accept", ALL_MANIFESTS)
                .expect(200);
        Digest d = Digest.parse(r.header("Docker-Content-Digest").orElseThrow(() -> new AssertionError(r.toString())));
        assertEquals(d, Digest.compute(d.algorithm(), r.body()), r::toString);
        if (reference.contains(":")) {
            assertEquals(reference, d.toString(), () -> "the manifest asked for by digest: " + r);
        }
        return new PulledManifest(r.header("Content-Type").orElse(null), d, r.body());
    }

    /** HEAD of a manifest: its digest, or empty when the registry answers 404. */
    public Optional<Digest> manifestDigest(String repo, String reference) {
        OciResponse r = send("HEAD", "/v2/" + repo + "/manifests/" + reference, null, "Accept", ALL_MANIFESTS);
        if (r.status() == 404) {
            return Optional.empty();
        }
        r.expect(200);
        return Optional.of(Digest.parse(r.header("Docker-Content-Digest").orElseThrow()));
    }

    /** DELETE of a manifest by tag or digest (202). */
    public void deleteManifest(String repo, String reference) {
        send("DELETE", "/v2/" + repo + "/manifests/" + reference, null).expect(202);
    }

    /** The repository's tags (first page as the registry sends it). */
    public List<String> tags(String repo) {
        OciResponse r = get("/v2/" + repo + "/tags/list").expect(200);
        List<String> tags = new ArrayList<>();
        try (JsonParser p = JSON.createParser(r.body())) {
            while (p.nextToken() != null) {
                if (p.currentToken() == JsonToken.FIELD_NAME
                        && p.currentName().equals("tags")
                        && p.nextToken() == JsonToken.START_ARRAY) {
                    while (p.nextToken() == JsonToken.VALUE_STRING) {
                        tags.add(p.getText());
                    }
                }
            }
        } catch (IOException e) {
            throw new AssertionError("not a tag list: " + r, e);
        }
        return tags;
    }

    private static String withQuery(String location, String parameter) {
        return location + (location.contains("?") ? "&" : "?") + parameter;
    }

    private static String encode(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8);
    }

    private static String stringField(OciResponse r, String name) {
        try (JsonParser p = JSON.createParser(r.body())) {
            while (p.nextToken() != null) {
                if (p.currentToken() == JsonToken.FIELD_NAME
                        && p.currentName().equals(name)
                        && p.nextToken() == JsonToken.VALUE_STRING) {
                    return p.getText();
                }
            }
        } catch (IOException e) {
            throw new AssertionError("not JSON: " + r, e);
        }
        throw new AssertionError("no " + name + " in " + r);
    }
}
