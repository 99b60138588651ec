package io.berth.http;

import io.berth.core.auth.AccessControl;
import io.berth.core.auth.Action;
import io.berth.core.auth.Principal;
import io.berth.core.auth.TokenService;
import io.berth.core.config.PublicUrl;
import io.berth.core.error.ErrorCode;
import io.berth.core.model.RepositoryName;
import io.helidon.http.HeaderNames;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;
import java.util.Optional;

/**
 * The door of /v2: establishes who the caller is (basic credentials, a bearer token, or nobody),
 * applies the per-client rate limit (to the address, before credentials that need checking), and
 * lets the request through only when the caller may do what its route needs. Unauthenticated → 401 with the {@code WWW-Authenticate} challenge the
 * clients follow (basic, or the token flow with the scope to ask for) and an {@code UNAUTHORIZED}
 * body; authenticated without the right → 403 {@code DENIED}; over the rate, or a login refused
 * unchecked ({@link AccessControl#login}) → 429 with {@code Retry-After}.
 */
final class AccessGate {
    /** What a route needs of its caller. */
    enum Need {
        /** {@code /v2/}: any valid identity (anonymous only when access control is off). */
        LOGIN(null, ""),
        CATALOG(null, ""),
        PULL(Action.PULL, "pull"),
        PUSH(Action.PUSH, "pull,push"),
        DELETE(Action.DELETE, "delete");

        final Action action;
        final String scopeActions;

        Need(Action action, String scopeActions) {
            this.action = action;
            this.scopeActions = scopeActions;
        }
    }

    static final String BASIC_REALM = "Basic realm=\"berth\", charset=\"UTF-8\"";

    private final AccessControl control;
    private final ClientRateLimiter limiter;
    private final boolean tls;
    private final Optional<PublicUrl> publicUrl;

    AccessGate(AccessControl control, ClientRateLimiter limiter, boolean tls, Optional<PublicUrl> publicUrl) {
        this.control = control;
        this.limiter = limiter;
        this.tls = tls;
        this.publicUrl = publicUrl;
    }

    AccessControl control() {
        return control;
    }

    /** The caller's access when the request may go on; null when it has been answered (401, 403, 429). */
    Access admit(ServerRequest req, ServerResponse res, RepositoryName repository, Need need) {
        String address = Requests.address(req);
        Optional<String> authorization = req.headers().first(HeaderNames.AUTHORIZATION);
        Principal principal = Principal.ANONYMOUS;
        TokenService.Verified token = null;
        // empty Basic credentials (skopeo --no-creds, podman without a login) are no credentials at all
        if (control.enabled() && authorization.isPresent() && !AccessControl.emptyBasic(authorization.get())) {
            String header = authorization.get();
            if (header.regionMatches(true, 0, "Bearer ", 0, 7)
                    && control.tokens().isPresent()) {
                try {
                    token = control.tokens().get().verify(header.substring(7).trim());
                    principal = token.principal();
                } catch (TokenService.InvalidTokenException e) {
                    return unauthorized(req, res, repository, need, e.getMessage(), "invalid_token");
                }
            } else {
                Optional<AccessControl.Credentials> basic = AccessControl.basic(header);
                if (basic.isEmpty()) {
                    return unauthorized(req, res, repository, need, "unsupported Authorization header", null);
                }
                // credentials not proved lately are a login attempt: the address's rate applies before the check
                if (limiter.enabled()
                        && !control.remembered(basic.get(), address)
                        && limited(req, res, limiter, "address " + address)) {
                    return null;
                }
                switch (control.login(basic.get(), address)) {
                    case AccessControl.Accepted a -> principal = a.principal();
                    case AccessControl.Rejected r -> {
                        return unauthorized(req, res, repository, need, "incorrect username or password", null);
                    }
                    case AccessControl.Throttled t -> {
                        throttled(req, res, t);
                        return null;
                    }
                }
            }
        }
        if (limited(req, res, limiter, principal.anonymous() ? "address " + address : "user " + principal.subject())) {
            return null;
        }
        Access access = new Access(principal, control, token);
        // known before it is decided: the access log names the user of a refused request too
        req.context().register(access);
        if (control.enabled()) {
            boolean allowed = switch (need) {
                case LOGIN -> !principal.anonymous();
                // valid credentials, or a token granting registry:catalog:* (docs/access.md); the listing
                // then shows only what the caller may pull
                case CATALOG -> !principal.anonymous() || (token != null && token.catalog());
                default -> access.may(repository.value(), need.action);
            };
            if (!allowed) {
                boolean mayWithBetterToken =
                        token != null && need.action != null && control.may(principal, repository.value(), need.action);
                if (principal.anonymous() || mayWithBetterToken) {
                    return unauthorized(
                            req,
                            res,
                            repository,
                            need,
                            principal.anonymous()
                                    ? "authentication required"
                                    : "the token does not grant " + need.action.wire() + " on " + repository,
                            token == null ? null : "insufficient_scope");
                }
                OciErrors.send(
                        req,
                        res,
                        ErrorCode.DENIED,
                        principal + " may not "
                                + (need.action == null ? "use this registry" : need.action.wire() + " " + repository));
                return null;
            }
        }
        return access;
    }

    /** Whether {@code client} is over the rate limit; then the request has been answered 429 with {@code Retry-After}. */
    static boolean limited(ServerRequest req, ServerResponse res, ClientRateLimiter limiter, String client) {
        long wait = limiter.acquire(client);
        if (wait <= 0) {
            return false;
        }
        res.header(HeaderNames.RETRY_AFTER, Long.toString(Math.max(1, (wait + 999) / 1000)));
        OciErrors.send(
                req,
                res,
                ErrorCode.TOOMANYREQUESTS,
                "too many requests from this client: at most " + "http.rate-limit per second");
        return true;
    }

    /** A login not checked (too many failures, or checks at once): 429 with {@code Retry-After}. */
    static void throttled(ServerRequest req, ServerResponse res, AccessControl.Throttled t) {
        res.header(HeaderNames.RETRY_AFTER, Long.toString(t.retryAfterSeconds()));
        OciErrors.send(
                req, res, ErrorCode.TOOMANYREQUESTS, t.reason() + "; try again in " + t.retryAfterSeconds() + " s");
    }

    private Access unauthorized(
            ServerRequest req, ServerResponse res, RepositoryName repository, Need need, String message, String error) {
        res.header(HeaderNames.WWW_AUTHENTICATE, challenge(req, repository, need, error));
        OciErrors.send(req, res, ErrorCode.UNAUTHORIZED, message);
        return null;
    }

    /** The {@code WWW-Authenticate} value for a request that needs {@code need}. */
    String challenge(ServerRequest req, RepositoryName repository, Need need, String error) {
        if (control.mode() != AccessControl.Mode.TOKEN) {
            return BASIC_REALM;
        }
        StringBuilder c = new StringBuilder("Bearer realm=\"")
                .append(realm(req))
                .append("\",service=\"")
                .append(control.tokens().orElseThrow().service())
                .append('"');
        if (need == Need.CATALOG) {
            c.append(",scope=\"registry:catalog:*\"");
        } else if (need.action != null && repository != null) {
            c.append(",scope=\"repository:")
                    .append(repository.value())
                    .append(':')
                    .append(need.scopeActions)
                    .append('"');
        }
        if (error != null) {
            c.append(",error=\"").append(error).append('"');
        }
        return c.toString();
    }

    /**
     * The token endpoint clients are sent to with their credentials: auth.token.realm, else under
     * http.public-url (the https:// URL behind a TLS-terminating proxy), else at the address this
     * connection reached. Never the Host header: a client that names another host must not be told
     * to send its password there, nor to a plain-HTTP URL the operator did not choose.
     */
    private String realm(ServerRequest req) {
        if (!control.realm().isBlank()) {
            return control.realm();
        }
        return publicUrl
                        .map(PublicUrl::toString)
                        .orElseGet(() -> (tls ? "https://" : "http://") + Requests.localAuthority(req))
                + "/auth/token";
    }
}
