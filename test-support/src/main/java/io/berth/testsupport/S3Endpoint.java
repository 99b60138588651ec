package io.berth.testsupport;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * A real S3 API endpoint (S3Proxy over a local directory), started once per test JVM on a free
 * loopback port and stopped when the JVM exits.
 */
public final class S3Endpoint {
    public static final String ACCESS_KEY = "berth-test-access";
    public static final String SECRET_KEY = "berth-test-secret-key";

    private static S3Endpoint shared;

    private final String endpoint;

    private S3Endpoint(String endpoint) {
        this.endpoint = endpoint;
    }

    public static synchronized S3Endpoint shared() {
        if (shared == null) {
            shared = start();
        }
        return shared;
    }

    public String endpoint() {
        return endpoint;
    }

    public String accessKey() {
        return ACCESS_KEY;
    }

    public String secretKey() {
        return SECRET_KEY;
    }

    private static S3Endpoint start() {
        try {
            Path dir = Files.createTempDirectory("berth-s3-");
            Path data = Files.createDirectories(dir.resolve("data"));
            int port = FreePorts.next();
            String endpoint = "http://127.0.0.1:" + port;
            Path conf = dir.resolve("s3proxy.conf");
            Files.writeString(
                    conf,
                    String.join(
                            "\n",
                            "s3proxy.endpoint=" + endpoint,
                            "s3proxy.authorization=aws-v2-or-v4",
                            "s3proxy.identity=" + ACCESS_KEY,
                            "s3proxy.credential=" + SECRET_KEY,
                            "jclouds.provider=filesystem-nio2",
                            "jclouds.filesystem.basedir=" + data,
                            ""));
            JavaProcess.startServer(
                    "s3proxy",
                    "org.gaul.s3proxy.Main",
                    List.of("-Xmx256m", "-Dlogback.configurationFile=" + QuietLogging.logbackConfig()),
                    List.of("--properties", conf.toString()),
                    dir,
                    port);
            return new S3Endpoint(endpoint);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
