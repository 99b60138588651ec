package io.berth.oci;

import java.io.IOException;
import java.net.InetAddress;
import java.net.URI;
import java.net.UnknownHostException;
import java.util.List;
import java.util.Locale;

/**
 * The one place that decides where a registry may send the replicator: the configured origin
 * (scheme, host, port) receives credentials; an address a remote names (upload {@code Location},
 * {@code Link}, a token realm, a redirect) is followed only when it neither downgrades https to
 * http nor leads to a loopback, link-local or private address unless the configured origin is one
 * — so a remote cannot turn the replicator against the network it runs in. A refusal is a
 * {@link OciClient.RefusedAnswer}: the remote broke a rule, it is not unreachable.
 */
record Origin(String scheme, String host, int port, boolean internal) {

    static Origin of(URI uri) {
        return new Origin(
                uri.getScheme().toLowerCase(Locale.ROOT),
                uri.getHost().toLowerCase(Locale.ROOT),
                port(uri),
                internal(uri.getHost()));
    }

    private static int port(URI uri) {
        return uri.getPort() >= 0 ? uri.getPort() : "https".equalsIgnoreCase(uri.getScheme()) ? 443 : 80;
    }

    /** Whether {@code uri} is this origin: what credentials may be sent to. */
    boolean same(URI uri) {
        return uri.getScheme() != null
                && uri.getHost() != null
                && scheme.equalsIgnoreCase(uri.getScheme())
                && host.equalsIgnoreCase(uri.getHost())
                && port == port(uri);
    }

    /**
     * Checks an address a remote named ({@code what}: "upload Location", "token realm", …) before it is
     * followed; {@code allowed} are further origins the configuration names (token realms).
     */
    URI follow(URI uri, String what, List<URI> allowed) throws IOException {
        if (uri.getScheme() == null
                || uri.getHost() == null
                || !List.of("http", "https").contains(uri.getScheme().toLowerCase(Locale.ROOT))) {
            throw new OciClient.RefusedAnswer(what + " " + abbreviate(uri) + " is not an http(s) URL: not followed");
        }
        if (uri.getRawUserInfo() != null) {
            throw new OciClient.RefusedAnswer(what + " " + abbreviate(uri) + " carries credentials: not followed");
        }
        if (same(uri) || allowed.stream().anyMatch(a -> Origin.of(a).same(uri))) {
            return uri;
        }
        if (scheme.equals("https") && uri.getScheme().equalsIgnoreCase("http")) {
            throw new OciClient.RefusedAnswer(what + " " + abbreviate(uri) + " downgrades https to http: not followed");
        }
        if (!internal && internal(uri.getHost())) {
            throw new OciClient.RefusedAnswer(
                    what + " " + abbreviate(uri) + " is a loopback, link-local or private address " + "while " + scheme
                            + "://" + host + ":" + port + " is not: not followed");
        }
        return uri;
    }

    /** Loopback, link-local, private (10/8, 172.16/12, 192.168/16, fc00::/7), wildcard, or unresolvable. */
    static boolean internal(String host) {
        String h = host.startsWith("[") && host.endsWith("]") ? host.substring(1, host.length() - 1) : host;
        InetAddress[] addresses;
        try {
            addresses = InetAddress.getAllByName(h);
        } catch (UnknownHostException e) {
            return false; // cannot be reached at all: the request fails on its own
        }
        for (InetAddress a : addresses) {
            if (a.isLoopbackAddress()
                    || a.isLinkLocalAddress()
                    || a.isSiteLocalAddress()
                    || a.isAnyLocalAddress()
                    || a.isMulticastAddress()
                    || (a.getAddress().length == 16 && (a.getAddress()[0] & 0xfe) == 0xfc)) {
                return true;
            }
        }
        return false;
    }

    static String abbreviate(URI uri) {
        String s = uri.toString();
        return s.length() > 200 ? s.substring(0, 200) + "…" : s;
    }
}
