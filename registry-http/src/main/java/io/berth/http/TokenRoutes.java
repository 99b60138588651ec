package io.berth.http;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.berth.core.auth.AccessControl;
import io.berth.core.auth.AccessPolicy;
import io.berth.core.auth.Action;
import io.berth.core.auth.Principal;
import io.berth.core.auth.TokenService;
import io.berth.core.error.ErrorCode;
import io.berth.core.error.RegistryException;
import io.berth.core.model.RepositoryName;
import io.helidon.http.HeaderNames;
import io.helidon.http.Status;
import io.helidon.webserver.http.HttpRules;
import io.helidon.webserver.http.HttpService;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;
import java.io.InputStream;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * {@code /auth/token}: Berth's token server for the Docker token flow. {@code GET} with optional
 * basic credentials (docker, podman, skopeo, Jib) and the OAuth2 {@code POST} form with
 * {@code grant_type=password} (containerd). The token grants what the caller asked for and may do
 * — never more: asked-for actions the policy does not give are left out (the registry then answers
 * 403 or asks again). No credentials: the anonymous caller's grants. {@code registry:admin:*} makes
 * a token for the admin API (callers with the {@code admin} action only); no other token is one.
 */
final class TokenRoutes implements HttpService {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int MAX_FORM = 64 * 1024;

    private final AccessControl control;
    private final ClientRateLimiter limiter;
    private final BodyWatchdog watchdog;

    TokenRoutes(AccessControl control, ClientRateLimiter limiter, BodyWatchdog watchdog) {
        this.control = control;
        this.limiter = limiter;
        this.watchdog = watchdog;
    }

    private boolean serving() {
        return control.mode() == AccessControl.Mode.TOKEN
                && control.tokens().map(TokenService::issues).orElse(false);
    }

    @Override
    public void routing(HttpRules rules) {
        rules.get("/token", this::get).post("/token", this::post);
    }

    private void get(ServerRequest req, ServerResponse res) throws Exception {
        if (!admitted(req, res)) {
            return;
        }
        Optional<String> header = req.headers().first(HeaderNames.AUTHORIZATION);
        Principal principal = Principal.ANONYMOUS;
        if (header.isPresent() && !AccessControl.emptyBasic(header.get())) { // empty Basic: anonymous
            Optional<AccessControl.Credentials> basic = AccessControl.basic(header.get());
            if (basic.isEmpty()) {
                refuse(req, res, "incorrect username or password");
                return;
            }
            principal = login(req, res, basic.get());
            if (principal == null) {
                return;
            }
        }
        List<String> scopes = req.query().all("scope", List::of);
        issue(req, res, principal, scopes, Requests.query(req, "service"), false);
    }

    private void post(ServerRequest req, ServerResponse res) throws Exception {
        if (!admitted(req, res)) {
            return;
        }
        // the form is a few hundred bytes: a larger announced one is refused before it is read, and the
        // read has the body limits (http.read-timeout, http.min-body-rate); a cut-off body is a client abort
        if (Requests.contentLength(req).orElse(0) > MAX_FORM) {
            res.header(HeaderNames.CONNECTION, "close");
            OciErrors.send(
                    req,
                    res,
                    ErrorCode.PAYLOAD_TOO_LARGE,
                    "the token request form is larger than " + MAX_FORM + " bytes");
            return;
        }
        byte[] raw;
        try (InputStream in = new RequestBody(req, watchdog)) {
            raw = in.readNBytes(MAX_FORM + 1);
        }
        if (raw.length > MAX_FORM) {
            res.header(HeaderNames.CONNECTION, "close");
            OciErrors.send(
                    req,
                    res,
                    ErrorCode.PAYLOAD_TOO_LARGE,
                    "the token request form is larger than " + MAX_FORM + " bytes");
            return;
        }
        Map<String, List<String>> form = form(new String(raw, StandardCharsets.UTF_8));
        String grant = first(form, "grant_type");
        if (!grant.equals("password")) {
            res.status(Status.BAD_REQUEST_400);
            json(
                    req,
                    res,
                    Map.of(
                            "error",
                            "unsupported_grant_type",
                            "error_description",
                            "only grant_type=password is supported"));
            return;
        }
        Principal login =
                login(req, res, new AccessControl.Credentials(first(form, "username"), first(form, "password")));
        if (login == null) {
            return;
        }
        List<String> scopes = new ArrayList<>();
        form.getOrDefault("scope", List.of()).forEach(scopes::add);
        String service = first(form, "service");
        issue(req, res, login, scopes, service.isEmpty() ? Optional.empty() : Optional.of(service), true);
    }

    /** Whether the request may be served: tokens are issued here and the client is within the rate limit. */
    private boolean admitted(ServerRequest req, ServerResponse res) {
        if (!serving()) {
            OciErrors.send(
                    req, res, ErrorCode.ROUTE_UNKNOWN, "this registry issues no tokens (auth.type is not token)");
            return false;
        }
        return !AccessGate.limited(req, res, limiter, "address " + Requests.address(req));
    }

    /** Who these credentials are; null when the request has been answered (401, or 429 unchecked). */
    private Principal login(ServerRequest req, ServerResponse res, AccessControl.Credentials credentials) {
        return switch (control.login(credentials, Requests.address(req))) {
            case AccessControl.Accepted a -> a.principal();
            case AccessControl.Rejected r -> {
                refuse(req, res, "incorrect username or password");
                yield null;
            }
            case AccessControl.Throttled t -> {
                AccessGate.throttled(req, res, t);
                yield null;
            }
        };
    }

    private void refuse(ServerRequest req, ServerResponse res, String message) {
        res.header(HeaderNames.WWW_AUTHENTICATE, AccessGate.BASIC_REALM);
        OciErrors.send(req, res, ErrorCode.UNAUTHORIZED, message);
    }

    private void issue(
            ServerRequest req,
            ServerResponse res,
            Principal principal,
            List<String> scopeParams,
            Optional<String> service,
            boolean oauth)
            throws Exception {
        TokenService tokens = control.tokens().orElseThrow();
        if (service.isPresent() && !service.get().equals(tokens.service())) {
            OciErrors.send(
                    req,
                    res,
                    ErrorCode.BAD_REQUEST,
                    "this token server serves '" + tokens.service() + "', not '" + service.get() + "'");
            return;
        }
        Map<String, Set<Action>> granted = new LinkedHashMap<>();
        boolean catalog = false;
        boolean admin = false;
        for (String param : scopeParams) {
            for (String scope : param.trim().split(" +")) {
                if (scope.isEmpty()) {
                    continue;
                }
                int first = scope.indexOf(':');
                int last = scope.lastIndexOf(':');
                if (first <= 0 || last == first) {
                    OciErrors.send(req, res, ErrorCode.BAD_REQUEST, "a scope is <type>:<name>:<actions>");
                    return;
                }
                String type = scope.substring(0, first);
                String name = scope.substring(first + 1, last);
                List<String> asked = List.of(scope.substring(last + 1).split(","));
                if (type.equals("registry") && name.equals("catalog")) {
                    catalog = true;
                    continue;
                }
                if (type.equals("registry") && name.equals("admin")) {
                    // the admin API only with a token asked for it, and only for who may administer
                    admin |= asked.contains("*") && control.may(principal, AccessPolicy.EVERYTHING, Action.ADMIN);
                    continue;
                }
                if (!type.equals("repository") && !type.startsWith("repository(")) {
                    continue;
                }
                RepositoryName repository = RepositoryName.of(name);
                Set<Action> may = control.granted(principal, repository.value());
                EnumSet<Action> give = EnumSet.noneOf(Action.class);
                for (String a : asked) {
                    if (a.trim().equals("*")) {
                        give.addAll(may);
                        give.remove(Action.ADMIN);
                    } else {
                        Action.parse(a)
                                .filter(x -> x != Action.ADMIN)
                                .filter(may::contains)
                                .ifPresent(give::add);
                    }
                }
                granted.merge(repository.value(), give, (x, y) -> {
                    EnumSet<Action> u = EnumSet.copyOf(x);
                    u.addAll(y);
                    return u;
                });
            }
        }
        String token = tokens.issue(principal, granted, catalog, admin);
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("token", token);
        body.put("access_token", token);
        body.put("expires_in", tokens.lifetime().toSeconds());
        body.put("issued_at", Instant.now().toString());
        if (oauth) {
            body.put("scope", String.join(" ", scopeParams));
        }
        res.header(HeaderNames.CACHE_CONTROL, "no-store");
        json(req, res, body);
    }

    private static void json(ServerRequest req, ServerResponse res, Object body) throws Exception {
        res.header(HeaderNames.CONTENT_TYPE, "application/json");
        Responses.send(req, res, JSON.writeValueAsBytes(body));
    }

    private static String first(Map<String, List<String>> form, String key) {
        List<String> v = form.get(key);
        return v == null || v.isEmpty() ? "" : v.get(0);
    }

    static Map<String, List<String>> form(String body) {
        Map<String, List<String>> out = new LinkedHashMap<>();
        for (String pair : body.split("&")) {
            if (pair.isEmpty()) {
                continue;
            }
            int eq = pair.indexOf('=');
            try {
                String k = URLDecoder.decode(eq < 0 ? pair : pair.substring(0, eq), StandardCharsets.UTF_8);
                String v = eq < 0 ? "" : URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8);
                out.computeIfAbsent(k, x -> new ArrayList<>()).add(v);
            } catch (IllegalArgumentException e) {
                throw RegistryException.of(ErrorCode.BAD_REQUEST, "the form is not URL-encoded");
            }
        }
        return out;
    }
}
