package io.berth.core.auth;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.cert.CertificateFactory;
import java.security.spec.ECGenParameterSpec;
import java.security.spec.PKCS8EncodedKeySpec;
import java.security.spec.X509EncodedKeySpec;
import java.util.Base64;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** PEM files of keys, with the JDK alone: PKCS#8 private keys, public keys and certificates. */
public final class PemKeys {
    private static final Pattern BLOCK = Pattern.compile("-----BEGIN ([A-Z ]+)-----([^-]+)-----END \\1-----");

    private PemKeys() {
    }

    /** The DER bytes of the first block of {@code type} in {@code pem}. */
    static Optional<byte[]> block(String pem, String type) {
        Matcher m = BLOCK.matcher(pem);
        while (m.find()) {
            if (m.group(1).equals(type)) {
                return Optional.of(Base64.getMimeDecoder().decode(m.group(2).strip()));
            }
        }
        return Optional.empty();
    }

    /**
     * An EC key pair from a file holding a {@code PRIVATE KEY} (PKCS#8) and a {@code PUBLIC KEY}
     * block; when the file does not exist, a new P-256 pair written there (readable by the owner only).
     */
    public static KeyPair loadOrCreateEc(Path file) throws IOException, GeneralSecurityException {
        if (!Files.exists(file)) {
            KeyPairGenerator gen = KeyPairGenerator.getInstance("EC");
            gen.initialize(new ECGenParameterSpec("secp256r1"));
            KeyPair pair = gen.generateKeyPair();
            String pem = pem("PRIVATE KEY", pair.getPrivate().getEncoded()) + pem("PUBLIC KEY",
                    pair.getPublic().getEncoded());
            Path parent = file.toAbsolutePath().getParent();
            io.berth.core.files.OwnerOnly.createDirectories(parent);
            Path tmp = Files.createTempFile(parent, ".token-key", ".tmp");
            try {
                try {
                    Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rw-------"));
                } catch (UnsupportedOperationException e) {
                    // not a POSIX filesystem
                }
                Files.writeString(tmp, pem, StandardCharsets.US_ASCII);
                Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE);
            } finally {
                Files.deleteIfExists(tmp);
            }
            return pair;
        }
        String pem = Files.readString(file, StandardCharsets.US_ASCII);
        byte[] priv = block(pem, "PRIVATE KEY").orElseThrow(() -> new GeneralSecurityException(
                "no '-----BEGIN PRIVATE KEY-----' (PKCS#8) block"));
        byte[] pub = block(pem, "PUBLIC KEY").orElseThrow(() -> new GeneralSecurityException(
                "no '-----BEGIN PUBLIC KEY-----' block (append one: openssl pkey -in KEY -pubout >> KEY)"));
        KeyFactory ec = KeyFactory.getInstance("EC");
        PrivateKey privateKey = ec.generatePrivate(new PKCS8EncodedKeySpec(priv));
        PublicKey publicKey = ec.generatePublic(new X509EncodedKeySpec(pub));
        return new KeyPair(publicKey, privateKey);
    }

    /** The public key of a {@code PUBLIC KEY} block or of the first {@code CERTIFICATE} (EC or RSA). */
    public static PublicKey publicKey(Path file) throws IOException, GeneralSecurityException {
        String pem = Files.readString(file, StandardCharsets.US_ASCII);
        Optional<byte[]> pub = block(pem, "PUBLIC KEY");
        if (pub.isPresent()) {
            for (String algorithm : new String[] {"EC", "RSA"}) {
                try {
                    return KeyFactory.getInstance(algorithm).generatePublic(new X509EncodedKeySpec(pub.get()));
                } catch (GeneralSecurityException e) {
                    // try the next
                }
            }
            throw new GeneralSecurityException("the PUBLIC KEY is neither EC nor RSA");
        }
        byte[] cert = block(pem, "CERTIFICATE").orElseThrow(() -> new GeneralSecurityException(
                "no PUBLIC KEY or CERTIFICATE block"));
        return CertificateFactory.getInstance("X.509").generateCertificate(new ByteArrayInputStream(cert))
                .getPublicKey();
    }

    static String pem(String type, byte[] der) {
        return "-----BEGIN " + type + "-----\n" + Base64.getMimeEncoder(64, new byte[] {'\n'}).encodeToString(der)
                + "\n-----END " + type + "-----\n";
    }
}
