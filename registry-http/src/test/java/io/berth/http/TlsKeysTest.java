package io.berth.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.berth.testsupport.Command;
import io.berth.testsupport.TestPki;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.time.Duration;
import java.util.Map;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The HTTPS listener with a key as {@code openssl ecparam -genkey} writes it (SEC1, {@code BEGIN EC
 * PRIVATE KEY}, after an {@code EC PARAMETERS} block): a real TLS handshake and a request over it.
 */
class TlsKeysTest {
    @TempDir
    Path dir;

    static SSLContext trusting(Path ca) throws Exception {
        KeyStore trust = KeyStore.getInstance(KeyStore.getDefaultType());
        trust.load(null, null);
        try (InputStream in = Files.newInputStream(ca)) {
            trust.setCertificateEntry(
                    "ca", CertificateFactory.getInstance("X.509").generateCertificate(in));
        }
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(trust);
        SSLContext ssl = SSLContext.getInstance("TLS");
        ssl.init(null, tmf.getTrustManagers(), null);
        return ssl;
    }

    @Test
    void aSec1EcKeyFromOpensslEcparamServesHttps() throws Exception {
        TestPki pki = TestPki.create(dir.resolve("pki"));
        pki.serverWithSec1Key("server", "2001");
        String key = Files.readString(pki.key("server"));
        assertTrue(
                key.contains("-----BEGIN EC PARAMETERS-----") && key.contains("-----BEGIN EC PRIVATE KEY-----"), key);
        try (TestRegistry r = new TestRegistry(
                dir,
                Map.of(
                        "http.tls.cert",
                        pki.cert("server").toString(),
                        "http.tls.key",
                        pki.key("server").toString()))) {
            HttpClient client = HttpClient.newBuilder()
                    .sslContext(trusting(pki.ca()))
                    .connectTimeout(Duration.ofSeconds(20))
                    .build();
            HttpResponse<String> res = client.send(
                    HttpRequest.newBuilder(URI.create("https://127.0.0.1:" + r.port() + "/v2/"))
                            .timeout(Duration.ofSeconds(20))
                            .build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(200, res.statusCode(), res.body());
            assertEquals(
                    "registry/2.0",
                    res.headers().firstValue("Docker-Distribution-API-Version").orElse(""));
        }
    }

    /** A key that cannot be used is refused in one line with the openssl command that makes it usable. */
    @Test
    void anEncryptedKeyIsRefusedWithTheCommandThatDecryptsIt() throws Exception {
        TestPki pki = TestPki.create(dir.resolve("pki"));
        pki.serverWithSec1Key("server", "2002");
        Path encrypted = dir.resolve("encrypted.key");
        Command c = Command.run(
                "openssl",
                "ec",
                "-in",
                pki.key("server").toString(),
                "-aes128",
                "-passout",
                "pass:secret",
                "-out",
                encrypted.toString());
        assertEquals(0, c.exitCode(), c.output());
        IllegalArgumentException e = Assertions.assertThrows(
                IllegalArgumentException.class,
                () -> new TestRegistry(
                                dir,
                                Map.of(
                                        "http.tls.cert",
                                        pki.cert("server").toString(),
                                        "http.tls.key",
                                        encrypted.toString()))
                        .close());
        assertEquals(
                "cannot use http.tls.cert/http.tls.key " + pki.cert("server") + " and " + encrypted
                        + ": the private key in " + encrypted
                        + " is encrypted; write it without a passphrase: openssl pkey"
                        + " -in " + encrypted + " -out " + encrypted + ".pkcs8",
                e.getMessage());
    }
}
