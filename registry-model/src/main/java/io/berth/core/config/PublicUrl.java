package io.berth.core.config;

import java.net.URI;
import java.net.URISyntaxException;
import java.util.Locale;

/**
 * The URL clients use to reach the registry ({@code http.public-url}): a scheme (http or https), a
 * host and a port, nothing else — no user info, path, query or fragment. It makes the token realm
 * and the URLs in events; behind a TLS-terminating proxy it is the proxy's {@code https://} URL, so
 * that clients are never sent to a plain-HTTP realm with their credentials.
 *
 * @param scheme {@code http} or {@code https}
 * @param host   the host name or address as clients write it ({@code [::1]} with brackets)
 * @param port   the port, or -1 for the scheme's default
 */
public record PublicUrl(String scheme, String host, int port) {
    public PublicUrl {
        if (!scheme.equals("http") && !scheme.equals("https")) {
            throw new IllegalArgumentException("the scheme must be http or https");
        }
        if (host == null || host.isBlank()) {
            throw new IllegalArgumentException("a URL needs a host");
        }
        if (port < -1 || port > 65535) {
            throw new IllegalArgumentException("the port must be from 1 to 65535");
        }
        host = host.toLowerCase(Locale.ROOT);
    }

    /**
     * {@code https://registry.example.com}, {@code http://10.0.0.5:5000}; a trailing slash is allowed.
     *
     * @throws IllegalArgumentException saying what is wrong
     */
    public static PublicUrl parse(String text) {
        URI uri;
        try {
            uri = new URI(text.trim());
        } catch (URISyntaxException e) {
            throw new IllegalArgumentException("not a URL (e.g. https://registry.example.com)");
        }
        if (uri.getScheme() == null || uri.getRawAuthority() == null) {
            throw new IllegalArgumentException("not an absolute http or https URL (e.g. https://registry.example.com)");
        }
        if (uri.getRawUserInfo() != null) {
            throw new IllegalArgumentException("a public URL holds no user name or password");
        }
        if (uri.getHost() == null) {
            throw new IllegalArgumentException("not a host name or address");
        }
        String path = uri.getRawPath();
        if ((path != null && !path.isEmpty() && !path.equals("/"))
                || uri.getRawQuery() != null
                || uri.getRawFragment() != null) {
            throw new IllegalArgumentException("the registry is served at the root: no path, query or fragment");
        }
        return new PublicUrl(uri.getScheme().toLowerCase(Locale.ROOT), uri.getHost(), uri.getPort());
    }

    /** {@code host} or {@code host:port} (the port left out when it is the scheme's default). */
    public String authority() {
        boolean defaultPort =
                port == -1 || (scheme.equals("https") && port == 443) || (scheme.equals("http") && port == 80);
        return defaultPort ? host : host + ":" + port;
    }

    /** The host without IPv6 brackets, as a {@code Host} header's host compares to it. */
    public String hostName() {
        return host.startsWith("[") && host.endsWith("]") ? host.substring(1, host.length() - 1) : host;
    }

    /** {@code https://registry.example.com}: the base of every URL clients are given. */
    @Override
    public String toString() {
        return scheme + "://" + authority();
    }
}
