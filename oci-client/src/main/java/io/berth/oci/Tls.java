package io.berth.oci;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.SecureRandom;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509TrustManager;

/**
 * The TLS trust of an endpoint: the JDK's (null), a CA file's (PEM), or none at all ({@code insecure}).
 */
public final class Tls {
    private Tls() {}

    public static SSLContext context(OciEndpoint e) {
        try {
            if (e.insecure()) {
                SSLContext ctx = SSLContext.getInstance("TLS");
                ctx.init(
                        null,
                        new TrustManager[] {
                            new X509TrustManager() {
                                public void checkClientTrusted(X509Certificate[] chain, String authType) {}

                                public void checkServerTrusted(X509Certificate[] chain, String authType) {}

                                public X509Certificate[] getAcceptedIssuers() {
                                    return new X509Certificate[0];
                                }
                            }
                        },
                        new SecureRandom());
                return ctx;
            }
            if (e.caFile().isEmpty()) {
                return null;
            }
            KeyStore store = KeyStore.getInstance(KeyStore.getDefaultType());
            store.load(null, null);
            try (InputStream in = Files.newInputStream(e.caFile().get())) {
                int i = 0;
                for (Certificate c : CertificateFactory.getInstance("X.509").generateCertificates(in)) {
                    store.setCertificateEntry("ca-" + i++, c);
                }
            }
            TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            tmf.init(store);
            SSLContext ctx = SSLContext.getInstance("TLS");
            ctx.init(null, tmf.getTrustManagers(), new SecureRandom());
            return ctx;
        } catch (IOException | GeneralSecurityException ex) {
            throw new IllegalArgumentException(
                    "cannot use the CA file " + e.caFile().orElse(null) + " for " + e.url() + ": " + ex.getMessage());
        }
    }
}
