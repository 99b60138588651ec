package io.berth.launcher;

import io.berth.core.config.ConfigKey;
import java.io.IOException;
import java.net.BindException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.UnknownHostException;
import java.util.Locale;

/** Checks that the configured listen addresses can be bound, before anything else is started. */
final class Listeners {
    private Listeners() {}

    /** A listen address that cannot be used; the message names the key and the address. */
    static final class UnavailableException extends Exception {
        private static final long serialVersionUID = 1L;

        UnavailableException(ConfigKey key, String host, int port, String why) {
            this(key.name(), host, port, why);
        }

        UnavailableException(String key, String host, int port, String why) {
            super("cannot listen on " + address(host, port) + " (" + key + "): " + why);
        }

        UnavailableException(ConfigKey key, String host, int port) {
            this(key, host, port, "address already in use");
        }
    }

    /** {@code host:port}, IPv6 hosts in brackets ({@code [::1]:5000}). */
    static String address(String host, int port) {
        return (host.indexOf(':') >= 0 && !host.startsWith("[") ? "[" + host + "]" : host) + ":" + port;
    }

    /**
     * What a bind address means for who can connect, for the start-up line: a wildcard address (as in
     * the image, docs/deploy.md) takes connections on every address of the machine, or of the container.
     */
    static String reach(String host) {
        try {
            return InetAddress.getByName(host).isAnyLocalAddress()
                    ? " (every address of this machine or container: reachable from its networks)"
                    : "";
        } catch (UnknownHostException e) {
            return "";
        }
    }

    static void ensureFree(ConfigKey key, String host, int port) throws UnavailableException {
        ensureFree(key.name(), host, port);
    }

    static void ensureFree(String key, String host, int port) throws UnavailableException {
        if (port == 0) {
            return; // any free port
        }
        try (ServerSocket probe = new ServerSocket()) {
            probe.setReuseAddress(true);
            probe.bind(new InetSocketAddress(host, port));
        } catch (BindException e) {
            String m = e.getMessage() == null ? "" : e.getMessage().toLowerCase(Locale.ROOT);
            throw new UnavailableException(
                    key,
                    host,
                    port,
                    m.contains("in use")
                            ? "address already in use"
                            : m.contains("assign") ? "no such local address" : m.isEmpty() ? "cannot bind" : m);
        } catch (IOException | IllegalArgumentException | SecurityException e) {
            throw new UnavailableException(key, host, port, e.getMessage() == null ? "cannot bind" : e.getMessage());
        }
    }
}
