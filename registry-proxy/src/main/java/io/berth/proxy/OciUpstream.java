package io.berth.proxy;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.berth.core.model.Digest;
import io.berth.core.model.Reference;
import io.berth.core.model.RepositoryName;
import io.berth.core.model.Tag;
import io.berth.core.proxy.CachePolicy;
import io.berth.core.proxy.Upstream;
import io.berth.core.proxy.UpstreamBlob;
import io.berth.core.proxy.UpstreamException;
import io.berth.core.proxy.UpstreamException.Kind;
import io.berth.core.proxy.UpstreamManifest;
import io.berth.core.proxy.UpstreamReferrers;
import io.berth.core.proxy.UpstreamStatus;
import io.berth.core.proxy.UpstreamTagPage;
import io.berth.oci.OciClient;
import io.berth.oci.OciClient.OciException;
import io.berth.oci.OciClient.RefusedAnswer;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.net.http.HttpTimeoutException;
import java.time.Duration;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.atomic.LongAdder;

/**
 * An {@link Upstream} over the OCI Distribution API ({@link OciClient}: token flow, origin rules,
 * bounded answers, deadlines), answers mapped to the SPI: 404 is empty; no answer (refused, reset,
 * timed out) {@link Kind#UNREACHABLE}; 5xx {@link Kind#UNAVAILABLE}; 429 {@link Kind#THROTTLED} with its
 * {@code Retry-After} (1 s to 1 h); 401/403 after the token flow {@link Kind#REFUSED}; bytes that do not
 * match, an answer over a bound, unparseable or of another protocol {@link Kind#INVALID}. Messages name
 * the upstream and the request, never credentials. No guards here: {@link GuardedUpstream} adds them.
 */
public final class OciUpstream implements Upstream {
    static final Duration MIN_RETRY_AFTER = Duration.ofSeconds(1);
    static final Duration MAX_RETRY_AFTER = Duration.ofHours(1);
    /** Manifest media types a cache stores; schema 1 (signed JWS) is not among them. */
    static final Set<String> MANIFEST_TYPES = Set.of(
            "application/vnd.oci.image.index.v1+json",
            "application/vnd.oci.image.manifest.v1+json",
            "application/vnd.docker.distribution.manifest.list.v2+json",
            "application/vnd.docker.distribution.manifest.v2+json");

    private static final ObjectMapper JSON = new ObjectMapper();

    private final String name;
    private final String describe;
    private final CachePolicy policy;
    private final OciClient client;
    private final long maxReferrers;
    private final LongAdder requests = new LongAdder();
    private final LongAdder failures = new LongAdder();

    public OciUpstream(String name, String describe, CachePolicy policy, OciClient client, long maxReferrers) {
        this.name = name;
        this.describe = describe;
        this.policy = policy;
        this.client = client;
        this.maxReferrers = maxReferrers;
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public String describe() {
        return describe;
    }

    @Override
    public CachePolicy policy() {
        return policy;
    }

    /** One call to the upstream, its failures mapped. */
    private interface Call<T> {
        T run() throws IOException;
    }

    private <T> T call(String what, Call<T> call) throws UpstreamException {
        requests.increment();
        try {
            return call.run();
        } catch (IOException | RuntimeException e) {
            failures.increment();
            throw map(what, e);
        }
    }

    /** What a failure of the client means to the cache. */
    UpstreamException map(String what, Exception e) {
        String message = "upstream " + name + ": " + (e.getMessage() == null ? what : e.getMessage());
        if (e instanceof OciException o) {
            int s = o.status();
            if (s == 429) {
                Optional<Duration> wait = o.retryAfter().map(OciUpstream::bounded);
                return new UpstreamException(Kind.THROTTLED, message, wait, e);
            }
            if (s == 401 || s == 403) {
                return new UpstreamException(
                        Kind.REFUSED,
                        "upstream " + name + " refused Berth's credentials: " + e.getMessage(),
                        Optional.empty(),
                        e);
            }
            if (s >= 500) {
                return new UpstreamException(Kind.UNAVAILABLE, message, Optional.empty(), e);
            }
            return new UpstreamException(Kind.INVALID, message, Optional.empty(), e);
        }
        if (e instanceof RefusedAnswer || e instanceof JsonProcessingException || e instanceof RuntimeException) {
            return new UpstreamException(Kind.INVALID, message, Optional.empty(), e);
        }
        if (e instanceof InterruptedIOException && !(e instanceof HttpTimeoutException)) {
            Thread.currentThread().interrupt();
        }
        return new UpstreamException(Kind.UNREACHABLE, message, Optional.empty(), e);
    }

    static Duration bounded(Duration d) {
        return d.compareTo(MIN_RETRY_AFTER) < 0
                ? MIN_RETRY_AFTER
                : d.compareTo(MAX_RETRY_AFTER) > 0 ? MAX_RETRY_AFTER : d;
    }

    @Override
    public Optional<Digest> manifestDigest(RepositoryName remote, Tag tag) throws UpstreamException {
        return call("HEAD manifest " + remote + ":" + tag, () -> client.manifestDigest(remote, tag));
    }

    @Override
    public Optional<UpstreamManifest> manifest(RepositoryName remote, Reference reference, long maxBytes)
            throws UpstreamException {
        String what = "GET manifest " + remote + (reference instanceof Digest ? "@" : ":") + reference;
        return call(what, () -> {
            Optional<OciClient.Manifest> m = client.manifest(remote, reference, maxBytes);
            if (m.isEmpty()) {
                return Optional.<UpstreamManifest>empty();
            }
            checkManifest(what, m.get());
            return Optional.of(new UpstreamManifest(
                    m.get().bytes(), m.get().mediaType(), m.get().digest()));
        });
    }

    /** A manifest a cache can store: JSON of schema 2 with a media type it knows. */
    private void checkManifest(String what, OciClient.Manifest m) throws IOException {
        JsonNode root = JSON.readTree(m.bytes());
        if (root == null || !root.isObject() || root.path("schemaVersion").asInt(0) != 2) {
            throw new RefusedAnswer(what + " at " + describe + ": not a schema 2 manifest");
        }
        if (!MANIFEST_TYPES.contains(m.mediaType())) {
            throw new RefusedAnswer(what + " at " + describe + ": media type '"
                    + (m.mediaType().length() > 100 ? m.mediaType().substring(0, 100) + "…" : m.mediaType())
                    + "' is not an image manifest or index");
        }
    }

    @Override
    public OptionalLong blobSize(RepositoryName remote, Digest digest) throws UpstreamException {
        return call("HEAD blob " + remote + "@" + digest, () -> client.blobSize(remote, digest));
    }

    @Override
    public Optional<UpstreamBlob> blob(RepositoryName remote, Digest digest) throws UpstreamException {
        return call(
                "GET blob " + remote + "@" + digest,
                () -> client.fetchBlob(remote, digest).map(b -> new UpstreamBlob(b.body(), b.length())));
    }

    @Override
    public Optional<UpstreamReferrers> referrers(RepositoryName remote, Digest subject, Optional<String> artifactType)
            throws UpstreamException {
        return call(
                "GET referrers " + remote + "@" + subject,
                () -> client.referrersIndex(remote, subject, artifactType, maxReferrers)
                        .map(r -> new UpstreamReferrers(r.bytes(), r.filtered())));
    }

    @Override
    public Optional<UpstreamTagPage> tags(RepositoryName remote, Optional<String> last, int n)
            throws UpstreamException {
        return call(
                "GET tags " + remote,
                () -> client.tagsPage(remote, last, n).map(p -> new UpstreamTagPage(p.tags(), p.next())));
    }

    /** Counts only: the state is {@link GuardedUpstream}'s to say. */
    @Override
    public UpstreamStatus status() {
        return new UpstreamStatus(
                UpstreamStatus.State.UP, Optional.empty(), Optional.empty(), requests.sum(), failures.sum());
    }
}
