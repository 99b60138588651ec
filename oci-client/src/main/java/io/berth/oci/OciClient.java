package io.berth.oci;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.berth.core.config.BerthConfig;
import io.berth.core.model.Digest;
import io.berth.core.model.DigestAlgorithm;
import io.berth.core.model.Reference;
import io.berth.core.model.RepositoryName;
import io.berth.core.model.Tag;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.net.ConnectException;
import java.net.NoRouteToHostException;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.URLEncoder;
import java.net.UnknownHostException;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpHeaders;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.ByteBuffer;
import java.nio.channels.UnresolvedAddressException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Flow;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLException;

/**
 * A client of one registry over the OCI Distribution API only — what lets the replicator copy into
 * any OCI registry (Berth, Distribution, zot, Harbor). Authenticates with basic credentials, or with
 * the Docker token flow, only once the registry asked (a 401 and its challenge). Blobs are streamed,
 * never held whole in memory.
 *
 * <p>The registry is not trusted: every name and digest it answers is parsed into the model's types
 * before use and URLs are built from those (never by resolving strings, which would collapse
 * {@code ..}); every answer is bounded in size (manifests by {@code manifests-max-size}, listings and
 * tokens by small limits, listings by a page count and loop detection) and in time for the whole
 * exchange, body included; credentials go only to the configured origin ({@link Origin}).
 */
public final class OciClient {
    static final String MANIFEST_TYPES = String.join(
            ", ",
            "application/vnd.oci.image.index.v1+json",
            "application/vnd.oci.image.manifest.v1+json",
            "application/vnd.docker.distribution.manifest.list.v2+json",
            "application/vnd.docker.distribution.manifest.v2+json");
    /** Manifests larger than this are refused unless configured otherwise (as {@code berth serve}'s default). */
    public static final long DEFAULT_MAX_MANIFEST = 4L << 20;
    /** A token response: a few KiB in practice. */
    static final int MAX_TOKEN_BODY = 64 << 10;
    /** One page of a catalog or tag list (1000 names of up to 255 characters fit in 300 KiB). */
    static final int MAX_LISTING_BODY = 2 << 20;
    /** Pages of one listing, and names in one listing, at most. */
    static final int MAX_PAGES = 1000;

    static final int MAX_LISTED = 200_000;
    /** What of an error body is kept for the message. */
    static final int MAX_ERROR_BODY = 8 << 10;
    /** Redirects followed for one request. */
    static final int MAX_REDIRECTS = 5;
    /** The slowest blob transfer tolerated: slower, and the exchange's deadline passes. */
    static final long MIN_BYTES_PER_SECOND = 16 << 10;

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Pattern CHALLENGE_PARAM = Pattern.compile("(\\w+)=\"([^\"]*)\"");
    private static final Pattern LINK = Pattern.compile("^\\s*<([^>]*)>");

    private final URI base;
    private final String root;
    private final Origin origin;
    private final HttpClient http;
    private final String username;
    private final String password;
    private final Duration timeout;
    private final long maxManifest;
    private final List<URI> tokenRealms;
    private final Reachability reachability;
    private final Access access;
    private final String userAgent;
    /** Bearer tokens kept at most: a pull-through cache's clients choose the repository names asked for. */
    static final int MAX_TOKENS = 1024;

    /**
     * Bearer tokens per scope ({@code repository:a/b:pull,push}, or "" for the registry), the least
     * recently used dropped beyond {@link #MAX_TOKENS} (a dropped one is asked for again at the next 401).
     */
    private final Map<String, String> authorizations =
            Collections.synchronizedMap(new LinkedHashMap<>(16, 0.75f, true) {
                private static final long serialVersionUID = 1L;

                @Override
                protected boolean removeEldestEntry(Map.Entry<String, String> eldest) {
                    return size() > MAX_TOKENS;
                }
            });

    /** Tokens held now (tests). */
    int tokensHeld() {
        return authorizations.size();
    }
    /** Set once the registry asked for basic credentials: from then on they go with every request. */
    private volatile boolean basicAsked;

    /** A registry's answer that was not what the protocol step expected. */
    public static final class OciException extends IOException {
        private static final long serialVersionUID = 1L;
        private final int status;
        private final String code;
        private final transient Optional<Duration> retryAfter;

        OciException(URI base, String what, int status, String body) {
            this(base, what, status, body, Optional.empty());
        }

        OciException(URI base, String what, int status, String body, Optional<Duration> retryAfter) {
            super(what + " at " + base + ": HTTP " + status
                    + (body == null || body.isBlank() ? "" : " " + abbreviate(body)));
            this.status = status;
            this.code = errorCode(body);
            this.retryAfter = retryAfter;
        }

        /** An answer of a status the step did not expect, with the {@code Retry-After} it carried. */
        static OciException of(URI base, String what, HttpResponse<?> r, String body) {
            return new OciException(
                    base,
                    what,
                    r.statusCode(),
                    body,
                    r.headers().firstValue("Retry-After").flatMap(OciClient::retryAfter));
        }

        public int status() {
            return status;
        }

        /** How long the registry asked to wait ({@code Retry-After}, seconds or an HTTP date), when it said. */
        public Optional<Duration> retryAfter() {
            return retryAfter;
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
                return body == null
                        ? ""
                        : JSON.readTree(body)
                                .path("errors")
                                .path(0)
                                .path("code")
                                .asText("");
            } catch (IOException | RuntimeException e) {
                return "";
            }
        }
    }

    /** An answer that broke a bound (too large, too many pages, a loop): the registry is not believed. */
    public static final class RefusedAnswer extends IOException {
        private static final long serialVersionUID = 1L;

        public RefusedAnswer(String message) {
            super(message);
        }
    }

    /** A manifest as stored: exact bytes, media type, digest (checked against the bytes). */
    public record Manifest(byte[] bytes, String mediaType, Digest digest) {}

    /** Which actions a client asks tokens for: a reader asks for pull only (Docker Hub grants anonymous pull and no more). */
    public enum Access {
        PULL("pull"),
        PULL_PUSH("pull,push");

        private final String actions;

        Access(String actions) {
            this.actions = actions;
        }
    }

    /** A blob's body as it arrives (the caller closes it), and its length when the registry said it. */
    public record BlobBody(InputStream body, OptionalLong length) {}

    /** A referrers index as the registry sent it, and whether it applied the artifactType filter. */
    public record ReferrersIndex(byte[] bytes, boolean filtered) {}

    /** One page of a tag list, and the last tag to continue from when the registry links a next page. */
    public record TagPage(List<Tag> tags, Optional<String> next) {}

    /** What a listing found: the names that parse, and what the registry listed that does not. */
    public record Listing<T>(List<T> values, List<String> refused) {}

    public OciClient(URI base, String username, String password, SSLContext tls, Duration timeout) {
        this(base, username, password, tls, timeout, null);
    }

    public OciClient(
            URI base, String username, String password, SSLContext tls, Duration timeout, Reachability reachability) {
        this(base, username, password, tls, timeout, reachability, DEFAULT_MAX_MANIFEST, List.of());
    }

    /**
     * A client that tells {@code reachability} whether each request got an answer at all;
     * {@code timeout} bounds each whole exchange (a blob's body gets more, by its size).
     */
    public OciClient(
            URI base,
            String username,
            String password,
            SSLContext tls,
            Duration timeout,
            Reachability reachability,
            long maxManifest,
            List<URI> tokenRealms) {
        this(
                base,
                username,
                password,
                tls,
                timeout,
                reachability,
                maxManifest,
                tokenRealms,
                Access.PULL_PUSH,
                "berth-replicator");
    }

    /** A client of {@code endpoint} asking for {@code access}, naming itself {@code userAgent}. */
    public OciClient(
            OciEndpoint endpoint,
            Duration timeout,
            Reachability reachability,
            long maxManifest,
            Access access,
            String userAgent) {
        this(
                endpoint.url(),
                endpoint.username(),
                endpoint.password(),
                Tls.context(endpoint),
                timeout,
                reachability,
                maxManifest,
                endpoint.tokenRealms(),
                access,
                userAgent);
    }

    private OciClient(
            URI base,
            String username,
            String password,
            SSLContext tls,
            Duration timeout,
            Reachability reachability,
            long maxManifest,
            List<URI> tokenRealms,
            Access access,
            String userAgent) {
        if (base.getRawUserInfo() != null) {
            throw new IllegalArgumentException("a registry URL must not carry credentials");
        }
        this.reachability = reachability;
        this.root = base.toString().replaceAll("/+$", "");
        this.base = URI.create(root + "/");
        this.origin = Origin.of(this.base);
        this.username = username == null ? "" : username;
        this.password = password == null ? "" : password;
        this.timeout = timeout;
        this.maxManifest = maxManifest;
        this.tokenRealms = List.copyOf(tokenRealms);
        this.access = access;
        this.userAgent = userAgent;
        // redirects are followed here, by the rules of Origin, never by the client on its own
        HttpClient.Builder b = HttpClient.newBuilder()
                .version(HttpClient.Version.HTTP_1_1)
                .followRedirects(HttpClient.Redirect.NEVER)
                .connectTimeout(Duration.ofSeconds(10));
        if (tls != null) {
            b.sslContext(tls);
        }
        this.http = b.build();
    }

    public URI base() {
        return base;
    }

    /** {@code /v2/<name>/<rest>} on this registry, built from parsed values only. */
    private URI uri(RepositoryName repository, String rest) {
        return URI.create(root + "/v2/" + repository.value() + "/" + rest);
    }

    static Digest digest(DigestAlgorithm algorithm, byte[] bytes) {
        return Digest.compute(algorithm, bytes);
    }

    // ---- authentication

    private String scope(RepositoryName repository) {
        return repository == null ? "" : "repository:" + repository.value() + ":" + access.actions;
    }

    /** The scopes of a mount: push on the repository, pull on the one mounted from (space-separated). */
    private String mountScope(RepositoryName repository, RepositoryName from) {
        return scope(repository) + " repository:" + from.value() + ":pull";
    }

    private HttpRequest.Builder request(RepositoryName repository, URI uri, Duration deadline) {
        return request(scope(repository), uri, deadline);
    }

    private HttpRequest.Builder request(String scope, URI uri, Duration deadline) {
        HttpRequest.Builder b = HttpRequest.newBuilder(uri).timeout(deadline).header("User-Agent", userAgent);
        if (!origin.same(uri)) {
            return b; // credentials only ever to the configured origin
        }
        String auth = authorizations.get(scope);
        if (auth == null && basicAsked) {
            auth = basic();
        }
        if (auth != null) {
            b.header("Authorization", auth);
        }
        return b;
    }

    private String basic() {
        return "Basic "
                + Base64.getEncoder().encodeToString((username + ":" + password).getBytes(StandardCharsets.UTF_8));
    }

    /**
     * Sends a request that can be sent again: follows redirects (GET and HEAD, by the rules of
     * {@link Origin}, without credentials elsewhere) and answers a 401's challenge once.
     */
    private <T> HttpResponse<T> send(
            RepositoryName repository,
            Function<HttpRequest.Builder, HttpRequest> build,
            URI uri,
            HttpResponse.BodyHandler<T> handler,
            Duration deadline)
            throws IOException {
        return send(scope(repository), build, uri, handler, deadline);
    }

    private <T> HttpResponse<T> send(
            String scope,
            Function<HttpRequest.Builder, HttpRequest> build,
            URI uri,
            HttpResponse.BodyHandler<T> handler,
            Duration deadline)
            throws IOException {
        HttpResponse<T> r = follow(scope, build, uri, handler, deadline);
        if (r.statusCode() == 401 && authenticate(scope, r.headers())) {
            drain(r);
            r = follow(scope, build, uri, handler, deadline);
        }
        return r;
    }

    private <T> HttpResponse<T> follow(
            String scope,
            Function<HttpRequest.Builder, HttpRequest> build,
            URI uri,
            HttpResponse.BodyHandler<T> handler,
            Duration deadline)
            throws IOException {
        URI at = uri;
        for (int hops = 0; ; hops++) {
            HttpRequest req = build.apply(request(scope, at, deadline));
            HttpResponse<T> r = exchange(req, handler, deadline);
            int s = r.statusCode();
            boolean redirect = s == 301 || s == 302 || s == 303 || s == 307 || s == 308;
            if (!redirect || !(req.method().equals("GET") || req.method().equals("HEAD"))) {
                return r;
            }
            drain(r);
            if (hops >= MAX_REDIRECTS) {
                throw new RefusedAnswer(req.method() + " " + uri + ": more than " + MAX_REDIRECTS + " redirects");
            }
            String location = r.headers()
                    .firstValue("Location")
                    .orElseThrow(() -> new OciException(
                            base, "redirect without Location for " + req.method() + " " + req.uri(), s, null));
            at = origin.follow(
                    resolve(at, location), "redirect of " + req.method() + " " + req.uri() + " to", List.of());
        }
    }

    private static URI resolve(URI against, String location) throws IOException {
        try {
            return against.resolve(new URI(location.strip()));
        } catch (URISyntaxException | IllegalArgumentException e) {
            throw new RefusedAnswer(
                    "'" + (location.length() > 200 ? location.substring(0, 200) + "…" : location) + "' is not a URL");
        }
    }

    /**
     * Sends a request and waits at most {@code deadline} for the whole answer, body included (the
     * client's own timeout covers only the headers). A request without an answer fails saying what
     * was asked where and why ({@code HEAD http://site-b:5000/v2/a/manifests/v1: connection refused})
     * and tells the reachability listener; any answer tells it the registry is there.
     */
    private <T> HttpResponse<T> exchange(HttpRequest req, HttpResponse.BodyHandler<T> handler, Duration deadline)
            throws IOException {
        // synchronous: sendAsync would complete on the common pool, which a busy caller may hold
        String late = req.method() + " " + req.uri() + ": no complete answer within "
                + BerthConfig.formatMillis(deadline.toMillis());
        HttpResponse<T> r;
        try {
            r = http.send(req, Deadlines.bound(handler, System.nanoTime() + deadline.toNanos(), late));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted");
        } catch (RefusedAnswer refused) {
            throw new RefusedAnswer(req.method() + " " + req.uri() + ": " + refused.getMessage());
        } catch (HttpConnectTimeoutException e) {
            String why = req.method() + " " + req.uri() + ": connect timed out";
            if (reachability != null) {
                reachability.failed(why);
            }
            throw new HttpConnectTimeoutException(why);
        } catch (HttpTimeoutException e) {
            throw stuck(req, late);
        } catch (IOException e) {
            for (Throwable c = e.getCause(); c != null; c = c.getCause()) {
                if (c instanceof RefusedAnswer refused) {
                    throw new RefusedAnswer(req.method() + " " + req.uri() + ": " + refused.getMessage());
                }
                if (c instanceof HttpTimeoutException) {
                    throw stuck(req, late);
                }
            }
            String why = req.method() + " " + req.uri() + ": " + describe(e);
            if (reachability != null && unreachable(e)) {
                reachability.failed(why);
            }
            throw new IOException(why, e);
        }
        if (reachability != null) {
            reachability.completed(req.method() + " " + req.uri());
        }
        return r;
    }

    /** A deadline passed with the answer incomplete: the registry is there but stuck (shown in /healthz). */
    private HttpTimeoutException stuck(HttpRequest req, String why) {
        if (reachability != null) {
            reachability.stuck(req.method() + " " + req.uri(), why);
        }
        return new HttpTimeoutException(why);
    }

    /** Why a request got no answer, in words: "connection refused", "connect timed out", … */
    static String describe(Throwable t) {
        if (t instanceof HttpConnectTimeoutException) {
            return "connect timed out";
        }
        if (t instanceof HttpTimeoutException) {
            return "no answer within the timeout";
        }
        for (Throwable c = t; c != null; c = c.getCause()) {
            if (c instanceof ConnectException) {
                return "connection refused";
            }
            if (c instanceof UnresolvedAddressException || c instanceof UnknownHostException) {
                return "unknown host";
            }
            if (c instanceof SSLException) {
                return "TLS: " + c.getMessage();
            }
            if (c.getCause() == c) {
                break;
            }
        }
        return t.getMessage() == null
                ? t.getClass().getSimpleName()
                : t.getMessage().toLowerCase(Locale.ROOT);
    }

    /** Whether a failure means the registry cannot be reached at all (not a connection cut mid-request). */
    static boolean unreachable(Throwable t) {
        for (Throwable c = t; c != null; c = c.getCause()) {
            if (c instanceof ConnectException
                    || c instanceof HttpConnectTimeoutException
                    || c instanceof UnresolvedAddressException
                    || c instanceof UnknownHostException
                    || c instanceof NoRouteToHostException) {
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
        drain(exchange(
                HttpRequest.newBuilder(URI.create(root + "/v2/"))
                        .timeout(Duration.ofSeconds(10))
                        .header("User-Agent", userAgent)
                        .GET()
                        .build(),
                bounded(MAX_ERROR_BODY, "/v2/"),
                Duration.ofSeconds(10)));
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
    private boolean authenticate(String scope, HttpHeaders headers) throws IOException {
        String challenge = headers.firstValue("WWW-Authenticate").orElse("");
        if (challenge.regionMatches(true, 0, "Basic", 0, 5)) {
            if (username.isEmpty() || basicAsked) {
                return false;
            }
            basicAsked = true;
            return true;
        }
        if (!challenge.regionMatches(true, 0, "Bearer", 0, 6)) {
            return false;
        }
        Map<String, String> params = new LinkedHashMap<>();
        Matcher m = CHALLENGE_PARAM.matcher(challenge);
        while (m.find()) {
            params.put(m.group(1).toLowerCase(Locale.ROOT), m.group(2));
        }
        String realmText = params.get("realm");
        if (realmText == null) {
            return false;
        }
        URI realm = origin.follow(resolve(base, realmText), "token realm", tokenRealms);
        StringBuilder q = new StringBuilder();
        if (params.containsKey("service")) {
            q.append("service=").append(URLEncoder.encode(params.get("service"), StandardCharsets.UTF_8));
        }
        String wanted = scope.isEmpty() ? params.getOrDefault("scope", "") : scope;
        for (String one : wanted.split(" ")) {
            if (!one.isEmpty()) {
                q.append(q.isEmpty() ? "" : "&")
                        .append("scope=")
                        .append(URLEncoder.encode(one, StandardCharsets.UTF_8));
            }
        }
        URI tokenUri =
                URI.create(realm.toString() + (q.isEmpty() ? "" : (realm.getRawQuery() == null ? "?" : "&") + q));
        HttpRequest.Builder tokenRequest =
                HttpRequest.newBuilder(tokenUri).timeout(timeout).header("User-Agent", userAgent);
        // credentials only to a realm on this origin or one the configuration names; elsewhere anonymous
        if (!username.isEmpty()
                && (origin.same(realm)
                        || tokenRealms.stream().anyMatch(a -> Origin.of(a).same(realm)))) {
            tokenRequest.header("Authorization", basic());
        }
        HttpResponse<byte[]> token =
                exchange(tokenRequest.GET().build(), bounded(MAX_TOKEN_BODY, "token response"), timeout);
        if (token.statusCode() != 200) {
            throw OciException.of(base, "token from " + realm, token, text(token.body()));
        }
        JsonNode t = JSON.readTree(token.body());
        String value = t.hasNonNull("token")
                ? t.get("token").asText()
                : t.path("access_token").asText("");
        if (value.isEmpty() || !value.matches("[A-Za-z0-9._~+/=-]{1,16384}")) {
            return false;
        }
        authorizations.put(scope, "Bearer " + value);
        return true;
    }

    // ---- bounded bodies

    /**
     * A body of at most {@code limit} bytes: a larger one (announced, or as it arrives) ends the
     * exchange at once with {@link RefusedAnswer} — nothing more is read.
     */
    static HttpResponse.BodyHandler<byte[]> bounded(long limit, String what) {
        return info -> new BoundedSubscriber(
                limit, what, info.headers().firstValueAsLong("Content-Length").orElse(-1));
    }

    private static final class BoundedSubscriber implements HttpResponse.BodySubscriber<byte[]> {
        private final CompletableFuture<byte[]> result = new CompletableFuture<>();
        private final ByteArrayOutputStream out = new ByteArrayOutputStream();
        private final long limit;
        private final String what;
        private final long declared;
        private Flow.Subscription subscription;

        BoundedSubscriber(long limit, String what, long declared) {
            this.limit = limit;
            this.what = what;
            this.declared = declared;
        }

        @Override
        public CompletionStage<byte[]> getBody() {
            return result;
        }

        @Override
        public void onSubscribe(Flow.Subscription s) {
            subscription = s;
            if (declared > limit) {
                s.cancel();
                result.completeExceptionally(
                        new RefusedAnswer(what + " of " + declared + " bytes is over the limit of " + limit));
                return;
            }
            s.request(1);
        }

        @Override
        public void onNext(List<ByteBuffer> buffers) {
            if (result.isDone()) {
                return;
            }
            for (ByteBuffer b : buffers) {
                if (out.size() + (long) b.remaining() > limit) {
                    subscription.cancel();
                    result.completeExceptionally(new RefusedAnswer(what + " is over the limit of " + limit + " bytes"));
                    return;
                }
                byte[] chunk = new byte[b.remaining()];
                b.get(chunk);
                out.writeBytes(chunk);
            }
            subscription.request(1);
        }

        @Override
        public void onError(Throwable t) {
            result.completeExceptionally(t);
        }

        @Override
        public void onComplete() {
            result.complete(out.toByteArray());
        }
    }

    private static String text(byte[] body) {
        return body == null ? "" : new String(body, 0, Math.min(body.length, MAX_ERROR_BODY), StandardCharsets.UTF_8);
    }

    /** A HEAD's answer: no body, whatever its Content-Length announces. */
    private static final HttpResponse.BodyHandler<byte[]> NO_BODY = HttpResponse.BodyHandlers.replacing(new byte[0]);

    private static HttpResponse.BodyHandler<byte[]> errorBody() {
        return bounded(MAX_ERROR_BODY, "error body");
    }

    // ---- manifests

    /**
     * The digest a reference resolves to, or empty when the registry answers 404. A
     * {@code Docker-Content-Digest} that is not a digest is refused.
     */
    public Optional<Digest> manifestDigest(RepositoryName repository, Reference reference) throws IOException {
        URI u = uri(repository, "manifests/" + reference);
        HttpResponse<byte[]> r = send(
                repository,
                b -> b.method("HEAD", HttpRequest.BodyPublishers.noBody())
                        .header("Accept", MANIFEST_TYPES)
                        .build(),
                u,
                NO_BODY,
                timeout);
        if (r.statusCode() == 404) {
            return Optional.empty();
        }
        if (r.statusCode() != 200) {
            throw OciException.of(base, "HEAD manifest " + repository + ":" + reference, r, null);
        }
        Optional<String> digest = r.headers().firstValue("Docker-Content-Digest");
        if (digest.isPresent()) {
            return Optional.of(parseDigest(digest.get(), "Docker-Content-Digest of " + repository + ":" + reference));
        }
        return manifest(repository, reference).map(Manifest::digest);
    }

    private static Digest parseDigest(String text, String what) throws RefusedAnswer {
        try {
            return Digest.parse(text.strip());
        } catch (RuntimeException e) {
            throw new RefusedAnswer(
                    what + " is not a digest: '" + (text.length() > 100 ? text.substring(0, 100) + "…" : text) + "'");
        }
    }

    /**
     * The manifest a reference names, or empty on 404; at most {@code manifests-max-size} bytes, and
     * its bytes must hash to the digest asked for (by digest) and to the {@code Docker-Content-Digest}
     * the registry sends with it.
     */
    public Optional<Manifest> manifest(RepositoryName repository, Reference reference) throws IOException {
        return manifest(repository, reference, maxManifest);
    }

    /** As {@link #manifest(RepositoryName, Reference)}, at most {@code maxBytes}. */
    public Optional<Manifest> manifest(RepositoryName repository, Reference reference, long maxBytes)
            throws IOException {
        URI u = uri(repository, "manifests/" + reference);
        HttpResponse<byte[]> r = send(
                repository,
                b -> b.GET().header("Accept", MANIFEST_TYPES).build(),
                u,
                bounded(maxBytes, "manifest " + repository + ":" + reference),
                timeout);
        if (r.statusCode() == 404) {
            return Optional.empty();
        }
        if (r.statusCode() != 200) {
            throw OciException.of(base, "GET manifest " + repository + ":" + reference, r, text(r.body()));
        }
        byte[] bytes = r.body();
        Digest digest = digest(reference instanceof Digest d ? d.algorithm() : DigestAlgorithm.SHA256, bytes);
        if (reference instanceof Digest asked && !asked.equals(digest)) {
            throw new RefusedAnswer("manifest " + repository + "@" + asked + " has bytes of digest " + digest);
        }
        Optional<String> header = r.headers().firstValue("Docker-Content-Digest");
        if (header.isPresent()) {
            Digest advertised = parseDigest(header.get(), "Docker-Content-Digest of " + repository + ":" + reference);
            if (!digest(advertised.algorithm(), bytes).equals(advertised)) {
                throw new RefusedAnswer("manifest " + repository + ":" + reference + " has bytes that do not match its "
                        + "Docker-Content-Digest " + advertised);
            }
        }
        String type =
                r.headers().firstValue("Content-Type").orElse("").split(";")[0].trim();
        if (type.isEmpty() || type.equals("application/json")) {
            type = JSON.readTree(bytes).path("mediaType").asText(type);
        }
        return Optional.of(new Manifest(bytes, type, digest));
    }

    public void putManifest(RepositoryName repository, Reference reference, String mediaType, byte[] bytes)
            throws IOException {
        URI u = uri(repository, "manifests/" + reference);
        HttpResponse<byte[]> r = send(
                repository,
                b -> b.PUT(HttpRequest.BodyPublishers.ofByteArray(bytes))
                        .header("Content-Type", mediaType)
                        .build(),
                u,
                errorBody(),
                timeout);
        if (r.statusCode() != 201 && r.statusCode() != 200) {
            throw OciException.of(base, "PUT manifest " + repository + ":" + reference, r, text(r.body()));
        }
    }

    /** Deletes a manifest or a tag; false when it was not there. */
    public boolean deleteManifest(RepositoryName repository, Reference reference) throws IOException {
        URI u = uri(repository, "manifests/" + reference);
        HttpResponse<byte[]> r = send(
                "repository:" + repository.value() + ":pull,push,delete",
                b -> b.DELETE().build(),
                u,
                errorBody(),
                timeout);
        if (r.statusCode() == 404) {
            return false;
        }
        if (r.statusCode() != 202 && r.statusCode() != 200) {
            throw OciException.of(base, "DELETE manifest " + repository + ":" + reference, r, text(r.body()));
        }
        return true;
    }

    // ---- blobs

    public boolean blobExists(RepositoryName repository, Digest digest) throws IOException {
        URI u = uri(repository, "blobs/" + digest);
        HttpResponse<byte[]> r = send(
                repository,
                b -> b.method("HEAD", HttpRequest.BodyPublishers.noBody()).build(),
                u,
                NO_BODY,
                timeout);
        if (r.statusCode() == 404) {
            return false;
        }
        if (r.statusCode() != 200) {
            throw OciException.of(base, "HEAD blob " + repository + "@" + digest, r, null);
        }
        return true;
    }

    /**
     * A blob's size (a HEAD), or empty when the registry answers 404; an answer without a length is
     * refused.
     */
    public OptionalLong blobSize(RepositoryName repository, Digest digest) throws IOException {
        URI u = uri(repository, "blobs/" + digest);
        HttpResponse<byte[]> r = send(
                repository,
                b -> b.method("HEAD", HttpRequest.BodyPublishers.noBody()).build(),
                u,
                NO_BODY,
                timeout);
        if (r.statusCode() == 404) {
            return OptionalLong.empty();
        }
        if (r.statusCode() != 200) {
            throw OciException.of(base, "HEAD blob " + repository + "@" + digest, r, null);
        }
        OptionalLong length = r.headers().firstValueAsLong("Content-Length");
        if (length.isEmpty() || length.getAsLong() < 0) {
            throw new RefusedAnswer("HEAD blob " + repository + "@" + digest + " at " + base + ": no Content-Length");
        }
        return length;
    }

    /**
     * A whole blob, streamed, or empty when the registry answers 404. Its bytes are not checked here
     * (the caller hashes them); reading them ends with an error once the deadline of the announced
     * length ({@link #deadline(long)}) has passed, or of {@link #UNANNOUNCED_BLOB} without one.
     */
    public Optional<BlobBody> fetchBlob(RepositoryName repository, Digest digest) throws IOException {
        URI u = uri(repository, "blobs/" + digest);
        HttpResponse<InputStream> r =
                send(repository, b -> b.GET().build(), u, HttpResponse.BodyHandlers.ofInputStream(), timeout);
        String what = "GET blob " + repository + "@" + digest + " at " + u.getHost() + ":" + u.getPort();
        if (r.statusCode() != 200) {
            String body;
            try (InputStream in = Deadlines.bound(r.body(), timeout, what + " (an answer " + r.statusCode() + ")")) {
                body = new String(in.readNBytes(4096), StandardCharsets.UTF_8);
            }
            if (r.statusCode() == 404) {
                return Optional.empty();
            }
            throw OciException.of(base, "GET blob " + repository + "@" + digest, r, body);
        }
        OptionalLong length = r.headers().firstValueAsLong("Content-Length");
        Duration deadline = deadline(length.orElse(UNANNOUNCED_BLOB));
        return Optional.of(new BlobBody(Deadlines.bound(r.body(), deadline, what), length));
    }

    /** The size a blob without a {@code Content-Length} is given time for (at the slowest rate tolerated). */
    static final long UNANNOUNCED_BLOB = 1L << 30;

    /** The time a transfer of {@code bytes} may take at the slowest rate tolerated. */
    Duration deadline(long bytes) {
        return timeout.plusSeconds(bytes / MIN_BYTES_PER_SECOND);
    }

    /**
     * {@code length} bytes of the blob from {@code offset}, streamed (the caller closes the stream);
     * reading them ends with an error once {@link #deadline(long)} has passed.
     */
    public InputStream openBlob(RepositoryName repository, Digest digest, long offset, long length) throws IOException {
        URI u = uri(repository, "blobs/" + digest);
        HttpResponse<InputStream> r = send(
                repository,
                b -> (offset > 0 ? b.header("Range", "bytes=" + offset + "-") : b)
                        .GET()
                        .build(),
                u,
                ReadAhead.handler(),
                timeout);
        int expected = offset > 0 ? 206 : 200;
        if (r.statusCode() != expected) {
            String body;
            // the answer's body too within the deadline: a source that sends a status and then nothing must
            // not hold the repository's queue (and with it the target's reconciliation) for good
            try (InputStream in = Deadlines.bound(
                    r.body(),
                    timeout,
                    "GET blob " + repository + "@" + digest + " (an answer " + r.statusCode() + ") at " + u.getHost()
                            + ":" + u.getPort())) {
                body = new String(in.readNBytes(4096), StandardCharsets.UTF_8);
            }
            throw OciException.of(base, "GET blob " + repository + "@" + digest + " from " + offset, r, body);
        }
        return Deadlines.bound(
                r.body(),
                deadline(length),
                "GET blob " + repository + "@" + digest + " at " + u.getHost() + ":" + u.getPort());
    }

    /** Where an upload continues; null {@code location} when a mount made it unnecessary. */
    public record Upload(URI location, boolean mounted) {}

    /** Mounts the blob from {@code from}, or (when the registry cannot) starts an upload. */
    public Upload mountOrStart(RepositoryName repository, Digest digest, RepositoryName from) throws IOException {
        String query = from == null ? "" : "?mount=" + digest + "&from=" + from.value();
        URI u = uri(repository, "blobs/uploads/" + query);
        HttpResponse<byte[]> r = send(
                from == null ? scope(repository) : mountScope(repository, from),
                b -> b.POST(HttpRequest.BodyPublishers.noBody()).build(),
                u,
                errorBody(),
                timeout);
        if (r.statusCode() == 201 && from != null) {
            return new Upload(null, true);
        }
        if (r.statusCode() != 202) {
            throw OciException.of(base, "POST upload " + repository, r, text(r.body()));
        }
        return new Upload(location(r, u), false);
    }

    /**
     * The upload's next address: on the configured origin only — the bytes and the credentials go
     * there, so a registry cannot send them anywhere else.
     */
    private URI location(HttpResponse<?> r, URI asked) throws IOException {
        String l = r.headers()
                .firstValue("Location")
                .orElseThrow(() -> OciException.of(base, "upload without Location", r, null));
        URI u = resolve(asked, l);
        if (!origin.same(u)) {
            throw new RefusedAnswer("upload Location " + Origin.abbreviate(u) + " is not on " + origin.scheme() + "://"
                    + origin.host() + ":" + origin.port() + ": not followed");
        }
        return u;
    }

    /** Sends {@code length} bytes of {@code data} as the chunk at {@code offset}; returns the next location. */
    public URI patch(RepositoryName repository, URI location, long offset, long length, InputStream data)
            throws IOException {
        Duration deadline = deadline(length);
        HttpRequest req = request(repository, location, deadline)
                .header("Content-Type", "application/octet-stream")
                .header("Content-Range", offset + "-" + (offset + length - 1))
                .method("PATCH", streamed(data, length))
                .build();
        HttpResponse<byte[]> r = exchange(req, errorBody(), deadline);
        if (r.statusCode() != 202) {
            throw OciException.of(base, "PATCH upload " + repository + " at " + offset, r, text(r.body()));
        }
        return location(r, location);
    }

    /** Bytes read from a streamed request body at a time. */
    static final int BODY_BLOCK = 256 << 10;

    /**
     * A request body of {@code length} bytes of {@code data}, read {@link #BODY_BLOCK} at a time and
     * handed to the client as they are: the JDK's {@code ofInputStream} and {@code ofByteArrays} hand it
     * 16 KiB copies, each one a round through its writer.
     */
    static HttpRequest.BodyPublisher streamed(InputStream data, long length) {
        return HttpRequest.BodyPublishers.fromPublisher(new Blocks(data, length), length);
    }

    /** {@link #streamed}: one subscriber, blocks read on the thread that asks for them. */
    private static final class Blocks implements Flow.Publisher<ByteBuffer> {
        private final InputStream data;
        private final long length;

        Blocks(InputStream data, long length) {
            this.data = data;
            this.length = length;
        }

        @Override
        public void subscribe(Flow.Subscriber<? super ByteBuffer> subscriber) {
            subscriber.onSubscribe(new Flow.Subscription() {
                private final AtomicLong demand = new AtomicLong();
                private final AtomicInteger working = new AtomicInteger();
                private volatile boolean done;
                private long left = length;

                @Override
                public void request(long n) {
                    if (n <= 0) {
                        cancel();
                        subscriber.onError(new IllegalArgumentException("request " + n));
                        return;
                    }
                    demand.getAndAccumulate(n, (a, b) -> a + b < 0 ? Long.MAX_VALUE : a + b);
                    if (working.getAndIncrement() != 0) {
                        return; // the thread in the loop below sends it
                    }
                    do {
                        while (!done && demand.get() > 0) {
                            if (left == 0) {
                                done = true;
                                subscriber.onComplete();
                                break;
                            }
                            byte[] block = new byte[(int) Math.min(BODY_BLOCK, left)];
                            try {
                                int got = data.readNBytes(block, 0, block.length);
                                if (got < block.length) {
                                    throw new EOFException("the body ended " + (left - got) + " bytes early");
                                }
                            } catch (IOException | RuntimeException e) {
                                done = true;
                                subscriber.onError(e);
                                break;
                            }
                            left -= block.length;
                            demand.decrementAndGet();
                            subscriber.onNext(ByteBuffer.wrap(block));
                        }
                    } while (working.decrementAndGet() != 0);
                }

                @Override
                public void cancel() {
                    done = true;
                }
            });
        }
    }

    /** How many bytes the registry holds of an upload, from its {@code Range} (0 when none). */
    public long uploadOffset(RepositoryName repository, URI location) throws IOException {
        HttpResponse<byte[]> r = send(repository, b -> b.GET().build(), location, errorBody(), timeout);
        if (r.statusCode() != 204 && r.statusCode() != 200) {
            throw OciException.of(base, "GET upload status " + repository, r, text(r.body()));
        }
        String range = r.headers().firstValue("Range").orElse(null);
        if (range == null) {
            return 0;
        }
        try {
            return Long.parseLong(range.substring(range.indexOf('-') + 1).strip()) + 1;
        } catch (NumberFormatException e) {
            throw new RefusedAnswer("upload Range '" + range + "' is not a range");
        }
    }

    public void completeUpload(RepositoryName repository, URI location, Digest digest) throws IOException {
        String sep = location.getRawQuery() != null ? "&" : "?";
        URI u = URI.create(location + sep + "digest=" + URLEncoder.encode(digest.toString(), StandardCharsets.UTF_8));
        HttpResponse<byte[]> r = send(
                repository,
                b -> b.PUT(HttpRequest.BodyPublishers.ofByteArray(new byte[0])).build(),
                u,
                errorBody(),
                timeout);
        if (r.statusCode() != 201) {
            throw OciException.of(base, "PUT upload " + repository + "@" + digest, r, text(r.body()));
        }
    }

    /**
     * Completes an upload with its last (or only) {@code length} bytes as the {@code PUT}'s body: for a
     * blob that fits in one request, one request fewer than a {@code PATCH} and an empty {@code PUT}
     * (the OCI monolithic upload, which every registry takes).
     */
    public void completeUpload(RepositoryName repository, URI location, Digest digest, long length, InputStream data)
            throws IOException {
        String sep = location.getRawQuery() != null ? "&" : "?";
        URI u = URI.create(location + sep + "digest=" + URLEncoder.encode(digest.toString(), StandardCharsets.UTF_8));
        Duration deadline = deadline(length);
        HttpRequest req = request(repository, u, deadline)
                .header("Content-Type", "application/octet-stream")
                .PUT(length == 0 ? HttpRequest.BodyPublishers.ofByteArray(new byte[0]) : streamed(data, length))
                .build();
        HttpResponse<byte[]> r = exchange(req, errorBody(), deadline);
        if (r.statusCode() != 201) {
            throw OciException.of(base, "PUT upload " + repository + "@" + digest, r, text(r.body()));
        }
    }

    // ---- listings

    /** The catalog, following {@code Link}; a 404 is an error (a registry without a catalog cannot be compared). */
    public Listing<RepositoryName> catalog() throws IOException {
        return paged(null, "/v2/_catalog?n=1000", "repositories", RepositoryName::of)
                .orElseThrow(() -> new OciException(base, "GET /v2/_catalog", 404, null));
    }

    /**
     * One page of a repository's tags ({@code n} at most, after {@code last}), or empty on 404; the
     * page says where to continue when the registry links a next one.
     */
    public Optional<TagPage> tagsPage(RepositoryName repository, Optional<String> last, int n) throws IOException {
        String query = "n=" + n
                + last.map(l -> "&last=" + URLEncoder.encode(l, StandardCharsets.UTF_8))
                        .orElse("");
        URI u = URI.create(root + "/v2/" + repository.value() + "/tags/list?" + query);
        HttpResponse<byte[]> r =
                send(repository, b -> b.GET().build(), u, bounded(MAX_LISTING_BODY, "tags of " + repository), timeout);
        if (r.statusCode() == 404) {
            return Optional.empty();
        }
        if (r.statusCode() != 200) {
            throw OciException.of(base, "GET tags of " + repository, r, text(r.body()));
        }
        JsonNode list = JSON.readTree(r.body()).path("tags");
        if (!list.isArray() && !list.isNull() && !list.isMissingNode()) {
            throw new RefusedAnswer("GET tags of " + repository + " at " + base + ": tags is not a list");
        }
        if (list.size() > n) {
            throw new RefusedAnswer(
                    "GET tags of " + repository + " at " + base + ": " + list.size() + " tags, " + n + " asked for");
        }
        List<Tag> tags = new ArrayList<>();
        for (JsonNode t : list) {
            try {
                tags.add(new Tag(t.asText()));
            } catch (RuntimeException e) {
                throw new RefusedAnswer("GET tags of " + repository + " at " + base + ": '" + abbreviate(t.asText())
                        + "' is not a tag");
            }
        }
        boolean more = r.headers().firstValue("Link").isPresent() && !tags.isEmpty();
        return Optional.of(new TagPage(
                List.copyOf(tags), more ? Optional.of(tags.get(tags.size() - 1).value()) : Optional.empty()));
    }

    /**
     * The referrers index of {@code subject} as the registry sends it (exact bytes, at most
     * {@code maxBytes}), filtered by {@code artifactType} when given and the registry says it applied
     * the filter; a registry without the referrers API (404) is asked for the tag schema's index
     * ({@code sha256-<hex>}). Empty when neither exists.
     */
    public Optional<ReferrersIndex> referrersIndex(
            RepositoryName repository, Digest subject, Optional<String> artifactType, long maxBytes)
            throws IOException {
        String query = artifactType
                .map(t -> "?artifactType=" + URLEncoder.encode(t, StandardCharsets.UTF_8))
                .orElse("");
        URI u = uri(repository, "referrers/" + subject + query);
        HttpResponse<byte[]> r = send(
                repository,
                b -> b.GET()
                        .header("Accept", "application/vnd.oci.image.index.v1+json")
                        .build(),
                u,
                bounded(maxBytes, "referrers of " + repository + "@" + subject),
                timeout);
        if (r.statusCode() == 200) {
            JsonNode index = JSON.readTree(r.body());
            if (!index.path("manifests").isArray()) {
                throw new RefusedAnswer(
                        "referrers of " + repository + "@" + subject + " at " + base + ": not an image index");
            }
            boolean filtered = artifactType.isPresent()
                    && r.headers().allValues("OCI-Filters-Applied").stream()
                            .anyMatch(v -> List.of(v.split(",")).stream()
                                    .anyMatch(f -> f.strip().equals("artifactType")));
            return Optional.of(new ReferrersIndex(r.body(), filtered));
        }
        if (r.statusCode() != 404) {
            throw OciException.of(base, "GET referrers " + repository + "@" + subject, r, text(r.body()));
        }
        return manifest(repository, new Tag(subject.algorithm().prefix() + "-" + subject.hex()), maxBytes)
                .map(m -> new ReferrersIndex(m.bytes(), false));
    }

    /**
     * A {@code Retry-After} value as a wait from now: seconds, or an HTTP date; empty when it is
     * neither (the caller decides the bounds).
     */
    static Optional<Duration> retryAfter(String value) {
        String v = value.strip();
        if (v.matches("\\d{1,10}")) {
            return Optional.of(Duration.ofSeconds(Long.parseLong(v)));
        }
        try {
            Duration d = Duration.between(
                    Instant.now(),
                    ZonedDateTime.parse(v, DateTimeFormatter.RFC_1123_DATE_TIME).toInstant());
            return Optional.of(d.isNegative() ? Duration.ZERO : d);
        } catch (DateTimeParseException e) {
            return Optional.empty();
        }
    }

    /** The tags of a repository, or empty when the registry answers 404 (does not know the repository). */
    public Optional<Listing<Tag>> tags(RepositoryName repository) throws IOException {
        return paged(repository, "/v2/" + repository.value() + "/tags/list?n=1000", "tags", Tag::new);
    }

    private <T> Optional<Listing<T>> paged(
            RepositoryName repository, String first, String field, Function<String, T> parse) throws IOException {
        List<T> out = new ArrayList<>();
        List<String> refused = new ArrayList<>();
        Set<String> seen = new HashSet<>();
        String next = first;
        int pages = 0;
        while (next != null) {
            if (!seen.add(next)) {
                throw new RefusedAnswer("GET " + first + ": the Link header leads back to " + next + " (a loop)");
            }
            if (++pages > MAX_PAGES) {
                throw new RefusedAnswer("GET " + first + ": more than " + MAX_PAGES + " pages");
            }
            URI u = URI.create(root + next);
            String page = next;
            HttpResponse<byte[]> r =
                    send(repository, b -> b.GET().build(), u, bounded(MAX_LISTING_BODY, "listing " + page), timeout);
            if (r.statusCode() == 404 && pages == 1) {
                return Optional.empty();
            }
            if (r.statusCode() != 200) {
                throw OciException.of(base, "GET " + next, r, text(r.body()));
            }
            JsonNode list = JSON.readTree(r.body()).path(field);
            if (!list.isArray() && !list.isNull() && !list.isMissingNode()) {
                throw new RefusedAnswer("GET " + next + ": " + field + " is not a list");
            }
            for (JsonNode n : list) {
                if (out.size() >= MAX_LISTED) {
                    throw new RefusedAnswer("GET " + first + ": more than " + MAX_LISTED + " entries");
                }
                try {
                    out.add(parse.apply(n.asText()));
                } catch (RuntimeException e) {
                    if (refused.size() < 100) {
                        String t = n.asText();
                        refused.add(t.length() > 100 ? t.substring(0, 100) + "…" : t);
                    }
                }
            }
            next = list.isEmpty() ? null : nextPage(r, u);
        }
        return Optional.of(new Listing<>(List.copyOf(out), List.copyOf(refused)));
    }

    /** The path and query of the next page: a {@code Link} on this origin and under {@code /v2/}, or none. */
    private String nextPage(HttpResponse<?> r, URI page) throws IOException {
        Optional<String> link = r.headers().firstValue("Link");
        if (link.isEmpty()) {
            return null;
        }
        Matcher m = LINK.matcher(link.get());
        if (!m.find()) {
            throw new RefusedAnswer("Link '" + abbreviate(link.get()) + "' is not <url>; rel=\"next\"");
        }
        URI next = resolve(page, m.group(1));
        String prefix = URI.create(root).getRawPath() + "/v2/";
        if (!origin.same(next)
                || next.getRawPath() == null
                || !next.getRawPath().startsWith(prefix)
                || next.getRawPath().contains("/../")
                || next.getRawPath().contains("/./")) {
            throw new RefusedAnswer(
                    "Link " + Origin.abbreviate(next) + " leads away from " + root + "/v2/: not followed");
        }
        String path = next.getRawPath().substring(URI.create(root).getRawPath().length());
        return path + (next.getRawQuery() == null ? "" : "?" + next.getRawQuery());
    }

    private static String abbreviate(String s) {
        return s.length() > 200 ? s.substring(0, 200) + "…" : s;
    }

    /** Digests of the manifests whose subject is {@code digest} (referrers API, else the tag schema). */
    public List<Digest> referrers(RepositoryName repository, Digest digest, Consumer<String> refused)
            throws IOException {
        URI u = uri(repository, "referrers/" + digest);
        HttpResponse<byte[]> r = send(
                repository,
                b -> b.GET()
                        .header("Accept", "application/vnd.oci.image.index.v1+json")
                        .build(),
                u,
                bounded(maxManifest, "referrers of " + repository + "@" + digest),
                timeout);
        JsonNode index;
        if (r.statusCode() == 200) {
            index = JSON.readTree(r.body());
        } else if (r.statusCode() == 404) {
            Optional<Manifest> fallback =
                    manifest(repository, new Tag(digest.algorithm().prefix() + "-" + digest.hex()));
            if (fallback.isEmpty()) {
                return List.of();
            }
            index = JSON.readTree(fallback.get().bytes());
        } else {
            throw OciException.of(base, "GET referrers " + repository + "@" + digest, r, text(r.body()));
        }
        List<Digest> out = new ArrayList<>();
        for (JsonNode m : index.path("manifests")) {
            try {
                out.add(Digest.parse(m.path("digest").asText()));
            } catch (RuntimeException e) {
                refused.accept("referrer '" + abbreviate(m.path("digest").asText()) + "' of " + repository + "@"
                        + digest + " is not a digest");
            }
        }
        return out;
    }
}
