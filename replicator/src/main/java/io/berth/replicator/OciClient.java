package io.berth.replicator;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpHeaders;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.net.ssl.SSLContext;

/**
 * A client of one registry over the OCI Distribution API only — what lets the replicator copy into
 * any OCI registry (Berth, Distribution, zot, Harbor). Authenticates with basic credentials, or with
 * the Docker token flow when the registry answers 401 with a {@code Bearer} challenge. Blobs are
 * streamed, never held whole in memory.
 */
public final class OciClient {
    static final String MANIFEST_TYPES = String.join(", ", "application/vnd.oci.image.index.v1+json",
            "application/vnd.oci.image.manifest.v1+json", "application/vnd.docker.distribution.manifest.list.v2+json",
            "application/vnd.docker.distribution.manifest.v2+json");
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Pattern CHALLENGE_PARAM = Pattern.compile("(\\w+)=\"([^\"]*)\"");

    private final URI base;
    private final HttpClient http;
    private final String username;
    private final String password;
    private final Duration timeout;
    private final Reachability reachability;
    /** Authorization header values per scope ({@code repository:a/b:pull,push}, or "" for the registry). */
    private final Map<String, String> authorizations = new ConcurrentHashMap<>();

    /** A registry's answer that was not what the protocol step expected. */
    public static final class OciException extends IOException {
        private static final long serialVersionUID = 1L;
        private final int status;
        private final String code;

        OciException(URI base, String what, int status, String body) {
            super(what + " at " + base + ": HTTP " + status + (body == null || body.isBlank() ? ""
                    : " " + abbreviate(body)));
            this.status = status;
            this.code = errorCode(body);
        }

        public int status() {
            return status;
        }

        /** The OCI error code of the body ({@code MANIFEST_BLOB_UNKNOWN}), or empty. */
        public String code() {
            return code;
        }

        private static String abbreviate(String body) {
            String b = body.replaceAll("\\s+", " ").strip();
            return b.length() > 300 ? b.substring(0, 300) + "…" : b;
        }

        private static String errorCode(String body) {
            try {
                return JSON.readTree(body).path("errors").path(0).path("code").asText("");
            } catch (IOException | RuntimeException e) {
                return "";
            }
        }
    }

    /** A manifest as stored: exact bytes, media type, digest. */
    public record Manifest(byte[] bytes, String mediaType, String digest) {
    }

    public OciClient(URI base, String username, String password, SSLContext tls, Duration timeout) {
        this(base, username, password, tls, timeout, null);
    }

    /** A client that tells {@code reachability} whether each request got an answer at all. */
    public OciClient(URI base, String username, String password, SSLContext tls, Duration timeout,
                     Reachability reachability) {
        this.reachability = reachability;
        this.base = URI.create(base.toString().replaceAll("/+$", "") + "/");
        this.username = username == null ? "" : username;
        this.password = password == null ? "" : password;
        this.timeout = timeout;
        HttpClient.Builder b = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                .followRedirects(HttpClient.Redirect.NORMAL).connectTimeout(Duration.ofSeconds(10));
        if (tls != null) {
            b.sslContext(tls);
        }
        this.http = b.build();
    }

    public URI base() {
        return base;
    }

    private URI uri(String path) {
        return base.resolve(path.startsWith("/") ? path.substring(1) : path);
    }

    static String sha256(byte[] bytes) {
        try {
            return "sha256:" + HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    // ---- authentication

    private static String scope(String repository) {
        return repository == null ? "" : "repository:" + repository + ":pull,push";
    }

    private HttpRequest.Builder request(String repository, URI uri) {
        HttpRequest.Builder b = HttpRequest.newBuilder(uri).timeout(timeout).header("User-Agent", "berth-replicator");
        String auth = authorizations.get(scope(repository));
        if (auth == null && !username.isEmpty() && authorizations.isEmpty()) {
            auth = basic(); // before any challenge: basic, as most registries take it
        }
        if (auth != null) {
            b.header("Authorization", auth);
        }
        return b;
    }

    private String basic() {
        return "Basic " + Base64.getEncoder().encodeToString((username + ":" + password)
                .getBytes(StandardCharsets.UTF_8));
    }

    /**
     * Sends a request that can be sent again; on 401 answers the challenge (basic, or a token from the
     * realm) and sends it once more.
     */
    private <T> HttpResponse<T> send(String repository, java.util.function.Function<HttpRequest.Builder,
            HttpRequest> build, URI uri, HttpResponse.BodyHandler<T> handler) throws IOException {
        HttpResponse<T> r = exchange(build.apply(request(repository, uri)), handler);
        if (r.statusCode() == 401 && authenticate(repository, r.headers())) {
            drain(r);
            r = exchange(build.apply(request(repository, uri)), handler);
        }
        return r;
    }

    /**
     * Sends a request. A request without an answer fails saying what was asked where and why in words
     * ({@code HEAD http://site-b:5000/v2/a/manifests/v1: connection refused}), and tells the
     * reachability listener; any answer, whatever its status, tells it the registry is there.
     */
    private <T> HttpResponse<T> exchange(HttpRequest req, HttpResponse.BodyHandler<T> handler) throws IOException {
        HttpResponse<T> r;
        try {
            r = http.send(req, handler);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
        } catch (IOException e) {
            String why = req.method() + " " + req.uri() + ": " + describe(e);
            if (reachability != null && unreachable(e)) {
                reachability.failed(why);
            }
            throw new IOException(why, e);
        }
        if (reachability != null) {
            reachability.answered();
        }
        return r;
    }

    /** Why a request got no answer, in words: "connection refused", "connect timed out", … */
    static String describe(Throwable t) {
        if (t instanceof java.net.http.HttpConnectTimeoutException) {
            return "connect timed out";
        }
        if (t instanceof java.net.http.HttpTimeoutException) {
            return "no answer within the timeout";
        }
        for (Throwable c = t; c != null; c = c.getCause()) {
            if (c instanceof java.net.ConnectException) {
                return "connection refused";
            }
            if (c instanceof java.nio.channels.UnresolvedAddressException || c instanceof java.net.UnknownHostException) {
                return "unknown host";
            }
            if (c instanceof javax.net.ssl.SSLException) {
                return "TLS: " + c.getMessage();
            }
            if (c.getCause() == c) {
                break;
            }
        }
        return t.getMessage() == null ? t.getClass().getSimpleName() : t.getMessage().toLowerCase(java.util.Locale.ROOT);
    }

    /** Whether a failure means the registry cannot be reached at all (not a connection cut mid-request). */
    static boolean unreachable(Throwable t) {
        for (Throwable c = t; c != null; c = c.getCause()) {
            if (c instanceof java.net.ConnectException || c instanceof java.net.http.HttpConnectTimeoutException
                    || c instanceof java.nio.channels.UnresolvedAddressException
                    || c instanceof java.net.UnknownHostException || c instanceof java.net.NoRouteToHostException) {
                return true;
            }
            if (c.getCause() == c) {
                break;
            }
        }
        return false;
    }

    /** Any answer from the registry's {@code /v2/} (even 401): it is there. */
    public void ping() throws IOException {
        drain(exchange(HttpRequest.newBuilder(uri("/v2/")).timeout(Duration.ofSeconds(10))
                .header("User-Agent", "berth-replicator").GET().build(), HttpResponse.BodyHandlers.discarding()));
    }

    private static void drain(HttpResponse<?> r) {
        if (r.body() instanceof InputStream in) {
            try {
                in.close();
            } catch (IOException e) {
                // nothing to do
            }
        }
    }

    /** Answers a 401's challenge for the repository's scope; false when it cannot be answered. */
    private boolean authenticate(String repository, HttpHeaders headers) throws IOException {
        String challenge = headers.firstValue("WWW-Authenticate").orElse("");
        if (challenge.regionMatches(true, 0, "Basic", 0, 5)) {
            if (username.isEmpty()) {
                return false;
            }
            authorizations.put(scope(repository), basic());
            return true;
        }
        if (!challenge.regionMatches(true, 0, "Bearer", 0, 6)) {
            return false;
        }
        Map<String, String> params = new LinkedHashMap<>();
        Matcher m = CHALLENGE_PARAM.matcher(challenge);
        while (m.find()) {
            params.put(m.group(1).toLowerCase(), m.group(2));
        }
        String realm = params.get("realm");
        if (realm == null) {
            return false;
        }
        StringBuilder q = new StringBuilder();
        if (params.containsKey("service")) {
            q.append("service=").append(URLEncoder.encode(params.get("service"), StandardCharsets.UTF_8));
        }
        String wanted = repository == null ? params.getOrDefault("scope", "") : scope(repository);
        if (!wanted.isEmpty()) {
            q.append(q.isEmpty() ? "" : "&").append("scope=").append(URLEncoder.encode(wanted, StandardCharsets.UTF_8));
        }
        HttpRequest.Builder tokenRequest = HttpRequest.newBuilder(URI.create(realm + (q.isEmpty() ? "" : "?" + q)))
                .timeout(timeout).header("User-Agent", "berth-replicator");
        if (!username.isEmpty()) {
            tokenRequest.header("Authorization", basic());
        }
        HttpResponse<byte[]> token = exchange(tokenRequest.GET().build(), HttpResponse.BodyHandlers.ofByteArray());
        if (token.statusCode() != 200) {
            throw new OciException(base, "token from " + realm, token.statusCode(), new String(token.body(),
                    StandardCharsets.UTF_8));
        }
        JsonNode t = JSON.readTree(token.body());
        String value = t.hasNonNull("token") ? t.get("token").asText() : t.path("access_token").asText("");
        if (value.isEmpty()) {
            return false;
        }
        authorizations.put(scope(repository), "Bearer " + value);
        return true;
    }

    // ---- manifests

    /** The digest a reference resolves to, or empty when the registry has no such manifest. */
    public Optional<String> manifestDigest(String repository, String reference) throws IOException {
        URI u = uri("/v2/" + repository + "/manifests/" + reference);
        HttpResponse<Void> r = send(repository, b -> b.method("HEAD", HttpRequest.BodyPublishers.noBody())
                .header("Accept", MANIFEST_TYPES).build(), u, HttpResponse.BodyHandlers.discarding());
        if (r.statusCode() == 404) {
            return Optional.empty();
        }
        if (r.statusCode() != 200) {
            throw new OciException(base, "HEAD manifest " + repository + ":" + reference, r.statusCode(), null);
        }
        Optional<String> digest = r.headers().firstValue("Docker-Content-Digest");
        if (digest.isPresent()) {
            return digest;
        }
        return manifest(repository, reference).map(Manifest::digest);
    }

    public Optional<Manifest> manifest(String repository, String reference) throws IOException {
        URI u = uri("/v2/" + repository + "/manifests/" + reference);
        HttpResponse<byte[]> r = send(repository, b -> b.GET().header("Accept", MANIFEST_TYPES).build(), u,
                HttpResponse.BodyHandlers.ofByteArray());
        if (r.statusCode() == 404) {
            return Optional.empty();
        }
        if (r.statusCode() != 200) {
            throw new OciException(base, "GET manifest " + repository + ":" + reference, r.statusCode(),
                    new String(r.body(), StandardCharsets.UTF_8));
        }
        String type = r.headers().firstValue("Content-Type").orElse("").split(";")[0].trim();
        if (type.isEmpty() || type.equals("application/json")) {
            type = JSON.readTree(r.body()).path("mediaType").asText(type);
        }
        return Optional.of(new Manifest(r.body(), type, sha256(r.body())));
    }

    public void putManifest(String repository, String reference, String mediaType, byte[] bytes) throws IOException {
        URI u = uri("/v2/" + repository + "/manifests/" + reference);
        HttpResponse<String> r = send(repository, b -> b.PUT(HttpRequest.BodyPublishers.ofByteArray(bytes))
                .header("Content-Type", mediaType).build(), u, HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() != 201 && r.statusCode() != 200) {
            throw new OciException(base, "PUT manifest " + repository + ":" + reference, r.statusCode(), r.body());
        }
    }

    /** Deletes a manifest or a tag; false when it was not there. */
    public boolean deleteManifest(String repository, String reference) throws IOException {
        URI u = uri("/v2/" + repository + "/manifests/" + reference);
        HttpResponse<String> r = send(repository, b -> b.DELETE().build(), u, HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() == 404) {
            return false;
        }
        if (r.statusCode() != 202 && r.statusCode() != 200) {
            throw new OciException(base, "DELETE manifest " + repository + ":" + reference, r.statusCode(), r.body());
        }
        return true;
    }

    // ---- blobs

    public boolean blobExists(String repository, String digest) throws IOException {
        URI u = uri("/v2/" + repository + "/blobs/" + digest);
        HttpResponse<Void> r = send(repository, b -> b.method("HEAD", HttpRequest.BodyPublishers.noBody()).build(), u,
                HttpResponse.BodyHandlers.discarding());
        if (r.statusCode() == 404) {
            return false;
        }
        if (r.statusCode() != 200) {
            throw new OciException(base, "HEAD blob " + repository + "@" + digest, r.statusCode(), null);
        }
        return true;
    }

    /** The blob's bytes from {@code offset}, streamed (the caller closes the stream). */
    public InputStream openBlob(String repository, String digest, long offset) throws IOException {
        URI u = uri("/v2/" + repository + "/blobs/" + digest);
        HttpResponse<InputStream> r = send(repository, b -> (offset > 0 ? b.header("Range", "bytes=" + offset + "-")
                : b).GET().build(), u, HttpResponse.BodyHandlers.ofInputStream());
        int expected = offset > 0 ? 206 : 200;
        if (r.statusCode() != expected) {
            String body;
            try (InputStream in = r.body()) {
                body = new String(in.readNBytes(4096), StandardCharsets.UTF_8);
            }
            throw new OciException(base, "GET blob " + repository + "@" + digest + " from " + offset, r.statusCode(), body);
        }
        return r.body();
    }

    /** Where an upload continues; empty {@code location} when a mount made it unnecessary. */
    public record Upload(String location, boolean mounted) {
    }

    /** Mounts the blob from {@code from}, or (when the registry cannot) starts an upload. */
    public Upload mountOrStart(String repository, String digest, String from) throws IOException {
        String query = from == null ? "" : "?mount=" + digest + "&from=" + from;
        URI u = uri("/v2/" + repository + "/blobs/uploads/" + query);
        HttpResponse<String> r = send(repository, b -> b.POST(HttpRequest.BodyPublishers.noBody()).build(), u,
                HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() == 201 && from != null) {
            return new Upload("", true);
        }
        if (r.statusCode() != 202) {
            throw new OciException(base, "POST upload " + repository, r.statusCode(), r.body());
        }
        return new Upload(location(r), false);
    }

    private String location(HttpResponse<?> r) throws OciException {
        return r.headers().firstValue("Location").map(l -> base.resolve(l).toString()).orElseThrow(() ->
                new OciException(base, "upload without Location", r.statusCode(), null));
    }

    /** Sends {@code length} bytes of {@code data} as the chunk at {@code offset}; returns the next location. */
    public String patch(String repository, String location, long offset, long length, InputStream data)
            throws IOException {
        HttpRequest req = request(repository, URI.create(location)).timeout(Duration.ofHours(1))
                .header("Content-Type", "application/octet-stream")
                .header("Content-Range", offset + "-" + (offset + length - 1))
                .method("PATCH", HttpRequest.BodyPublishers.fromPublisher(HttpRequest.BodyPublishers.ofInputStream(
                        () -> data), length)).build();
        HttpResponse<String> r = exchange(req, HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() != 202) {
            throw new OciException(base, "PATCH upload " + repository + " at " + offset, r.statusCode(), r.body());
        }
        return location(r);
    }

    /** How many bytes the registry holds of an upload, from its {@code Range} (0 when none). */
    public long uploadOffset(String repository, String location) throws IOException {
        HttpResponse<String> r = send(repository, b -> b.GET().build(), URI.create(location),
                HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() != 204 && r.statusCode() != 200) {
            throw new OciException(base, "GET upload status " + repository, r.statusCode(), r.body());
        }
        return r.headers().firstValue("Range").map(range -> Long.parseLong(range.substring(range.indexOf('-') + 1))
                + 1).orElse(0L);
    }

    public void completeUpload(String repository, String location, String digest) throws IOException {
        String sep = location.contains("?") ? "&" : "?";
        URI u = URI.create(location + sep + "digest=" + URLEncoder.encode(digest, StandardCharsets.UTF_8));
        HttpResponse<String> r = send(repository, b -> b.PUT(HttpRequest.BodyPublishers.ofByteArray(new byte[0]))
                .build(), u, HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() != 201) {
            throw new OciException(base, "PUT upload " + repository + "@" + digest, r.statusCode(), r.body());
        }
    }

    // ---- listings

    /** Every repository of the catalog, following {@code Link}. */
    public List<String> catalog() throws IOException {
        return paged(null, "/v2/_catalog?n=1000", "repositories").orElse(List.of());
    }

    /** Every tag of a repository, or empty when the registry does not know the repository. */
    public Optional<List<String>> tags(String repository) throws IOException {
        return paged(repository, "/v2/" + repository + "/tags/list?n=1000", "tags");
    }

    private Optional<List<String>> paged(String repository, String first, String field) throws IOException {
        List<String> out = new ArrayList<>();
        String next = first;
        while (next != null) {
            URI u = uri(next);
            HttpResponse<byte[]> r = send(repository, b -> b.GET().build(), u, HttpResponse.BodyHandlers.ofByteArray());
            if (r.statusCode() == 404) {
                return Optional.empty();
            }
            if (r.statusCode() != 200) {
                throw new OciException(base, "GET " + next, r.statusCode(), new String(r.body(), StandardCharsets.UTF_8));
            }
            JsonNode list = JSON.readTree(r.body()).path(field);
            list.forEach(n -> out.add(n.asText()));
            next = r.headers().firstValue("Link").map(l -> l.substring(l.indexOf('<') + 1, l.indexOf('>')))
                    .orElse(null);
            if (list.isEmpty()) {
                next = null;
            }
        }
        return Optional.of(out);
    }

    /** Digests of the manifests whose subject is {@code digest} (referrers API, else the tag schema). */
    public List<String> referrers(String repository, String digest) throws IOException {
        URI u = uri("/v2/" + repository + "/referrers/" + digest);
        HttpResponse<byte[]> r = send(repository, b -> b.GET().header("Accept", "application/vnd.oci.image.index.v1+json")
                .build(), u, HttpResponse.BodyHandlers.ofByteArray());
        JsonNode index;
        if (r.statusCode() == 200) {
            index = JSON.readTree(r.body());
        } else if (r.statusCode() == 404) {
            Optional<Manifest> fallback = manifest(repository, digest.replace(':', '-'));
            if (fallback.isEmpty()) {
                return List.of();
            }
            index = JSON.readTree(fallback.get().bytes());
        } else {
            throw new OciException(base, "GET referrers " + repository + "@" + digest, r.statusCode(),
                    new String(r.body(), StandardCharsets.UTF_8));
        }
        List<String> out = new ArrayList<>();
        index.path("manifests").forEach(m -> out.add(m.path("digest").asText()));
        return out;
    }
}
