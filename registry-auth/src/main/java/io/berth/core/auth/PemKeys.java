package io.berth.core.auth;

import io.berth.core.files.OwnerOnly;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
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
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.security.spec.PKCS8EncodedKeySpec;
import java.security.spec.X509EncodedKeySpec;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.net.ssl.KeyManager;
import javax.net.ssl.KeyManagerFactory;

/** PEM files of keys, with the JDK alone: private keys (PKCS#8, SEC1, PKCS#1), public keys and certificates. */
public final class PemKeys {
    /** One PEM block; its body may hold headers with dashes (legacy encrypted keys: {@code DEK-Info: AES-128-CBC}). */
    private static final Pattern BLOCK =
            Pattern.compile("-----BEGIN ([A-Z0-9 ]+)-----(.*?)-----END \\1-----", Pattern.DOTALL);

    private PemKeys() {}

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
            String pem = pem("PRIVATE KEY", pair.getPrivate().getEncoded())
                    + pem("PUBLIC KEY", pair.getPublic().getEncoded());
            Path parent = file.toAbsolutePath().getParent();
            OwnerOnly.createDirectories(parent);
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
        byte[] priv = block(pem, "PRIVATE KEY")
                .orElseThrow(() -> new GeneralSecurityException("no '-----BEGIN PRIVATE KEY-----' (PKCS#8) block"));
        byte[] pub = block(pem, "PUBLIC KEY")
                .orElseThrow(() -> new GeneralSecurityException(
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
        byte[] cert = block(pem, "CERTIFICATE")
                .orElseThrow(() -> new GeneralSecurityException("no PUBLIC KEY or CERTIFICATE block"));
        return CertificateFactory.getInstance("X.509")
                .generateCertificate(new ByteArrayInputStream(cert))
                .getPublicKey();
    }

    /**
     * The private key of a PEM file, as TLS listeners take it: PKCS#8 ({@code PRIVATE KEY}), SEC1
     * ({@code EC PRIVATE KEY}, what {@code openssl ecparam -genkey} and older tools write) or PKCS#1
     * ({@code RSA PRIVATE KEY}). The JDK reads only PKCS#8, so the other two are wrapped into it here:
     * a SEC1 key is the very structure PKCS#8 carries for EC, beside the curve SEC1 names. What cannot
     * be read is refused saying which {@code openssl} command makes it readable.
     */
    public static PrivateKey privateKey(Path file) throws IOException, GeneralSecurityException {
        String pem = Files.readString(file, StandardCharsets.US_ASCII);
        String path = file.toString();
        Matcher m = BLOCK.matcher(pem);
        while (m.find()) {
            String type = m.group(1);
            if (m.group(2).contains("Proc-Type:") || type.equals("ENCRYPTED PRIVATE KEY")) {
                throw new GeneralSecurityException("the private key in " + path + " is encrypted; write it without a"
                        + " passphrase: openssl pkey -in " + path + " -out " + path + ".pkcs8");
            }
            byte[] der;
            try {
                der = Base64.getMimeDecoder().decode(m.group(2).strip());
            } catch (IllegalArgumentException e) {
                throw new GeneralSecurityException("the " + type + " block of " + path + " is not base64");
            }
            switch (type) {
                case "PRIVATE KEY":
                    return pkcs8(der, path);
                case "EC PRIVATE KEY":
                    return KeyFactory.getInstance("EC")
                            .generatePrivate(new PKCS8EncodedKeySpec(sec1ToPkcs8(der, path)));
                case "RSA PRIVATE KEY":
                    return KeyFactory.getInstance("RSA")
                            .generatePrivate(new PKCS8EncodedKeySpec(Der.sequence(
                                    Der.INTEGER_ZERO,
                                    Der.sequence(Der.oid(RSA_ENCRYPTION), Der.NULL),
                                    Der.octets(der))));
                default:
                // EC PARAMETERS (written before the key by openssl ecparam -genkey), certificates: not keys
            }
        }
        throw new GeneralSecurityException("no private key in " + path + ": expected a '-----BEGIN PRIVATE KEY-----'"
                + " (PKCS#8), 'EC PRIVATE KEY' (SEC1) or 'RSA PRIVATE KEY' (PKCS#1) block");
    }

    /** The certificates of a PEM file, in order (a chain: leaf first). */
    public static List<X509Certificate> certificates(Path file) throws IOException, GeneralSecurityException {
        String pem = Files.readString(file, StandardCharsets.US_ASCII);
        List<X509Certificate> out = new ArrayList<>();
        CertificateFactory x509 = CertificateFactory.getInstance("X.509");
        Matcher m = BLOCK.matcher(pem);
        while (m.find()) {
            if (m.group(1).equals("CERTIFICATE")) {
                out.add((X509Certificate) x509.generateCertificate(new ByteArrayInputStream(
                        Base64.getMimeDecoder().decode(m.group(2).strip()))));
            }
        }
        if (out.isEmpty()) {
            throw new GeneralSecurityException("no '-----BEGIN CERTIFICATE-----' block in " + file);
        }
        return out;
    }

    /** Key managers for a TLS endpoint from a PEM certificate chain and a PEM private key (any form above). */
    public static KeyManager[] keyManagers(Path certChain, Path key) throws IOException, GeneralSecurityException {
        KeyStore store = KeyStore.getInstance("PKCS12");
        store.load(null, null);
        char[] password = new char[0];
        store.setKeyEntry(
                "key", privateKey(key), password, certificates(certChain).toArray(new Certificate[0]));
        KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        kmf.init(store, password);
        return kmf.getKeyManagers();
    }

    private static final String RSA_ENCRYPTION = "1.2.840.113549.1.1.1";
    private static final String EC_PUBLIC_KEY = "1.2.840.10045.2.1";

    private static PrivateKey pkcs8(byte[] der, String path) throws GeneralSecurityException {
        for (String algorithm : new String[] {"EC", "RSA", "EdDSA", "RSASSA-PSS", "XDH"}) {
            try {
                return KeyFactory.getInstance(algorithm).generatePrivate(new PKCS8EncodedKeySpec(der));
            } catch (GeneralSecurityException e) {
                // try the next
            }
        }
        throw new GeneralSecurityException("the PRIVATE KEY in " + path + " is not a key this JDK reads (EC on a"
                + " named curve, RSA, Ed25519); check it with: openssl pkey -in " + path + " -noout -text");
    }

    /**
     * SEC1 {@code ECPrivateKey ::= SEQUENCE { version 1, privateKey OCTET STRING, [0] parameters,
     * [1] publicKey }} into PKCS#8 {@code SEQUENCE { 0, SEQUENCE { id-ecPublicKey, curve }, OCTET
     * STRING { the SEC1 bytes } }}: the curve moves into the algorithm identifier.
     */
    static byte[] sec1ToPkcs8(byte[] sec1, String path) throws GeneralSecurityException {
        Der.Reader key = new Der.Reader(sec1, path).sequence();
        if (key.next(Der.INTEGER).length != 1 || key.last()[0] != 1) {
            throw new GeneralSecurityException("the EC PRIVATE KEY in " + path + " is not SEC1 version 1");
        }
        key.next(Der.OCTET_STRING);
        byte[] curve = null;
        while (key.hasMore()) {
            int tag = key.peekTag();
            byte[] content = key.next(tag);
            if (tag == 0xA0) {
                Der.Reader parameters = new Der.Reader(content, path);
                if (parameters.peekTag() != Der.OID) {
                    throw new GeneralSecurityException("the EC PRIVATE KEY in " + path + " spells out its curve's"
                            + " parameters instead of naming the curve; name it with: openssl ec -in " + path
                            + " -param_enc named_curve -out " + path + ".named");
                }
                curve = Der.tlv(Der.OID, parameters.next(Der.OID));
            }
        }
        if (curve == null) {
            throw new GeneralSecurityException("the EC PRIVATE KEY in " + path + " does not name its curve; write it as"
                    + " PKCS#8 with: openssl pkcs8 -topk8 -nocrypt -in " + path + " -out " + path + ".pkcs8");
        }
        return Der.sequence(Der.INTEGER_ZERO, Der.sequence(Der.oid(EC_PUBLIC_KEY), curve), Der.octets(sec1));
    }

    /** Just enough DER for the wrapping above: definite lengths, a few universal types. */
    static final class Der {
        static final int INTEGER = 0x02;
        static final int OCTET_STRING = 0x04;
        static final int OID = 0x06;
        static final int SEQUENCE = 0x30;
        static final byte[] INTEGER_ZERO = {INTEGER, 1, 0};
        static final byte[] NULL = {0x05, 0};

        private Der() {}

        static byte[] tlv(int tag, byte[] content) {
            ByteArrayOutputStream out = new ByteArrayOutputStream(content.length + 6);
            out.write(tag);
            int n = content.length;
            if (n < 0x80) {
                out.write(n);
            } else {
                int bytes = n > 0xFFFFFF ? 4 : n > 0xFFFF ? 3 : n > 0xFF ? 2 : 1;
                out.write(0x80 | bytes);
                for (int i = bytes - 1; i >= 0; i--) {
                    out.write(n >>> (8 * i));
                }
            }
            out.writeBytes(content);
            return out.toByteArray();
        }

        static byte[] sequence(byte[]... elements) {
            ByteArrayOutputStream content = new ByteArrayOutputStream();
            for (byte[] e : elements) {
                content.writeBytes(e);
            }
            return tlv(SEQUENCE, content.toByteArray());
        }

        static byte[] octets(byte[] content) {
            return tlv(OCTET_STRING, content);
        }

        static byte[] oid(String dotted) {
            String[] arcs = dotted.split("\\.");
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            out.write(Integer.parseInt(arcs[0]) * 40 + Integer.parseInt(arcs[1]));
            for (int i = 2; i < arcs.length; i++) {
                long arc = Long.parseLong(arcs[i]);
                int groups = 1;
                while ((arc >>> (7 * groups)) != 0) {
                    groups++;
                }
                for (int g = groups - 1; g >= 0; g--) {
                    out.write((int) ((arc >>> (7 * g)) & 0x7F) | (g > 0 ? 0x80 : 0));
                }
            }
            return tlv(OID, out.toByteArray());
        }

        /** Reads the elements of one constructed value in order. */
        static final class Reader {
            private final byte[] b;
            private final String path;
            private int at;
            private final int end;
            private byte[] last;

            Reader(byte[] b, String path) {
                this(b, 0, b.length, path);
            }

            private Reader(byte[] b, int from, int end, String path) {
                this.b = b;
                this.at = from;
                this.end = end;
                this.path = path;
            }

            boolean hasMore() {
                return at < end;
            }

            int peekTag() throws GeneralSecurityException {
                if (at >= end) {
                    throw malformed();
                }
                return b[at] & 0xFF;
            }

            /** The reader of the SEQUENCE that starts here. */
            Reader sequence() throws GeneralSecurityException {
                int[] span = header(SEQUENCE);
                at = span[1];
                return new Reader(b, span[0], span[1], path);
            }

            /** The content of the element of {@code tag} that starts here. */
            byte[] next(int tag) throws GeneralSecurityException {
                int[] span = header(tag);
                at = span[1];
                last = Arrays.copyOfRange(b, span[0], span[1]);
                return last;
            }

            byte[] last() {
                return last;
            }

            private int[] header(int tag) throws GeneralSecurityException {
                if (peekTag() != tag || at + 2 > end) {
                    throw malformed();
                }
                int p = at + 1;
                int len = b[p++] & 0xFF;
                if (len >= 0x80) {
                    int bytes = len & 0x7F;
                    if (bytes == 0 || bytes > 4 || p + bytes > end) {
                        throw malformed();
                    }
                    len = 0;
                    for (int i = 0; i < bytes; i++) {
                        len = (len << 8) | (b[p++] & 0xFF);
                    }
                }
                if (len < 0 || p + len > end) {
                    throw malformed();
                }
                return new int[] {p, p + len};
            }

            private GeneralSecurityException malformed() {
                return new GeneralSecurityException("the EC PRIVATE KEY in " + path + " is not valid DER; check it"
                        + " with: openssl ec -in " + path + " -noout -text");
            }
        }
    }

    static String pem(String type, byte[] der) {
        return "-----BEGIN " + type + "-----\n"
                + Base64.getMimeEncoder(64, new byte[] {'\n'}).encodeToString(der) + "\n-----END " + type + "-----\n";
    }
}
