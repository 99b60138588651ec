package io.berth.proxy;

import io.berth.core.model.RepositoryName;
import io.berth.core.proxy.CachePolicy;
import io.berth.core.testing.Images;
import io.berth.http.TestRegistry;
import io.berth.oci.OciClient;
import io.berth.oci.OciEndpoint;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import org.springframework.security.crypto.bcrypt.BCrypt;

/**
 * An upstream as Docker Hub is one: a real Berth in token mode (htpasswd behind the Docker token flow),
 * anonymous callers may pull {@code library/**}, the user {@code alice} {@code private/**} too.
 */
final class Hub implements AutoCloseable {
    static final String PASSWORD = "alice-s3cret-pw";
    static final CachePolicy POLICY = new CachePolicy(Duration.ofMinutes(5), Duration.ofDays(7));

    final TestRegistry registry;
    final Images images;

    Hub(Path dir) throws IOException {
        Files.createDirectories(dir);
        Files.writeString(dir.resolve("htpasswd"), "alice:" + BCrypt.hashpw(PASSWORD, BCrypt.gensalt(4)) + "\n");
        Files.writeString(dir.resolve("policy.yaml"), """
                rules:
                  - repositories: ["library/**"]
                    subjects: [anonymous, authenticated]
                    actions: [pull]
                  - repositories: ["private/**"]
                    subjects: [alice]
                    actions: [pull]
                """);
        registry = new TestRegistry(
                dir.resolve("data"),
                Map.of(
                        "auth.type",
                        "token",
                        "auth.htpasswd.path",
                        dir.resolve("htpasswd").toString(),
                        "auth.policy",
                        dir.resolve("policy.yaml").toString(),
                        "auth.token.key-file",
                        dir.resolve("key.pem").toString()));
        images = new Images(registry.registry);
    }

    URI uri() {
        return registry.uri("/");
    }

    /** An upstream over {@code url} as Proxy.open makes it, without guards. */
    static OciUpstream upstream(URI url, String user, String password) {
        OciClient client = new OciClient(
                new OciEndpoint(url, user, password, Optional.empty(), false),
                Duration.ofSeconds(10),
                null,
                OciClient.DEFAULT_MAX_MANIFEST,
                OciClient.Access.PULL,
                "berth-proxy-test");
        return new OciUpstream("hub", url + " (mirror)", POLICY, client, OciClient.DEFAULT_MAX_MANIFEST);
    }

    static RepositoryName repo(String name) {
        return RepositoryName.of(name);
    }

    @Override
    public void close() {
        registry.close();
    }
}
