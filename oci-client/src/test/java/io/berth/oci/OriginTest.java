package io.berth.oci;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.URI;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Issue 30, point 5: where a remote may send the replicator. Address literals only (documentation
 * and private ranges), so that no name is resolved.
 */
class OriginTest {
    static final Origin PUBLIC = Origin.of(URI.create("https://203.0.113.5/"));
    static final Origin LOOPBACK = Origin.of(URI.create("http://127.0.0.1:5000/"));

    @Test
    void credentialsGoOnlyToTheSameSchemeHostAndPort() {
        assertTrue(PUBLIC.same(URI.create("https://203.0.113.5:443/v2/")));
        assertFalse(PUBLIC.same(URI.create("http://203.0.113.5/v2/")), "another scheme");
        assertFalse(PUBLIC.same(URI.create("https://203.0.113.5:8443/v2/")), "another port");
        assertFalse(PUBLIC.same(URI.create("https://203.0.113.6/v2/")), "another host");
    }

    @Test
    void aRemoteCannotDowngradeNorPointInsideUnlessTheOriginIsInside() throws IOException {
        IOException down = assertThrows(
                IOException.class,
                () -> PUBLIC.follow(URI.create("http://198.51.100.7/token"), "token realm", List.of()));
        assertTrue(down.getMessage().contains("downgrades https to http"), down.getMessage());
        for (String inside : List.of(
                "https://127.0.0.1/x",
                "https://169.254.169.254/latest/meta-data/",
                "https://10.0.0.7/x",
                "https://192.168.1.1/x",
                "https://172.16.0.1/x",
                "https://[::1]/x",
                "https://[fd00::1]/x")) {
            IOException e = assertThrows(
                    IOException.class, () -> PUBLIC.follow(URI.create(inside), "redirect to", List.of()), inside);
            assertTrue(e.getMessage().contains("loopback, link-local or private"), e.getMessage());
        }
        assertEquals(
                URI.create("https://198.51.100.7/token"),
                PUBLIC.follow(URI.create("https://198.51.100.7/token"), "token realm", List.of()),
                "elsewhere outside: followed (anonymously)");
        assertEquals(
                URI.create("http://127.0.0.1:6000/token"),
                LOOPBACK.follow(URI.create("http://127.0.0.1:6000/token"), "token realm", List.of()),
                "an origin inside may point inside");
        assertThrows(
                IOException.class,
                () -> PUBLIC.follow(URI.create("https://u:p@198.51.100.7/"), "Location", List.of()),
                "credentials in a URL a remote names");
        assertThrows(IOException.class, () -> PUBLIC.follow(URI.create("file:///etc/passwd"), "Location", List.of()));
    }

    @Test
    void aConfiguredRealmMayBeAnywhere() throws IOException {
        URI realm = URI.create("https://10.1.2.3/token");
        assertEquals(realm, PUBLIC.follow(realm, "token realm", List.of(URI.create("https://10.1.2.3/"))));
    }
}
