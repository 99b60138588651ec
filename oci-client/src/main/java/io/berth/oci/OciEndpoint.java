package io.berth.oci;

import java.net.URI;
import java.nio.file.Path;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * A registry to talk to: its URL, the identity Berth uses there, its TLS trust, and the token realms on
 * other origins that may receive the credentials (Docker Hub's {@code https://auth.docker.io/token}).
 */
public record OciEndpoint(
        URI url, String username, String password, Optional<Path> caFile, boolean insecure, List<URI> tokenRealms) {
    public OciEndpoint {
        Objects.requireNonNull(url, "url");
        username = username == null ? "" : username;
        password = password == null ? "" : password;
        Objects.requireNonNull(caFile, "caFile");
        tokenRealms = List.copyOf(tokenRealms);
    }

    public OciEndpoint(URI url, String username, String password, Optional<Path> caFile, boolean insecure) {
        this(url, username, password, caFile, insecure, List.of());
    }

    @Override
    public String toString() {
        return "OciEndpoint[" + url + "]"; // never the password
    }
}
