package io.berth.core.auth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.berth.testsupport.Command;
import io.berth.testsupport.TestServices;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.Signature;
import java.security.spec.X509EncodedKeySpec;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Private keys as openssl writes them, read by the JDK alone: each one signs something its public key
 * (as openssl derives it) verifies; what cannot be read is refused with the openssl command that helps.
 */
class PemKeysTest {
    @TempDir
    Path dir;

    @BeforeEach
    void openssl() {
        TestServices.require(Command.onPath("openssl"), "openssl");
    }

    Path openssl(String name, String... args) {
        Path out = dir.resolve(name);
        String[] cmd = new String[args.length + 3];
        cmd[0] = "openssl";
        System.arraycopy(args, 0, cmd, 1, args.length);
        cmd[args.length + 1] = "-out";
        cmd[args.length + 2] = out.toString();
        Command c = Command.run(cmd);
        assertEquals(0, c.exitCode(), String.join(" ", cmd) + ": " + c.output());
        return out;
    }

    /** The key reads, and it is the key openssl's public key belongs to. */
    void matches(Path key, String signature) throws Exception {
        PrivateKey k = PemKeys.privateKey(key);
        Path pubFile = openssl(key.getFileName() + ".pub", "pkey", "-in", key.toString(), "-pubout");
        PublicKey pub = KeyFactory.getInstance(k.getAlgorithm())
                .generatePublic(new X509EncodedKeySpec(
                        PemKeys.block(Files.readString(pubFile), "PUBLIC KEY").orElseThrow()));
        byte[] data = "berth".getBytes(StandardCharsets.UTF_8);
        Signature s = Signature.getInstance(signature);
        s.initSign(k);
        s.update(data);
        byte[] signed = s.sign();
        Signature v = Signature.getInstance(signature);
        v.initVerify(pub);
        v.update(data);
        assertTrue(v.verify(signed), key.getFileName() + " is the private half of its public key");
    }

    @Test
    void sec1EcKeysAsOpensslEcparamWritesThem() throws Exception {
        Path p256 = openssl("p256.pem", "ecparam", "-genkey", "-name", "prime256v1");
        String pem = Files.readString(p256);
        assertTrue(pem.contains("BEGIN EC PARAMETERS") && pem.contains("BEGIN EC PRIVATE KEY"), pem);
        matches(p256, "SHA256withECDSA");
        matches(openssl("p384.pem", "ecparam", "-genkey", "-name", "secp384r1", "-noout"), "SHA384withECDSA");
        matches(openssl("p521.pem", "ecparam", "-genkey", "-name", "secp521r1", "-noout"), "SHA512withECDSA");
    }

    @Test
    void pkcs8AndPkcs1Keys() throws Exception {
        Path pkcs8 = openssl("pkcs8.pem", "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256");
        assertTrue(Files.readString(pkcs8).contains("BEGIN PRIVATE KEY"));
        matches(pkcs8, "SHA256withECDSA");
        Path rsa = openssl("rsa.pem", "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048");
        matches(rsa, "SHA256withRSA");
        Path pkcs1 = openssl("pkcs1.pem", "rsa", "-in", rsa.toString(), "-traditional");
        assertTrue(Files.readString(pkcs1).contains("BEGIN RSA PRIVATE KEY"));
        matches(pkcs1, "SHA256withRSA");
        matches(openssl("ed25519.pem", "genpkey", "-algorithm", "ED25519"), "Ed25519");
    }

    @Test
    void whatCannotBeReadIsRefusedWithTheCommandThatHelps() throws Exception {
        Path plain = openssl("plain.pem", "ecparam", "-genkey", "-name", "prime256v1", "-noout");
        Path encrypted = openssl("encrypted.pem", "ec", "-in", plain.toString(), "-aes128", "-passout", "pass:x");
        assertEquals(
                "the private key in " + encrypted + " is encrypted; write it without a passphrase: openssl pkey"
                        + " -in " + encrypted + " -out " + encrypted + ".pkcs8",
                refusal(encrypted));
        Path encrypted8 = openssl("encrypted8.pem", "pkcs8", "-topk8", "-in", plain.toString(), "-passout", "pass:x");
        assertTrue(refusal(encrypted8).contains("openssl pkey -in " + encrypted8), refusal(encrypted8));
        Path explicit = openssl(
                "explicit.pem", "ecparam", "-genkey", "-name", "prime256v1", "-param_enc", "explicit", "-noout");
        assertEquals(
                "the EC PRIVATE KEY in " + explicit + " spells out its curve's parameters instead of naming the"
                        + " curve; name it with: openssl ec -in " + explicit + " -param_enc named_curve -out "
                        + explicit
                        + ".named",
                refusal(explicit));
        Path named = openssl("named.pem", "ec", "-in", explicit.toString(), "-param_enc", "named_curve");
        matches(named, "SHA256withECDSA");
        Path certOnly = Files.writeString(
                dir.resolve("cert-only.pem"), "-----BEGIN CERTIFICATE-----\nAAAA\n" + "-----END CERTIFICATE-----\n");
        assertTrue(refusal(certOnly).startsWith("no private key in " + certOnly), refusal(certOnly));
        Path garbage = Files.writeString(
                dir.resolve("garbage.pem"),
                "-----BEGIN EC PRIVATE KEY-----\nMAMCAQE=\n" + "-----END EC PRIVATE KEY-----\n");
        assertTrue(refusal(garbage).contains("openssl ec -in " + garbage + " -noout -text"), refusal(garbage));
    }

    static String refusal(Path key) {
        return assertThrows(GeneralSecurityException.class, () -> PemKeys.privateKey(key))
                .getMessage();
    }
}
