package io.berth.http;

import io.berth.core.auth.AccessControl;
import io.berth.core.config.BerthConfig;
import io.berth.core.config.ConfigKeys;
import io.berth.core.config.PublicUrl;
import io.berth.core.error.ErrorCode;
import io.helidon.http.HeaderNames;
import io.helidon.webserver.http.Filter;
import io.helidon.webserver.http.FilterChain;
import io.helidon.webserver.http.RoutingRequest;
import io.helidon.webserver.http.RoutingResponse;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Which host names requests may address ({@code http.allowed-hosts}). A registry without access
 * control listening on loopback trusts whoever reaches it — and through DNS rebinding a web page a
 * local user opens reaches it too, under the page's own host name. So with {@code auth.type: none}
 * on a loopback {@code http.host}, unless configured otherwise, only requests whose {@code Host}
 * names loopback ({@code localhost}, {@code *.localhost}, {@code 127.x.x.x}, {@code [::1]}) or
 * {@code http.public-url}'s host are served; others get 403 {@code DENIED} before anything else.
 */
final class HostCheck implements Filter {
    /** Names a listed entry of {@code *} allows: every host. */
    private static final String ANY = "*";

    private final Optional<Set<String>> allowed;
    private final boolean loopbackNames;

    private HostCheck(Optional<Set<String>> allowed, boolean loopbackNames) {
        this.allowed = allowed;
        this.loopbackNames = loopbackNames;
    }

    /** The check {@code http.allowed-hosts}, {@code http.public-url}, {@code http.host} and {@code auth.type} ask for. */
    static HostCheck from(BerthConfig config, AccessControl access) {
        List<String> listed = config.list(ConfigKeys.HTTP_ALLOWED_HOSTS);
        Optional<String> publicHost =
                config.publicUrl(ConfigKeys.HTTP_PUBLIC_URL).map(PublicUrl::hostName);
        if (listed.contains(ANY)) {
            return new HostCheck(Optional.empty(), false);
        }
        if (!listed.isEmpty()) {
            Set<String> names = listed.stream().map(HostCheck::bare).collect(Collectors.toSet());
            publicHost.ifPresent(names::add);
            return new HostCheck(Optional.of(Set.copyOf(names)), false);
        }
        if (!access.enabled() && loopback(config.string(ConfigKeys.HTTP_HOST))) {
            return new HostCheck(Optional.of(publicHost.map(Set::of).orElse(Set.of())), true);
        }
        return new HostCheck(Optional.empty(), false);
    }

    /** Whether any host is served (nothing to check). */
    boolean open() {
        return allowed.isEmpty();
    }

    private static boolean loopback(String bindHost) {
        try {
            return InetAddress.getByName(bindHost).isLoopbackAddress();
        } catch (UnknownHostException e) {
            return false;
        }
    }

    @Override
    public void filter(FilterChain chain, RoutingRequest req, RoutingResponse res) {
        if (allowed.isPresent()) {
            Optional<String> host = req.headers().first(HeaderNames.HOST);
            // a request without Host (HTTP/1.0) comes from no browser: nothing to rebind
            if (host.isPresent() && !allows(host.get())) {
                OciErrors.send(
                        req,
                        res,
                        ErrorCode.DENIED,
                        "this registry does not serve the host '" + clip(host.get()) + "' (http.allowed-hosts)");
                return;
            }
        }
        chain.proceed();
    }

    /** Whether a {@code Host} header value ({@code name}, {@code name:port}, {@code [::1]:port}) may be served. */
    boolean allows(String hostHeader) {
        if (allowed.isEmpty()) {
            return true;
        }
        String host = bare(hostHeader);
        return allowed.get().contains(host) || (loopbackNames && loopbackName(host));
    }

    /** The host of a Host header or a listed entry: lower case, without port, brackets or a final dot. */
    static String bare(String value) {
        String v = value.trim().toLowerCase(Locale.ROOT);
        if (v.startsWith("[")) {
            int close = v.indexOf(']');
            return close < 0 ? v : v.substring(1, close);
        }
        int colon = v.lastIndexOf(':');
        if (colon >= 0 && v.indexOf(':') == colon) {
            v = v.substring(0, colon);
        }
        return v.endsWith(".") ? v.substring(0, v.length() - 1) : v;
    }

    /** Names that never leave the machine: localhost and its subdomains, 127.0.0.0/8, ::1. */
    static boolean loopbackName(String host) {
        if (host.equals("localhost")
                || host.endsWith(".localhost")
                || host.equals("::1")
                || host.equals("0:0:0:0:0:0:0:1")) {
            return true;
        }
        String[] parts = host.split("\\.", -1);
        if (parts.length != 4 || !parts[0].equals("127")) {
            return false;
        }
        for (String p : parts) {
            if (p.isEmpty() || p.length() > 3 || !p.chars().allMatch(Character::isDigit) || Integer.parseInt(p) > 255) {
                return false;
            }
        }
        return true;
    }

    private static String clip(String s) {
        String printable = s.replaceAll("[^\\x20-\\x7e]", "?");
        return printable.length() > 100 ? printable.substring(0, 100) + "…" : printable;
    }
}
