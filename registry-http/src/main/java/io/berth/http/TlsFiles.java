package io.berth.http;

import io.berth.core.auth.PemKeys;
import io.berth.core.config.BerthConfig;
import io.berth.core.config.ConfigKey;
import io.berth.core.error.Failures;
import io.helidon.common.tls.Tls;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.security.GeneralSecurityException;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * The HTTPS certificate chain and key (PEM files), and their replacement: when either file changes
 * (a renewed certificate) and both read, the listener takes the new ones for new connections; a
 * pair that does not read keeps the old one, with a warning.
 */
final class TlsFiles {
    private static final Logger LOG = System.getLogger("berth.tls");

    private final Path cert;
    private final Path key;
    private final String keys;
    private volatile Tls current;
    private volatile Object stamp;

    private TlsFiles(Path cert, Path key, String keys) {
        this.cert = cert;
        this.key = key;
        this.keys = keys;
        this.stamp = stamp();
        try {
            this.current = read();
        } catch (RuntimeException e) {
            throw new IllegalArgumentException(
                    "cannot use " + keys + " " + cert + " and " + key + ": " + Failures.describe(e));
        }
    }

    /** The pair the configuration names; empty when neither key is set. */
    static Optional<TlsFiles> from(BerthConfig config, ConfigKey certKey, ConfigKey keyKey) {
        String cert = config.string(certKey);
        String key = config.string(keyKey);
        if (cert.isBlank() && key.isBlank()) {
            return Optional.empty();
        }
        if (cert.isBlank() || key.isBlank()) {
            throw new IllegalArgumentException(certKey.name() + " and " + keyKey.name() + " go together: set both");
        }
        for (Path p : List.of(Path.of(cert), Path.of(key))) {
            if (!Files.isReadable(p)) {
                throw new IllegalArgumentException(
                        "cannot read " + (p.toString().equals(cert) ? certKey : keyKey).name() + " " + p + ": "
                                + (Files.exists(p) ? "permission denied" : "no such file"));
            }
        }
        return Optional.of(new TlsFiles(Path.of(cert), Path.of(key), certKey.name() + "/" + keyKey.name()));
    }

    Tls current() {
        return current;
    }

    /** The new TLS setup when the files changed since last asked and read; else empty. */
    Optional<Tls> changed() {
        Object now = stamp();
        if (Objects.equals(now, stamp)) {
            return Optional.empty();
        }
        stamp = now;
        try {
            current = read();
            LOG.log(Level.INFO, "reloaded " + keys + " " + cert);
            return Optional.of(current);
        } catch (RuntimeException e) {
            LOG.log(
                    Level.WARNING,
                    "cannot reload " + keys + " " + cert + ", keeping the current certificate: "
                            + Failures.describe(e));
            return Optional.empty();
        }
    }

    /** The pair as a TLS setup: a PEM chain and a PKCS#8, SEC1 or PKCS#1 key ({@link PemKeys#privateKey}). */
    private Tls read() {
        try {
            return Tls.builder()
                    .privateKey(PemKeys.privateKey(key))
                    .privateKeyCertChain(PemKeys.certificates(cert))
                    .build();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (GeneralSecurityException e) {
            throw new IllegalArgumentException(e.getMessage(), e);
        }
    }

    private Object stamp() {
        try {
            BasicFileAttributes c = Files.readAttributes(cert, BasicFileAttributes.class);
            BasicFileAttributes k = Files.readAttributes(key, BasicFileAttributes.class);
            return List.of(
                    c.lastModifiedTime().toMillis(),
                    c.size(),
                    String.valueOf(c.fileKey()),
                    k.lastModifiedTime().toMillis(),
                    k.size(),
                    String.valueOf(k.fileKey()));
        } catch (IOException e) {
            return null;
        }
    }
}
