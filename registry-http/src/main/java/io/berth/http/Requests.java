package io.berth.http;

import io.berth.core.error.ErrorCode;
import io.berth.core.error.RegistryException;
import io.berth.core.model.Caller;
import io.berth.core.model.Digest;
import io.berth.core.model.DigestAlgorithm;
import io.helidon.http.HeaderName;
import io.helidon.http.HeaderNames;
import io.helidon.webserver.http.ServerRequest;
import java.net.InetSocketAddress;
import java.util.Optional;
import java.util.OptionalLong;

/** Reading parameters and headers of a request, with client mistakes turned into OCI errors. */
final class Requests {
    private Requests() {}

    /** The caller of a request, as registry rules see it (address, request id, host, method, agent, actor). */
    static Caller caller(ServerRequest req) {
        Access access = Access.of(req);
        return new Caller(
                address(req),
                RequestLog.id(req),
                header(req, HeaderNames.HOST).orElse(""),
                req.prologue().method().text(),
                header(req, HeaderNames.USER_AGENT).orElse(""),
                access == null ? "" : access.principal().subject(),
                Caller.V2);
    }

    /** The client's network address. */
    static String address(ServerRequest req) {
        if (req.remotePeer().address() instanceof InetSocketAddress inet) {
            return inet.getAddress() == null
                    ? inet.getHostString()
                    : inet.getAddress().getHostAddress();
        }
        return "unknown";
    }

    /** host:port of the listener the request came in on, for URLs when the request names no Host. */
    static String localAuthority(ServerRequest req) {
        if (req.localPeer().address() instanceof InetSocketAddress inet) {
            String host = inet.getAddress() == null
                    ? inet.getHostString()
                    : inet.getAddress().getHostAddress();
            return (host.contains(":") ? "[" + host + "]" : host) + ":" + inet.getPort();
        }
        return "localhost";
    }

    static Optional<String> query(ServerRequest req, String name) {
        return req.query().contains(name) ? Optional.of(req.query().get(name)) : Optional.empty();
    }

    static Optional<Digest> digestParam(ServerRequest req, String name) {
        return query(req, name).map(Digest::parse);
    }

    /**
     * Refuses a {@code digest-algorithm} (an upload's POST, distribution-spec end-4c) the registry
     * cannot verify, before the client sends its bytes; the digest given at completion is what
     * names the algorithm of a supported one.
     */
    static void checkDigestAlgorithm(ServerRequest req) {
        Optional<String> algorithm = query(req, "digest-algorithm");
        if (algorithm.isPresent() && DigestAlgorithm.fromPrefix(algorithm.get()).isEmpty()) {
            String shown = algorithm.get().length() > 40 ? algorithm.get().substring(0, 40) : algorithm.get();
            throw RegistryException.of(
                    ErrorCode.DIGEST_INVALID,
                    "unsupported digest algorithm " + shown + " (sha256 and sha512 are)",
                    "digest-algorithm",
                    shown);
        }
    }

    static Optional<String> header(ServerRequest req, HeaderName name) {
        return req.headers().first(name);
    }

    /** The request's Content-Length, when it sent one. */
    static OptionalLong contentLength(ServerRequest req) {
        try {
            return req.headers().contentLength();
        } catch (RuntimeException e) {
            throw RegistryException.of(
                    ErrorCode.SIZE_INVALID, "Content-Length is not a number", "header", "Content-Length");
        }
    }

    /** {@code n} of a paginated listing: absent, or a non-negative number. */
    static Integer pageSize(ServerRequest req) {
        Optional<String> n = query(req, "n");
        if (n.isEmpty() || n.get().isEmpty()) {
            return null;
        }
        try {
            if (!n.get().chars().allMatch(Character::isDigit)) {
                throw new NumberFormatException();
            }
            // more than can be listed at once is clamped by the listing rules, not refused
            return n.get().length() > 9 ? Integer.MAX_VALUE : Integer.parseInt(n.get());
        } catch (NumberFormatException e) {
            throw RegistryException.of(
                    ErrorCode.PAGINATION_NUMBER_INVALID,
                    "n must be a non-negative number",
                    "n",
                    n.get().length() > 40 ? n.get().substring(0, 40) : n.get());
        }
    }

    /**
     * What an upload chunk says of itself: where it starts ({@code Content-Range}) and how many bytes
     * it carries ({@code Content-Range}, else {@code Content-Length}); each empty when not said.
     */
    record Chunk(OptionalLong start, OptionalLong length) {}

    static Chunk chunk(ServerRequest req) {
        Optional<long[]> range = contentRange(req);
        return range.map(r -> new Chunk(OptionalLong.of(r[0]), OptionalLong.of(r[1])))
                .orElseGet(() -> new Chunk(OptionalLong.empty(), contentLength(req)));
    }

    /** {@code Content-Range: <start>-<end>} (also with a {@code bytes } prefix) as {start, length}. */
    private static Optional<long[]> contentRange(ServerRequest req) {
        Optional<String> h = header(req, OciHeaders.CONTENT_RANGE);
        if (h.isEmpty()) {
            return Optional.empty();
        }
        String v = h.get().trim();
        if (v.startsWith("bytes=") || v.startsWith("bytes ")) {
            v = v.substring(6).trim();
        }
        int slash = v.indexOf('/');
        if (slash >= 0) {
            v = v.substring(0, slash);
        }
        int dash = v.indexOf('-');
        try {
            if (dash <= 0) {
                throw new NumberFormatException();
            }
            long start = Long.parseLong(v.substring(0, dash));
            long end = Long.parseLong(v.substring(dash + 1));
            if (start < 0 || end < start) {
                throw new NumberFormatException();
            }
            return Optional.of(new long[] {start, end - start + 1});
        } catch (NumberFormatException e) {
            throw RegistryException.of(
                    ErrorCode.BLOB_UPLOAD_INVALID,
                    "Content-Range must be <start>-<end>",
                    "range",
                    h.get().length() > 60 ? h.get().substring(0, 60) : h.get());
        }
    }
}
