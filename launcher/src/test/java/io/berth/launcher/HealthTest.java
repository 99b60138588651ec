package io.berth.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.sun.net.httpserver.HttpServer;
import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.util.Map;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code berth health} without a URL asks the server the same configuration starts (docs/deploy.md):
 * its port from a mounted berth.yaml, HTTPS when http.tls.* is set. Real servers on loopback (the
 * JDK's), a real certificate (keytool).
 */
class HealthTest {
    @TempDir
    Path dir;

    @Test
    void httpsWhenTheConfigurationTurnsTlsOn() throws Exception {
        Path keystore = dir.resolve("server.p12");
        Process keytool = new ProcessBuilder(
                        Path.of(System.getProperty("java.home"), "bin", "keytool")
                                .toString(),
                        "-genkeypair",
                        "-keyalg",
                        "EC",
                        "-alias",
                        "server",
                        "-dname",
                        "CN=registry.example.com",
                        "-keystore",
                        keystore.toString(),
                        "-storetype",
                        "PKCS12",
                        "-storepass",
                        "changeit",
                        "-validity",
                        "2")
                .redirectErrorStream(true)
                .start();
        keytool.getInputStream().transferTo(OutputStream.nullOutputStream());
        assertEquals(0, keytool.waitFor());
        KeyStore ks = KeyStore.getInstance("PKCS12");
        try (InputStream in = Files.newInputStream(keystore)) {
            ks.load(in, "changeit".toCharArray());
        }
        KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        kmf.init(ks, "changeit".toCharArray());
        SSLContext tls = SSLContext.getInstance("TLS");
        tls.init(kmf.getKeyManagers(), null, null);
        HttpsServer server = HttpsServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.setHttpsConfigurator(new HttpsConfigurator(tls));
        server.createContext("/readyz", exchange -> {
            exchange.sendResponseHeaders(200, -1);
            exchange.close();
        });
        server.start();
        try {
            int port = server.getAddress().getPort();
            // the files are the server's business: the check only needs to know that TLS is on
            Map<String, String> env = Map.of(
                    "BERTH_HTTP_PORT",
                    Integer.toString(port),
                    "BERTH_HTTP_TLS_CERT",
                    dir.resolve("cert.pem").toString(),
                    "BERTH_HTTP_TLS_KEY",
                    dir.resolve("key.pem").toString());
            assertEquals(0, Health.check(new String[] {"health"}, env));
            assertEquals(
                    1,
                    Health.check(new String[] {"health", "http://127.0.0.1:" + port + "/readyz"}, env),
                    "plain HTTP to a TLS port");
        } finally {
            server.stop(0);
        }
    }

    @Test
    void portAndAddressFromTheMountedFile() throws Exception {
        HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        int[] status = {200};
        server.createContext("/readyz", exchange -> {
            exchange.sendResponseHeaders(status[0], -1);
            exchange.close();
        });
        server.start();
        try {
            Path config = Files.writeString(
                    dir.resolve("berth.yaml"),
                    "http:\n  host: 0.0.0.0\n  port: " + server.getAddress().getPort() + "\n");
            Map<String, String> env = Map.of("BERTH_CONFIG", config.toString());
            assertEquals(0, Health.check(new String[] {"health"}, env));
            status[0] = 503;
            assertEquals(1, Health.check(new String[] {"health"}, env), "draining");
        } finally {
            server.stop(0);
        }
    }
}
