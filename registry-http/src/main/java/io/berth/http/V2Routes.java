package io.berth.http;

import io.berth.core.error.ErrorCode;
import io.berth.core.error.RegistryException;
import io.berth.core.model.RepositoryName;
import io.berth.core.registry.Registry;
import io.berth.http.helidon.HelidonFastPaths;
import io.helidon.http.Method;
import io.helidon.webserver.http.HttpRules;
import io.helidon.webserver.http.HttpService;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Every route of the distribution API, in one table. Repository names hold slashes, so the path is
 * matched here on its raw (still encoded) form rather than by per-segment templates: an encoded
 * slash or dot in a name can then never be decoded into a traversal.
 */
public final class V2Routes implements HttpService {

    /** What a route does once the path is taken apart. */
    @FunctionalInterface
    public interface V2Handler {
        void handle(V2Request v2, ServerRequest req, ServerResponse res) throws Exception;
    }

    /** A method of a route: its handler and what it needs of the caller. */
    private record Endpoint(V2Handler handler, AccessGate.Need need) {}

    private record Route(String template, Pattern pattern, Map<Method, Endpoint> handlers) {}

    private final List<Route> routes;
    private final AccessGate gate;

    /** A route of the table as tests and docs see it: its template and the methods it answers. */
    public record RouteInfo(String template, Set<Method> methods) {}

    private static Endpoint pull(V2Handler h) {
        return new Endpoint(h, AccessGate.Need.PULL);
    }

    private static Endpoint push(V2Handler h) {
        return new Endpoint(h, AccessGate.Need.PUSH);
    }

    private static Endpoint delete(V2Handler h) {
        return new Endpoint(h, AccessGate.Need.DELETE);
    }

    V2Routes(
            Registry registry,
            HttpMetrics metrics,
            BodyWatchdog watchdog,
            AccessGate gate,
            HelidonFastPaths fastPaths,
            Duration manifestBodyTimeout) {
        this.gate = gate;
        BlobHandlers blobs = new BlobHandlers(registry, metrics, fastPaths);
        UploadHandlers uploads = new UploadHandlers(registry, watchdog, metrics, fastPaths.socketReadsOn());
        ManifestHandlers manifests = new ManifestHandlers(registry, watchdog, manifestBodyTimeout);
        ListingHandlers listings = new ListingHandlers(registry);
        Endpoint base = new Endpoint(ListingHandlers::base, AccessGate.Need.LOGIN);
        this.routes = List.of(
                new Route("/v2/", Pattern.compile("/v2/?"), Map.of(Method.GET, base, Method.HEAD, base)),
                new Route(
                        "/v2/_catalog",
                        Pattern.compile("/v2/_catalog"),
                        Map.of(Method.GET, new Endpoint(listings::catalog, AccessGate.Need.CATALOG))),
                new Route(
                        "/v2/{name}/tags/list",
                        Pattern.compile("/v2/(.+)/tags/list"),
                        Map.of(Method.GET, pull(listings::tags))),
                new Route(
                        "/v2/{name}/manifests/{reference}",
                        Pattern.compile("/v2/(.+)/manifests/([^/]+)"),
                        Map.of(
                                Method.GET,
                                pull(manifests::get),
                                Method.HEAD,
                                pull(manifests::head),
                                Method.PUT,
                                push(manifests::put),
                                Method.DELETE,
                                delete(manifests::delete))),
                new Route(
                        "/v2/{name}/blobs/uploads/",
                        Pattern.compile("/v2/(.+)/blobs/uploads/?()"),
                        Map.of(Method.POST, push(uploads::start))),
                new Route(
                        "/v2/{name}/blobs/uploads/{uuid}",
                        Pattern.compile("/v2/(.+)/blobs/uploads/([^/]+)"),
                        Map.of(
                                Method.GET,
                                push(uploads::status),
                                Method.PATCH,
                                push(uploads::patch),
                                Method.PUT,
                                push(uploads::complete),
                                Method.DELETE,
                                push(uploads::cancel))),
                new Route(
                        "/v2/{name}/blobs/{digest}",
                        Pattern.compile("/v2/(.+)/blobs/([^/]+)"),
                        Map.of(
                                Method.GET,
                                pull(blobs::get),
                                Method.HEAD,
                                pull(blobs::head),
                                Method.DELETE,
                                delete(blobs::delete))),
                new Route(
                        "/v2/{name}/referrers/{digest}",
                        Pattern.compile("/v2/(.+)/referrers/([^/]+)"),
                        Map.of(Method.GET, pull(listings::referrers))));
    }

    /** The route table: every path template of the API with the methods it serves. */
    public List<RouteInfo> table() {
        return routes.stream().map(r -> new RouteInfo(r.template(), methods(r))).toList();
    }

    private static Set<Method> methods(Route route) {
        Set<Method> methods = new HashSet<>(route.handlers().keySet());
        if (methods.contains(Method.GET)) {
            methods.add(Method.HEAD);
        }
        return Set.copyOf(methods);
    }

    @Override
    public void routing(HttpRules rules) {
        rules.any(this::dispatch);
    }

    private void dispatch(ServerRequest req, ServerResponse res) throws Exception {
        res.header(OciHeaders.API_VERSION, "registry/2.0");
        String path = req.path().absolute().rawPath();
        Method method = req.prologue().method();
        for (Route route : routes) {
            Matcher m = route.pattern().matcher(path);
            if (!m.matches()) {
                continue;
            }
            RequestLog.route(req, route.template());
            V2Request v2 = m.groupCount() == 0
                    ? new V2Request(null, "")
                    : new V2Request(repository(m.group(1)), m.groupCount() > 1 ? decode(m.group(2)) : "");
            Endpoint endpoint = route.handlers().get(method);
            if (endpoint == null && method == Method.HEAD) {
                // HEAD wherever GET is served (RFC 9110 §9.3.2); Responses keeps the body off the wire
                endpoint = route.handlers().get(Method.GET);
            }
            if (endpoint == null) {
                res.header(
                        "Allow",
                        String.join(
                                ", ",
                                methods(route).stream()
                                        .map(Method::text)
                                        .sorted()
                                        .toList()));
                OciErrors.send(
                        req, res, ErrorCode.UNSUPPORTED, method.text() + " is not supported on " + route.template());
                return;
            }
            if (gate.admit(req, res, v2.repository(), endpoint.need()) == null) {
                return;
            }
            endpoint.handler().handle(v2, req, res);
            return;
        }
        // RequestLog keeps the route "unmatched": paths outside the table never become metric series
        OciErrors.send(req, res, ErrorCode.ROUTE_UNKNOWN, "no API endpoint at this path");
    }

    private static final Set<Character> NOT_IN_NAMES = Set.of('%', '\\');

    private static RepositoryName repository(String raw) {
        for (int i = 0; i < raw.length(); i++) {
            if (NOT_IN_NAMES.contains(raw.charAt(i))) {
                throw RegistryException.of(
                        ErrorCode.NAME_INVALID,
                        "invalid repository name",
                        "name",
                        raw.length() > 200 ? raw.substring(0, 200) : raw);
            }
        }
        return RepositoryName.of(raw);
    }

    /** Percent-decodes one path segment (a digest's colon may arrive as %3A). */
    static String decode(String segment) {
        if (segment.indexOf('%') < 0) {
            return segment;
        }
        byte[] out = new byte[segment.length()];
        int n = 0;
        for (int i = 0; i < segment.length(); i++) {
            char c = segment.charAt(i);
            if (c == '%' && i + 2 < segment.length()) {
                int hi = Character.digit(segment.charAt(i + 1), 16);
                int lo = Character.digit(segment.charAt(i + 2), 16);
                if (hi >= 0 && lo >= 0) {
                    out[n++] = (byte) (hi * 16 + lo);
                    i += 2;
                    continue;
                }
            }
            out[n++] = (byte) c;
        }
        return new String(out, 0, n, StandardCharsets.UTF_8);
    }
}
