package io.berth.testsupport;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * A test certificate authority made with openssl: P-256 keys (PKCS#8), a CA certificate, and
 * certificates it signs for servers (SAN 127.0.0.1 and localhost) and clients (a CN).
 */
public final class TestPki {
    private final Path dir;

    private TestPki(Path dir) {
        this.dir = dir;
    }

    /** A new CA in {@code dir}: {@code ca.crt}, {@code ca.key}. */
    public static TestPki create(Path dir) throws IOException {
        TestServices.require(Command.onPath("openssl"), "openssl");
        Files.createDirectories(dir);
        run(
                "openssl",
                "req",
                "-x509",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:P-256",
                "-nodes",
                "-days",
                "2",
                "-subj",
                "/CN=Berth Test CA",
                "-keyout",
                dir.resolve("ca.key").toString(),
                "-out",
                dir.resolve("ca.crt").toString());
        return new TestPki(dir);
    }

    public Path ca() {
        return dir.resolve("ca.crt");
    }

    public Path cert(String name) {
        return dir.resolve(name + ".crt");
    }

    public Path key(String name) {
        return dir.resolve(name + ".key");
    }

    /** {@code name.crt} and {@code name.key} for a server on loopback; replaced atomically (key first). */
    public void server(String name, String serialHex) throws IOException {
        issue(
                name,
                "/CN=127.0.0.1",
                serialHex,
                "subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\n"
                        + "keyUsage=digitalSignature\nextendedKeyUsage=serverAuth\n");
    }

    /**
     * As {@link #server}, with the key as {@code openssl ecparam -genkey} writes it: an {@code EC
     * PARAMETERS} block, then the key in SEC1 form ({@code BEGIN EC PRIVATE KEY}), not PKCS#8.
     */
    public void serverWithSec1Key(String name, String serialHex) throws IOException {
        Path key = dir.resolve(name + ".key.new");
        run("openssl", "ecparam", "-genkey", "-name", "prime256v1", "-out", key.toString());
        issue(
                name,
                "/CN=127.0.0.1",
                serialHex,
                "subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\n"
                        + "keyUsage=digitalSignature\nextendedKeyUsage=serverAuth\n",
                key);
    }

    /** {@code name.crt} and {@code name.key} for a client whose certificate names {@code cn}. */
    public void client(String name, String cn) throws IOException {
        issue(
                name,
                "/CN=" + cn,
                Long.toHexString(System.nanoTime()),
                "basicConstraints=CA:FALSE\n" + "keyUsage=digitalSignature\nextendedKeyUsage=clientAuth\n");
    }

    private void issue(String name, String subject, String serialHex, String extensions) throws IOException {
        issue(name, subject, serialHex, extensions, null);
    }

    /** With {@code existingKey} null, a new PKCS#8 key; else a certificate for that key file. */
    private void issue(String name, String subject, String serialHex, String extensions, Path existingKey)
            throws IOException {
        Path ext = dir.resolve(name + ".ext");
        Files.writeString(ext, extensions);
        Path key = dir.resolve(name + ".key.new");
        Path csr = dir.resolve(name + ".csr");
        Path crt = dir.resolve(name + ".crt.new");
        if (existingKey == null) {
            run(
                    "openssl",
                    "req",
                    "-newkey",
                    "ec",
                    "-pkeyopt",
                    "ec_paramgen_curve:P-256",
                    "-nodes",
                    "-subj",
                    subject,
                    "-keyout",
                    key.toString(),
                    "-out",
                    csr.toString());
        } else {
            run("openssl", "req", "-new", "-key", existingKey.toString(), "-subj", subject, "-out", csr.toString());
        }
        run(
                "openssl",
                "x509",
                "-req",
                "-in",
                csr.toString(),
                "-CA",
                ca().toString(),
                "-CAkey",
                dir.resolve("ca.key").toString(),
                "-set_serial",
                "0x" + serialHex,
                "-days",
                "1",
                "-extfile",
                ext.toString(),
                "-out",
                crt.toString());
        Files.move(key, key(name), StandardCopyOption.REPLACE_EXISTING);
        Files.move(crt, cert(name), StandardCopyOption.REPLACE_EXISTING);
    }

    private static void run(String... cmd) throws IOException {
        Command c = Command.run(cmd);
        if (c.exitCode() != 0) {
            throw new IOException(String.join(" ", cmd) + ": " + c.output());
        }
    }
}
