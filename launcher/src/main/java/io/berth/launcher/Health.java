package io.berth.launcher;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;

/**
 * {@code berth health [URL]}: exit 0 when the server answers its readiness check with 200, else 1.
 * The image's health check (docs/deploy.md): the image has no curl or shell, and this class loads
 * nothing of Berth, so a check costs a JVM start and one request. Plain HTTP on loopback by default,
 * {@code http://127.0.0.1:$BERTH_HTTP_PORT/readyz} (5000 when unset).
 */
public final class Health {
    private Health() {
    }

    public static void main(String[] args) {
        System.exit(check(args));
    }

    static int check(String[] args) {
        String port = System.getenv().getOrDefault("BERTH_HTTP_PORT", "5000");
        String url = args.length > 0 ? args[args.length - 1] : "http://127.0.0.1:" + port + "/readyz";
        if (url.equals("health")) {
            url = "http://127.0.0.1:" + port + "/readyz";
        }
        try {
            URI uri = URI.create(url);
            if (!"http".equals(uri.getScheme()) || uri.getHost() == null) {
                System.err.println("berth health: not an http:// URL: " + url);
                return 2;
            }
            int p = uri.getPort() < 0 ? 80 : uri.getPort();
            String path = uri.getRawPath() == null || uri.getRawPath().isEmpty() ? "/" : uri.getRawPath();
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress(uri.getHost(), p), 2000);
                s.setSoTimeout(5000);
                OutputStream out = s.getOutputStream();
                out.write(("GET " + path + " HTTP/1.1\r\nHost: " + uri.getHost() + ":" + p
                        + "\r\nConnection: close\r\nUser-Agent: berth-health\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
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
        } catch (IOException | IllegalArgumentException e) {
            System.err.println("berth health: " + url + ": " + e.getMessage());
            return 1;
        }
    }
}
