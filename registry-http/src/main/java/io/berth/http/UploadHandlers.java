package io.berth.http;

import io.berth.core.auth.Action;
import io.berth.core.error.ErrorCode;
import io.berth.core.error.RegistryException;
import io.berth.core.metadata.UploadSession;
import io.berth.core.model.Digest;
import io.berth.core.model.RepositoryName;
import io.berth.core.model.UploadId;
import io.berth.core.registry.BlobInfo;
import io.berth.core.registry.Registry;
import io.helidon.http.HeaderNames;
import io.helidon.http.Status;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;
import java.io.InputStream;
import java.util.Optional;
import java.util.function.Function;

/** {@code /v2/<name>/blobs/uploads/…}: start (incl. monolithic and mount), PATCH, PUT, GET, DELETE. */
final class UploadHandlers {
    private final Registry registry;
    private final BodyWatchdog watchdog;
    private final HttpMetrics metrics;
    private final boolean socketReads;

    UploadHandlers(Registry registry, BodyWatchdog watchdog, HttpMetrics metrics, boolean socketReads) {
        this.registry = registry;
        this.watchdog = watchdog;
        this.metrics = metrics;
        this.socketReads = socketReads;
    }

    /** Runs {@code op} over the request's body and counts the bytes it read, by path. */
    private <T> T withBody(ServerRequest req, Function<InputStream, T> op) {
        RequestBody body = new RequestBody(req, watchdog, socketReads);
        try {
            return op.apply(body);
        } finally {
            metrics.uploadBytesReceived(body.readsDirect(), body.bytesRead());
        }
    }

    void start(V2Request v2, ServerRequest req, ServerResponse res) {
        RepositoryName repo = v2.repository();
        Requests.checkDigestAlgorithm(req);
        Optional<String> mount = Requests.query(req, "mount");
        if (mount.isPresent()) {
            Digest digest = Digest.parse(mount.get());
            Optional<RepositoryName> from =
                    Requests.query(req, "from").filter(s -> !s.isEmpty()).map(RepositoryName::of);
            Optional<BlobInfo> mounted = mayMount(req, from)
                    ? registry.uploads().mount(Requests.caller(req), repo, digest, from)
                    : Optional.empty();
            if (mounted.isPresent()) {
                created(res, repo, mounted.get());
                return;
            }
            drain(req);
            accepted(res, registry.uploads().start(repo, Requests.caller(req)));
            return;
        }
        Optional<Digest> digest = Requests.digestParam(req, "digest");
        if (digest.isPresent()) {
            BlobInfo blob = withBody(
                    req,
                    body -> registry.uploads()
                            .putMonolithic(
                                    Requests.caller(req), repo, digest.get(), Requests.contentLength(req), body));
            created(res, repo, blob);
            return;
        }
        drain(req);
        accepted(res, registry.uploads().start(repo, Requests.caller(req)));
    }

    /**
     * Mounting needs pull on the source repository; with access control on, a mount must name it
     * (a digest alone must not reach into repositories the caller cannot read). Otherwise the
     * client uploads the blob, as the spec allows.
     */
    private static boolean mayMount(ServerRequest req, Optional<RepositoryName> from) {
        Access access = Access.of(req);
        if (access == null || !access.control().enabled()) {
            return true;
        }
        return from.isPresent() && access.may(from.get().value(), Action.PULL);
    }

    void patch(V2Request v2, ServerRequest req, ServerResponse res) {
        UploadId id = new UploadId(v2.segment());
        Requests.Chunk chunk = Requests.chunk(req);
        UploadSession s = withBody(
                req,
                body -> registry.uploads()
                        .append(Requests.caller(req), v2.repository(), id, chunk.start(), chunk.length(), body));
        accepted(res, s);
    }

    void complete(V2Request v2, ServerRequest req, ServerResponse res) {
        UploadId id = new UploadId(v2.segment());
        Digest digest = Requests.digestParam(req, "digest")
                .orElseThrow(() -> RegistryException.of(
                        ErrorCode.DIGEST_INVALID,
                        "the digest query parameter is required to complete an upload",
                        "digest",
                        ""));
        Requests.Chunk chunk = Requests.chunk(req);
        BlobInfo blob = req.content().hasEntity()
                ? withBody(
                        req,
                        body -> registry.uploads()
                                .complete(
                                        Requests.caller(req),
                                        v2.repository(),
                                        id,
                                        digest,
                                        chunk.start(),
                                        chunk.length(),
                                        body))
                : registry.uploads()
                        .complete(
                                Requests.caller(req), v2.repository(), id, digest, chunk.start(), chunk.length(), null);
        created(res, v2.repository(), blob);
    }

    void status(V2Request v2, ServerRequest req, ServerResponse res) {
        UploadSession s = registry.uploads().status(v2.repository(), new UploadId(v2.segment()));
        sessionHeaders(res, s);
        res.status(Status.NO_CONTENT_204);
        res.send();
    }

    void cancel(V2Request v2, ServerRequest req, ServerResponse res) {
        registry.uploads().cancel(v2.repository(), new UploadId(v2.segment()));
        res.status(Status.NO_CONTENT_204);
        res.send();
    }

    private static void accepted(ServerResponse res, UploadSession s) {
        sessionHeaders(res, s);
        res.status(Status.ACCEPTED_202);
        res.header(HeaderNames.CONTENT_LENGTH, "0");
        res.send();
    }

    private static void sessionHeaders(ServerResponse res, UploadSession s) {
        res.header(HeaderNames.LOCATION, "/v2/" + s.repository() + "/blobs/uploads/" + s.id());
        res.header(OciHeaders.UPLOAD_UUID, s.id().value());
        res.header(OciHeaders.RANGE, OciHeaders.range(s.size()));
    }

    private static void created(ServerResponse res, RepositoryName repo, BlobInfo blob) {
        res.status(Status.CREATED_201);
        res.header(HeaderNames.LOCATION, "/v2/" + repo + "/blobs/" + blob.digest());
        res.header(OciHeaders.CONTENT_DIGEST, blob.digest().toString());
        res.header(HeaderNames.CONTENT_LENGTH, "0");
        res.send();
    }

    /** Reads and drops a body the operation does not use, so the connection stays usable. */
    private static void drain(ServerRequest req) {
        if (req.content().hasEntity()) {
            req.content().consume();
        }
    }
}
