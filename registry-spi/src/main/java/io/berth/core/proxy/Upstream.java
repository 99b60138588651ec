package io.berth.core.proxy;

import io.berth.core.model.Digest;
import io.berth.core.model.Reference;
import io.berth.core.model.RepositoryName;
import io.berth.core.model.Tag;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * One upstream registry that a pull-through cache reads from, as the engine sees it: no HTTP here, so
 * the engine carries no HTTP client. Every method answers empty when the upstream says 404 and throws
 * {@link UpstreamException} for everything else that is not an answer (unreachable, throttled,
 * refused, wrong bytes). Messages never hold credentials.
 */
public interface Upstream {
    /** The configured name ({@code hub}). */
    String name();

    /** What to show an operator: the URL and the mode, never credentials. */
    String describe();

    /** Revalidation and staleness for this upstream's content. */
    CachePolicy policy();

    /** The digest a tag points to now (a HEAD), without transferring the manifest. */
    Optional<Digest> manifestDigest(RepositoryName remote, Tag tag) throws UpstreamException;

    /**
     * The manifest a reference names, its bytes verified against the digest asked for (by digest) and
     * against the upstream's {@code Docker-Content-Digest} when it sent one; at most {@code maxBytes}.
     */
    Optional<UpstreamManifest> manifest(RepositoryName remote, Reference reference, long maxBytes)
            throws UpstreamException;

    /** A blob's size (a HEAD). */
    OptionalLong blobSize(RepositoryName remote, Digest digest) throws UpstreamException;

    /** A blob's bytes, unverified: the caller hashes them and closes the stream. */
    Optional<UpstreamBlob> blob(RepositoryName remote, Digest digest) throws UpstreamException;

    /** The upstream's referrers index for a subject (the first page), or its tag-schema fallback. */
    Optional<UpstreamReferrers> referrers(RepositoryName remote, Digest subject, Optional<String> artifactType)
            throws UpstreamException;

    /** One page of the upstream's tags; empty when it has no such repository (404). */
    Optional<UpstreamTagPage> tags(RepositoryName remote, Optional<String> last, int n) throws UpstreamException;

    /** Its state now: for the admin API, {@code /healthz} and metrics. */
    UpstreamStatus status();
}
