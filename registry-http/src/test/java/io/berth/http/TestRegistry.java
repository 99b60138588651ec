package io.berth.http;

import io.berth.core.auth.AuthKeys;
import io.berth.core.auth.Robots;
import io.berth.core.config.BerthConfig;
import io.berth.core.config.ConfigKeys;
import io.berth.core.metrics.Metrics;
import io.berth.core.model.Digest;
import io.berth.core.model.DigestAlgorithm;
import io.berth.core.proxy.Upstreams;
import io.berth.core.registry.Registry;
import io.berth.core.registry.RegistryFactory;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/** A registry (real stores in a temp dir) behind the real HTTP server on a free port, plus a client. */
public final class TestRegistry implements AutoCloseable {
    public final Registry registry;
    final BerthHttpServer server;
    final HttpClient client = HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(10))
            .build();

    final BerthConfig config;
    private volatile String authorization;

    /** Sends {@code header} as {@code Authorization} on every request that does not set its own (null: none). */
    public TestRegistry authorizeWith(String header) {
        this.authorization = header;
        return this;
    }

    /** A basic {@code Authorization} value. */
    public static String basic(String user, String password) {
        return "Basic " + Base64.getEncoder().encodeToString((user + ":" + password).getBytes(StandardCharsets.UTF_8));
    }

    public TestRegistry(Path dir) throws IOException {
        this(dir, Map.of());
    }

    /**
     * A registry wired from configuration exactly as {@code berth serve} wires it, with the test's
     * defaults (stores under {@code dir}, no fsync, a free port, no access log) and {@code settings}
     * (configuration key to value) on top.
     */
    public TestRegistry(Path dir, Map<String, String> settings) throws IOException {
        this(dir, settings, Upstreams.none());
    }

    /** As above, with the upstreams of pull-through caches (as the launcher passes them). */
    public TestRegistry(Path dir, Map<String, String> settings, Upstreams upstreams) throws IOException {
        Map<String, String> values = new HashMap<>();
        values.put("storage.filesystem.root", dir.resolve("blobs").toString());
        values.put("metadata.sqlite.path", dir.resolve("berth.db").toString());
        values.put("storage.filesystem.fsync", "false");
        values.put("http.port", "0");
        values.put("http.access-log", "false");
        values.put("http.shutdown-timeout", "5s");
        values.put("http.shutdown-grace", "0s");
        values.putAll(settings);
        Map<String, String> env = new HashMap<>();
        values.forEach((k, v) -> env.put(
                ConfigKeys.byName(k)
                        .orElseThrow(() -> new IllegalArgumentException("no configuration key " + k))
                        .envName(),
                v));
        config = BerthConfig.load(Optional.empty(), env, w -> {
            throw new IllegalArgumentException(w);
        });
        registry = RegistryFactory.open(config, Set.copyOf(config.list(AuthKeys.AUTH_REPLICATORS)), upstreams);
        server = BerthHttpServer.create(
                        registry, new Robots(registry.metadata(), registry.clock()), config, Metrics.newRegistry())
                .start();
    }

    /** The robot accounts the server's access control authenticates. */
    public Robots robots() {
        return server.access().robots();
    }

    public int port() {
        return server.port();
    }

    public URI uri(String path) {
        return URI.create("http://127.0.0.1:" + server.port() + path);
    }

    public HttpResponse<byte[]> send(String method, String path, byte[] body, String... headers) {
        HttpRequest.Builder b = HttpRequest.newBuilder(uri(path))
                .timeout(Duration.ofSeconds(60))
                .method(
                        method,
                        body == null
                                ? HttpRequest.BodyPublishers.noBody()
                                : HttpRequest.BodyPublishers.ofByteArray(body));
        boolean ownAuthorization = false;
        for (int i = 0; i < headers.length; i += 2) {
            b.header(headers[i], headers[i + 1]);
            ownAuthorization |= headers[i].equalsIgnoreCase("Authorization");
        }
        if (authorization != null && !ownAuthorization) {
            b.header("Authorization", authorization);
        }
        try {
            return client.send(b.build(), HttpResponse.BodyHandlers.ofByteArray());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    public HttpResponse<byte[]> get(String path, String... headers) {
        return send("GET", path, null, headers);
    }

    /** Sends bytes exactly as given (for malformed requests the HTTP client would refuse to send). */
    String raw(String request) throws IOException {
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), server.port())) {
            s.setSoTimeout(10_000);
            OutputStream out = s.getOutputStream();
            out.write(request.getBytes(StandardCharsets.ISO_8859_1));
            out.flush();
            InputStream in = s.getInputStream();
            StringBuilder b = new StringBuilder();
            byte[] buf = new byte[8192];
            int n;
            try {
                while ((n = in.read(buf)) > 0) {
                    b.append(new String(buf, 0, n, StandardCharsets.ISO_8859_1));
                    if (b.indexOf("\r\n\r\n") > 0 && complete(b)) {
                        break;
                    }
                }
            } catch (SocketTimeoutException | SocketException e) {
                // the server closed or stalled: take what arrived
            }
            return b.toString();
        }
    }

    private static boolean complete(StringBuilder b) {
        int head = b.indexOf("\r\n\r\n");
        String headers = b.substring(0, head).toLowerCase();
        int cl = headers.indexOf("content-length:");
        if (cl < 0) {
            return true;
        }
        int end = headers.indexOf("\r\n", cl);
        long len = Long.parseLong(
                headers.substring(cl + 15, end < 0 ? headers.length() : end).trim());
        return b.length() - head - 4 >= len;
    }

    public static Digest sha256(byte[] b) {
        return Digest.compute(DigestAlgorithm.SHA256, b);
    }

    /** Pushes a blob monolithically; returns its digest. */
    public Digest pushBlob(String repo, byte[] content) {
        Digest d = sha256(content);
        HttpResponse<byte[]> r = send(
                "POST",
                "/v2/" + repo + "/blobs/uploads/?digest=" + d,
                content,
                "Content-Type",
                "application/octet-stream");
        if (r.statusCode() != 201) {
            throw new IllegalStateException("push failed: " + r.statusCode() + " " + new String(r.body()));
        }
        return d;
    }

    public static String manifest(Digest config, long configSize, Digest layer, long layerSize, String extra) {
        return """
                {"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",%s
                 "config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"%s","size":%d},
                 "layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"%s","size":%d}]}""".formatted(extra, config, configSize, layer, layerSize);
    }

    /** Pushes config + layer and a manifest under {@code tag}; returns the manifest digest. */
    public Digest pushImage(String repo, String tag, String seed, String extra) {
        byte[] config = ("{\"seed\":\"" + seed + "\"}").getBytes(StandardCharsets.UTF_8);
        byte[] layer = ("layer of " + seed).getBytes(StandardCharsets.UTF_8);
        Digest c = pushBlob(repo, config);
        Digest l = pushBlob(repo, layer);
        byte[] m = manifest(c, config.length, l, layer.length, extra).getBytes(StandardCharsets.UTF_8);
        HttpResponse<byte[]> res = send(
                "PUT",
                "/v2/" + repo + "/manifests/" + tag,
                m,
                "Content-Type",
                "application/vnd.oci.image.manifest.v1+json");
        if (res.statusCode() != 201) {
            throw new IllegalStateException("manifest push failed: " + res.statusCode() + " " + new String(res.body()));
        }
        return sha256(m);
    }

    @Override
    public void close() {
        server.stop(Duration.ofSeconds(1));
        registry.close();
    }
}
