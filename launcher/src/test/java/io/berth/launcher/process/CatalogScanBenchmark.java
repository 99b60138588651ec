package io.berth.launcher.process;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.berth.core.metadata.sqlite.SqliteMetadataStore;
import io.berth.core.model.RepositoryName;
import io.berth.http.TestRegistry;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.security.crypto.bcrypt.BCrypt;

/**
 * Figures for the catalog attack of issue 22 (never asserted): {@code berth serve} with the default
 * JVM options, the token flow and 20 000 repositories of which anonymous callers may pull one; eight
 * anonymous clients page through {@code _catalog?n=1} as fast as they can while a legitimate client
 * reads a tag list. Prints the legitimate client's latency before and during the attack, the
 * scanners' request rate, and the server's resident memory and heap during the attack. Run with
 * {@code bin/test -pl launcher -Dgroups=benchmark -Dberth.test.excluded-groups= -Dit.test=CatalogScanBenchmark
 * -Dtest=none -Dsurefire.failIfNoSpecifiedTests=false}.
 */
@Tag("benchmark")
class CatalogScanBenchmark {
    static final int REPOSITORIES = Integer.getInteger("berth.bench.repositories", 20_000);
    static final int SCANNERS = Integer.getInteger("berth.bench.scanners", 8);
    static final long ATTACK_MILLIS = Long.getLong("berth.bench.attack-millis", 20_000);
    static final ObjectMapper JSON = new ObjectMapper();
    static final Pattern NEXT = Pattern.compile("<([^>]+)>; rel=\"next\"");
    static final List<String> DEFAULT_JVM = List.of(
            "-Xms32m",
            "-Xmx160m",
            "-XX:NewSize=16m",
            "-XX:MaxNewSize=48m",
            "-XX:SurvivorRatio=4",
            "-XX:+UseSerialGC",
            "-XX:MaxDirectMemorySize=128m");

    @TempDir
    Path dir;

    @Test
    void legitimateLatencyAndServerMemoryWhileAnonymousClientsScanTheCatalog() throws Exception {
        Path work = Files.createDirectories(dir.resolve("srv"));
        Files.createDirectories(work.resolve("data"));
        try (SqliteMetadataStore metadata = new SqliteMetadataStore(work.resolve("data/berth.db"))) {
            metadata.inTransaction(tx -> {
                for (int i = 0; i < REPOSITORIES; i++) {
                    tx.repositories().ensure(RepositoryName.of(String.format("team-%02d/app-%05d", i % 50, i)));
                }
                return null;
            });
        }
        Path users = dir.resolve("users");
        Files.writeString(
                users, "alice:" + BCrypt.hashpw("pw", BCrypt.gensalt(4)).replace("$2a$", "$2y$") + "\n");
        Path policy = dir.resolve("policy.yaml");
        Files.writeString(policy, """
                rules:
                  - repositories: ["public/**"]
                    subjects: [anonymous, authenticated]
                    actions: [pull]
                  - repositories: ["**"]
                    subjects: [alice]
                    actions: [pull, push]
                """);
        HttpClient http =
                HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        try (BerthProcess b = BerthProcess.start(
                work,
                DEFAULT_JVM,
                Map.of(
                        "BERTH_AUTH_TYPE",
                        "token",
                        "BERTH_AUTH_HTPASSWD_PATH",
                        users.toString(),
                        "BERTH_AUTH_POLICY",
                        policy.toString(),
                        "BERTH_HTTP_ACCESS_LOG",
                        "false"))) {
            String base = b.base();
            String alice = token(http, base, "repository:public/app:pull,push", "alice", "pw");
            pushImage(http, base, "Bearer " + alice);
            String anonymous = token(http, base, "registry:catalog:*", null, null);
            String legit = token(http, base, "repository:public/app:pull", null, null);
            // warm-up, then the baseline
            latencies(http, base, legit, 2_000);
            List<Long> before = latencies(http, base, legit, 5_000);
            AtomicBoolean stop = new AtomicBoolean();
            AtomicLong scans = new AtomicLong();
            AtomicLong pages = new AtomicLong();
            List<Thread> scanners = new ArrayList<>();
            for (int i = 0; i < SCANNERS; i++) {
                scanners.add(Thread.ofPlatform().start(() -> {
                    HttpClient own = HttpClient.newBuilder()
                            .version(HttpClient.Version.HTTP_1_1)
                            .build();
                    while (!stop.get()) {
                        String path = "/v2/_catalog?n=1";
                        while (path != null && !stop.get()) {
                            try {
                                HttpResponse<String> res = own.send(
                                        HttpRequest.newBuilder(URI.create(base + path))
                                                .header("Authorization", "Bearer " + anonymous)
                                                .build(),
                                        HttpResponse.BodyHandlers.ofString());
                                pages.incrementAndGet();
                                path = res.headers()
                                        .firstValue("Link")
                                        .map(l -> {
                                            Matcher m = NEXT.matcher(l);
                                            return m.matches() ? m.group(1) : null;
                                        })
                                        .orElse(null);
                            } catch (Exception e) {
                                path = null;
                            }
                        }
                        scans.incrementAndGet();
                    }
                }));
            }
            Thread.sleep(2_000);
            long rssMax = 0;
            long heapMax = 0;
            List<Long> during = Collections.synchronizedList(new ArrayList<>());
            long end = System.currentTimeMillis() + ATTACK_MILLIS;
            long pagesAtStart = pages.get();
            long startedAt = System.nanoTime();
            while (System.currentTimeMillis() < end) {
                during.addAll(latencies(http, base, legit, 1_000));
                rssMax = Math.max(rssMax, rss(b.process.process().pid()));
                heapMax = Math.max(heapMax, heap(http, base));
            }
            double seconds = (System.nanoTime() - startedAt) / 1e9;
            long scanned = pages.get() - pagesAtStart;
            stop.set(true);
            for (Thread t : scanners) {
                t.join(60_000);
            }
            System.out.printf(
                    "catalog attack: %d repositories, %d anonymous scanners (n=1, following Links)%n",
                    REPOSITORIES, SCANNERS);
            System.out.printf("  legitimate tags/list before: %s%n", percentiles(before));
            System.out.printf("  legitimate tags/list during: %s%n", percentiles(during));
            System.out.printf(
                    "  scanners: %.0f catalog pages/s, %d full scans; server RSS max %d MiB, heap used max %d MiB%n",
                    scanned / seconds, scans.get(), rssMax >> 20, heapMax >> 20);
        }
    }

    static String token(HttpClient http, String base, String scope, String user, String password) throws Exception {
        HttpRequest.Builder r = HttpRequest.newBuilder(URI.create(base + "/auth/token?service=berth&scope=" + scope));
        if (user != null) {
            r.header("Authorization", TestRegistry.basic(user, password));
        }
        HttpResponse<String> res = http.send(r.build(), HttpResponse.BodyHandlers.ofString());
        return JSON.readTree(res.body()).get("token").asText();
    }

    static void pushImage(HttpClient http, String base, String authorization) throws Exception {
        byte[] blob = "{}".getBytes();
        String digest = TestRegistry.sha256(blob).toString();
        http.send(
                HttpRequest.newBuilder(URI.create(base + "/v2/public/app/blobs/uploads/?digest=" + digest))
                        .header("Authorization", authorization)
                        .POST(HttpRequest.BodyPublishers.ofByteArray(blob))
                        .build(),
                HttpResponse.BodyHandlers.discarding());
        String manifest = "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
                + "\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"digest\":\"" + digest
                + "\",\"size\":2},\"layers\":[]}";
        HttpResponse<String> put = http.send(
                HttpRequest.newBuilder(URI.create(base + "/v2/public/app/manifests/1"))
                        .header("Authorization", authorization)
                        .header("Content-Type", "application/vnd.oci.image.manifest.v1+json")
                        .PUT(HttpRequest.BodyPublishers.ofString(manifest))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
        if (put.statusCode() != 201) {
            throw new IllegalStateException(put.statusCode() + " " + put.body());
        }
    }

    static List<Long> latencies(HttpClient http, String base, String token, long millis) throws Exception {
        List<Long> out = new ArrayList<>();
        long end = System.currentTimeMillis() + millis;
        while (System.currentTimeMillis() < end) {
            long t = System.nanoTime();
            HttpResponse<String> res = http.send(
                    HttpRequest.newBuilder(URI.create(base + "/v2/public/app/tags/list"))
                            .header("Authorization", "Bearer " + token)
                            .timeout(Duration.ofSeconds(30))
                            .build(),
                    HttpResponse.BodyHandlers.ofString());
            out.add(System.nanoTime() - t);
            if (res.statusCode() != 200) {
                throw new IllegalStateException(res.statusCode() + " " + res.body());
            }
            Thread.sleep(20);
        }
        return out;
    }

    static long rss(long pid) throws Exception {
        for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
            if (line.startsWith("VmRSS:")) {
                return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
            }
        }
        return 0;
    }

    static long heap(HttpClient http, String base) throws Exception {
        String metrics = http.send(
                        HttpRequest.newBuilder(URI.create(base + "/metrics")).build(),
                        HttpResponse.BodyHandlers.ofString())
                .body();
        double sum = 0;
        for (String line : metrics.lines().toList()) {
            if (line.startsWith("jvm_memory_used_bytes{") && line.contains("area=\"heap\"")) {
                sum += Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
            }
        }
        return (long) sum;
    }

    static String percentiles(List<Long> nanos) {
        long[] s = nanos.stream().mapToLong(Long::longValue).sorted().toArray();
        return String.format(
                "p50 %.1f ms, p99 %.1f ms, max %.1f ms over %d requests",
                s[s.length / 2] / 1e6,
                s[(int) Math.min(s.length - 1, s.length * 0.99)] / 1e6,
                s[s.length - 1] / 1e6,
                s.length);
    }
}
