package io.berth.http;

import io.berth.core.metadata.ManifestRecord;
import io.berth.core.model.Reference;
import io.berth.core.model.Tag;
import io.berth.core.registry.CachedManifest;
import io.berth.core.registry.Manifests;
import io.berth.core.registry.PutManifestResult;
import io.berth.core.registry.Registry;
import io.helidon.http.HeaderNames;
import io.helidon.http.Status;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;
import java.io.IOException;
import java.io.InputStream;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.OptionalLong;

/** {@code /v2/<name>/manifests/<reference>}: GET, HEAD, PUT, DELETE. */
final class ManifestHandlers {
    private final Registry registry;
    private final BodyWatchdog watchdog;
    private final Duration bodyTimeout;

    /** @param bodyTimeout how long a manifest body may take in all (manifests.body-timeout) */
    ManifestHandlers(Registry registry, BodyWatchdog watchdog, Duration bodyTimeout) {
        this.registry = registry;
        this.watchdog = watchdog;
        this.bodyTimeout = bodyTimeout;
    }

    void get(V2Request v2, ServerRequest req, ServerResponse res) {
        Reference reference = Manifests.lookupReference(v2.repository(), v2.segment());
        ManifestRecord m = registry.proxy().proxied(v2.repository())
                ? cached(res, registry.proxy().manifest(Requests.caller(req), v2.repository(), reference, true))
                : registry.manifests().get(Requests.caller(req), v2.repository(), reference);
        headers(res, m);
        if (!Responses.notModified(req, res, etag(m))) {
            Responses.send(req, res, m.payload());
        }
    }

    void head(V2Request v2, ServerRequest req, ServerResponse res) {
        Reference reference = Manifests.lookupReference(v2.repository(), v2.segment());
        ManifestRecord m = registry.proxy().proxied(v2.repository())
                ? cached(res, registry.proxy().manifest(Requests.caller(req), v2.repository(), reference, false))
                : registry.manifests().head(v2.repository(), reference);
        headers(res, m);
        if (!Responses.notModified(req, res, etag(m))) {
            Responses.send(req, res, m.payload());
        }
    }

    void put(V2Request v2, ServerRequest req, ServerResponse res) throws IOException {
        Reference reference = Reference.parse(v2.segment());
        long max = registry.manifests().maxManifestBytes();
        OptionalLong declared = Requests.contentLength(req);
        if (declared.isPresent() && declared.getAsLong() > max) {
            throw registry.manifests().manifestTooLarge(declared.getAsLong());
        }
        // room in the manifest bodies' memory budget first: a body that announces its length is held in
        // exactly that many bytes, one that does not may grow to the limit
        long room = declared.isPresent() ? declared.getAsLong() : max;
        PutManifestResult result;
        List<Tag> tags;
        Manifests.BodyPermit permit = registry.manifests().reserveBody(Requests.caller(req), room);
        try (permit) {
            byte[] payload;
            // a deadline of its own: the body holds its room in the budget while it trickles in, and many
            // trickling bodies would hold all of it (their room is freed when the read is cut)
            try (InputStream in = new RequestBody(
                    req, watchdog.watch(RequestLog.client(req), bodyTimeout, "manifests.body-timeout"), false)) {
                payload = declared.isPresent()
                        ? readExactly(in, (int) room)
                        : in.readNBytes(Math.toIntExact(max + 1)); // max is at most 64 MiB (manifests.max-size)
            }
            if (payload.length > max) {
                throw registry.manifests().manifestTooLarge(payload.length);
            }
            tags = req.query().contains("tag")
                    ? req.query().all("tag").stream().map(Tag::new).toList()
                    : List.of();
            result = registry.manifests()
                    .put(
                            Requests.caller(req),
                            v2.repository(),
                            reference,
                            tags,
                            Requests.header(req, HeaderNames.CONTENT_TYPE).orElse(null),
                            payload);
        }
        res.status(Status.CREATED_201);
        res.header(HeaderNames.LOCATION, "/v2/" + v2.repository() + "/manifests/" + result.digest());
        res.header(OciHeaders.CONTENT_DIGEST, result.digest().toString());
        result.subject().ifPresent(s -> res.header(OciHeaders.OCI_SUBJECT, s.toString()));
        if (!tags.isEmpty()) {
            res.header(
                    OciHeaders.OCI_TAG, result.tags().stream().map(Tag::value).toArray(String[]::new));
        }
        res.header(HeaderNames.CONTENT_LENGTH, "0");
        res.send();
    }

    /**
     * The {@code length} bytes a body announced, read into one array of that size (no growing copies);
     * fewer is what Helidon reports for a body cut short, more cannot come past its framing.
     */
    private static byte[] readExactly(InputStream in, int length) throws IOException {
        byte[] payload = new byte[length];
        int n = in.readNBytes(payload, 0, length);
        return n == length ? payload : Arrays.copyOf(payload, n);
    }

    void delete(V2Request v2, ServerRequest req, ServerResponse res) {
        registry.manifests()
                .delete(
                        Requests.caller(req),
                        v2.repository(),
                        Manifests.lookupReference(v2.repository(), v2.segment()));
        res.status(Status.ACCEPTED_202);
        res.send();
    }

    private static ManifestRecord cached(ServerResponse res, CachedManifest m) {
        res.header(OciHeaders.BERTH_CACHE, m.outcome().header());
        return m.record();
    }

    private static void headers(ServerResponse res, ManifestRecord m) {
        res.header(HeaderNames.CONTENT_TYPE, m.mediaType());
        res.header(OciHeaders.CONTENT_DIGEST, m.digest().toString());
        res.header(HeaderNames.ETAG, etag(m));
    }

    private static String etag(ManifestRecord m) {
        return "\"" + m.digest() + "\"";
    }
}
