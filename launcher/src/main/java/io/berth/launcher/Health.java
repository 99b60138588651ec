package io.berth.launcher;

import io.berth.core.config.BerthConfig;
import io.berth.core.config.ConfigKeys;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.cert.X509Certificate;
import java.util.Map;
import java.util.Optional;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509TrustManager;

/**
 * {@code berth health [URL]}: exit 0 when the server answers its readiness check with 200, else 1.
 * The image's health check (docs/deploy.md): the image has no curl or shell, and this class loads
 * only Berth's configuration, so a check costs a JVM start and one request. Without a URL it checks
 * the server {@code berth serve} would start with the same configuration (BERTH_* variables over
 * $BERTH_CONFIG or ./berth.yaml): {@code /readyz} on its http.port, over HTTPS when http.tls.cert is
 * set, at http.host unless that is every address (then 127.0.0.1).
 */
public final class Health {
    private Health() {}

    public static void main(String[] args) {
        System.exit(check(args));
    }

    static int check(String[] args) {
        return check(args, System.getenv());
    }

    static int check(String[] args, Map<String, String> env) {
        String url = args.length > 0 && !args[args.length - 1].equals("health") ? args[args.length - 1] : null;
        try {
            if (url == null) {
                url = ownUrl(env);
            }
            URI uri = URI.create(url);
            boolean tls = "https".equals(uri.getScheme());
            if (!tls && !"http".equals(uri.getScheme()) || uri.getHost() == null) {
                System.err.println("berth health: not an http:// or https:// URL: " + url);
                return 2;
            }
            int p = uri.getPort() >= 0 ? uri.getPort() : tls ? 443 : 80;
            String path = uri.getRawPath() == null || uri.getRawPath().isEmpty() ? "/" : uri.getRawPath();
            try (Socket plain = new Socket()) {
                plain.connect(new InetSocketAddress(uri.getHost(), p), 2000);
                plain.setSoTimeout(5000);
                Socket s =
                        tls ? anyCertificate().getSocketFactory().createSocket(plain, uri.getHost(), p, true) : plain;
                if (s instanceof SSLSocket ssl) {
                    ssl.startHandshake();
                }
                OutputStream out = s.getOutputStream();
                out.write(("GET " + path + " HTTP/1.1\r\nHost: " + uri.getHost() + ":" + p
                                + "\r\nConnection: close\r\nUser-Agent: berth-health\r\n\r\n")
                        .getBytes(StandardCharsets.US_ASCII));
                out.flush();
                InputStream in = s.getInputStream();
                byte[] line = new byte[64];
                int n = in.readNBytes(line, 0, 12);
                String status = new String(line, 0, n, StandardCharsets.US_ASCII);
                if (status.startsWith("HTTP/1.1 200") || status.startsWith("HTTP/1.0 200")) {
                    return 0;
                }
                System.err.println("berth health: " + url + " answered " + status.trim());
                return 1;
            }
        } catch (IOException | RuntimeException e) {
            System.err.println("berth health: " + (url == null ? "" : url + ": ") + e.getMessage());
            return 1;
        }
    }

    /** /readyz of the server this configuration starts. */
    static String ownUrl(Map<String, String> env) {
        String file = env.get("BERTH_CONFIG");
        Optional<Path> config = file != null && !file.isBlank()
                ? Optional.of(Path.of(file))
                : Files.isRegularFile(Path.of("berth.yaml")) ? Optional.of(Path.of("berth.yaml")) : Optional.empty();
        BerthConfig cfg = BerthConfig.load(config, env, warning -> {});
        String host = cfg.string(ConfigKeys.HTTP_HOST);
        if (host.isBlank() || host.equals("0.0.0.0") || host.equals("::") || host.equals("[::]")) {
            host = "127.0.0.1";
        } else if (host.contains(":") && !host.startsWith("[")) {
            host = "[" + host + "]";
        }
        boolean tls = !cfg.string(ConfigKeys.HTTP_TLS_CERT).isBlank();
        return (tls ? "https://" : "http://") + host + ":" + cfg.port(ConfigKeys.HTTP_PORT) + "/readyz";
    }

    /**
     * Trusts the server's certificate unseen: the check asks this host's own server, by an address its
     * certificate need not name, whether it is ready; it sends nothing secret.
     */
    private static SSLContext anyCertificate() throws IOException {
        TrustManager trustAll = new X509TrustManager() {
            @Override
            public void checkClientTrusted(X509Certificate[] chain, String authType) {}

            @Override
            public void checkServerTrusted(X509Certificate[] chain, String authType) {}

            @Override
            public X509Certificate[] getAcceptedIssuers() {
                return new X509Certificate[0];
            }
        };
        try {
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(null, new TrustManager[] {trustAll}, null);
            return context;
        } catch (GeneralSecurityException e) {
            throw new IOException("no TLS: " + e.getMessage(), e);
        }
    }
}
