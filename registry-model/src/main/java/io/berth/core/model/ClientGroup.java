package io.berth.core.model;

import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.UnknownHostException;

/**
 * The unit per-client limits count: an IPv4 address as it is, an IPv6 address by its /64 — a host
 * is routinely given a whole /64, so counting single IPv6 addresses would give one attacker 2^64
 * allowances. One definition for the connection caps and the login allowances.
 */
public final class ClientGroup {
    private ClientGroup() {}

    /** The group of {@code address}. */
    public static String of(InetAddress address) {
        if (address instanceof Inet6Address) {
            byte[] b = address.getAddress();
            StringBuilder s = new StringBuilder();
            for (int i = 0; i < 8; i += 2) {
                s.append(Integer.toHexString(((b[i] & 0xff) << 8) | (b[i + 1] & 0xff)))
                        .append(':');
            }
            return s.append(":/64").toString();
        }
        return address.getHostAddress();
    }

    /**
     * The group of an address written as text ({@code 192.0.2.1}, {@code 2001:db8::1}); text that is
     * no IP literal is its own group. Never a name lookup: only literals with a colon are parsed.
     */
    public static String of(String address) {
        if (address.indexOf(':') >= 0 && address.matches("[0-9A-Fa-f:.%a-zA-Z0-9]+")) {
            try {
                return of(InetAddress.getByName(address.replaceFirst("%.*$", "")));
            } catch (UnknownHostException | SecurityException e) {
                return address;
            }
        }
        return address;
    }
}
