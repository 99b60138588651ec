package io.berth.http;

import io.berth.core.auth.AccessControl;
import io.berth.core.auth.Action;
import io.berth.core.auth.Principal;
import io.berth.core.auth.TokenService;
import io.helidon.webserver.http.ServerRequest;

/**
 * Who a /v2 request comes from and what it may do, as {@link AccessGate} established it; kept in
 * the request's context for handlers that decide per repository (mounts, the catalog).
 *
 * @param token the verified bearer token, or null when the caller used basic credentials or none
 */
record Access(Principal principal, AccessControl control, TokenService.Verified token) {

    /** Whether this caller may take {@code action} on {@code repository}: a token's grants, else the policy. */
    boolean may(String repository, Action action) {
        if (!control.enabled()) {
            return true;
        }
        return token != null ? token.allows(repository, action) : control.may(principal, repository, action);
    }

    /** Whether the catalog shows {@code repository} to this caller: when they may pull it. */
    boolean mayList(String repository) {
        return !control.enabled() || control.may(principal, repository, Action.PULL);
    }

    /** The access of a request that went through the gate; none before it (anonymous, everything allowed). */
    static Access of(ServerRequest req) {
        return req.context().get(Access.class).orElse(null);
    }
}
