package io.berth.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.net.InetAddress;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.security.crypto.bcrypt.BCrypt;

/**
 * Password guessing over HTTP (htpasswd and token modes): limits per address and per user apply
 * before any password is checked (429 with Retry-After, counted by the bcrypt-check metric), checks
 * at once are bounded, long user names cost nothing, {@code http.rate-limit} applies before
 * credentials are checked, an unknown user costs a check like a known one, and the health endpoint
 * answers while 64 bad logins run at once. Clients from other loopback addresses (127.0.0.2, …) play
 * the legitimate users. Timings and heap are printed, never asserted.
 */
class LoginLimitsTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** Where counts are asserted, no failure is forgiven while the test runs (the default forgives one per 6 s). */
    static final Map<String, String> NO_REFILL = Map.of("auth.login.failure-refill", "1h");

    @TempDir
    static Path dir;
    /** cost-12 hashes, as the review used; made once. */
    static String cost12Bob;

    static String cost12Alice;

    @BeforeAll
    static void hashes() {
        cost12Bob = BCrypt.hashpw("bob-pw", BCrypt.gensalt(12)).replace("$2a$", "$2y$");
        cost12Alice = BCrypt.hashpw("alice-pw", BCrypt.gensalt(12)).replace("$2a$", "$2y$");
    }

    @AfterAll
    static void done() {
        CLIENTS.values().forEach(HttpClient::close);
    }

    private static final Map<String, HttpClient> CLIENTS = new HashMap<>();

    /** A client whose connections come from {@code address} (any of 127.0.0.0/8 on Linux). */
    static synchronized HttpClient from(String address) {
        return CLIENTS.computeIfAbsent(address, a -> {
            try {
                return HttpClient.newBuilder()
                        .version(HttpClient.Version.HTTP_1_1)
                        .localAddress(InetAddress.getByName(a))
                        .connectTimeout(Duration.ofSeconds(10))
                        .build();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
    }

    static HttpResponse<String> send(
            TestRegistry r, String address, String method, String path, String body, String... headers) {
        HttpRequest.Builder b = HttpRequest.newBuilder(r.uri(path))
                .timeout(Duration.ofSeconds(60))
                .method(
                        method,
                        body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        for (int i = 0; i < headers.length; i += 2) {
            b.header(headers[i], headers[i + 1]);
        }
        try {
            return from(address).send(b.build(), HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    static HttpResponse<String> login(TestRegistry r, String address, String user, String password) {
        return send(r, address, "GET", "/v2/", null, "Authorization", TestRegistry.basic(user, password));
    }

    /** The value of {@code name} (with exactly {@code labels}, e.g. {@code reason="busy"}) in /metrics; fails when absent. */
    static double metric(TestRegistry r, String name, String labels) {
        String text = new String(r.get("/metrics").body(), StandardCharsets.UTF_8);
        Matcher m = Pattern.compile("(?m)^" + Pattern.quote(name)
                        + (labels.isEmpty() ? "" : Pattern.quote("{" + labels + "}")) + " (\\S+)$")
                .matcher(text);
        assertTrue(m.find(), "no " + name + "{" + labels + "} in /metrics");
        return Double.parseDouble(m.group(1));
    }

    static double checks(TestRegistry r) {
        return metric(r, "berth_auth_password_checks_total", "");
    }

    /** A registry whose users bob and alice have cost-12 passwords. */
    static TestRegistry registry(String name, Map<String, String> settings) throws IOException {
        return registry(name, settings, true);
    }

    /** {@code costly} false: cost-4 passwords, where only the count of checks matters. */
    static TestRegistry registry(String name, Map<String, String> settings, boolean costly) throws IOException {
        Path users = dir.resolve(name + ".htpasswd");
        Files.writeString(
                users,
                costly
                        ? "bob:" + cost12Bob + "\nalice:" + cost12Alice + "\n"
                        : "bob:" + BCrypt.hashpw("bob-pw", BCrypt.gensalt(4)) + "\nalice:"
                                + BCrypt.hashpw("alice-pw", BCrypt.gensalt(4)) + "\n");
        Map<String, String> all = new HashMap<>(Map.of(
                "auth.type",
                "htpasswd",
                "auth.htpasswd.path",
                users.toString(),
                "auth.token.key-file",
                dir.resolve(name + "-key.pem").toString()));
        all.putAll(settings);
        return new TestRegistry(dir.resolve(name), all);
    }

    static String code(HttpResponse<String> r) {
        try {
            return JSON.readTree(r.body()).get("errors").get(0).get("code").asText();
        } catch (Exception e) {
            return "no OCI error body: " + r.body();
        }
    }

    static long heapUsedMiB() {
        return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed() >> 20;
    }

    @Test
    void guessesAreRefusedBeforeAnyPasswordIsChecked() throws Exception {
        try (TestRegistry r = registry("sequential", NO_REFILL)) {
            // alice, behind the same address (a NAT, a proxy), logged in before the guessing began
            assertEquals(200, login(r, "127.0.0.1", "alice", "alice-pw").statusCode());
            double before = checks(r);
            Map<Integer, Integer> statuses = new TreeMap<>();
            long start = System.nanoTime();
            for (int i = 0; i < 201; i++) {
                HttpResponse<String> res = login(r, "127.0.0.1", "bob", "guess-" + i);
                statuses.merge(res.statusCode(), 1, Integer::sum);
                if (res.statusCode() == 429) {
                    assertEquals("TOOMANYREQUESTS", code(res));
                    long retry = Long.parseLong(
                            res.headers().firstValue("Retry-After").orElseThrow());
                    assertTrue(retry >= 1, "Retry-After " + retry);
                }
            }
            long millis = (System.nanoTime() - start) / 1_000_000;
            assertEquals(Map.of(401, 10, 429, 191), statuses, "auth.login.failures-per-address is 10");
            assertEquals(10, checks(r) - before, "191 guesses were answered without a bcrypt check");
            // guesses from her address do not lock alice out: credentials this address proved pass unchecked
            assertEquals(200, login(r, "127.0.0.1", "alice", "alice-pw").statusCode());
            assertEquals(10, checks(r) - before);
            // another address is not held back, and bob himself still gets in from elsewhere
            long t = System.nanoTime();
            assertEquals(200, login(r, "127.0.0.2", "bob", "bob-pw").statusCode());
            long legit = (System.nanoTime() - t) / 1_000_000;
            assertEquals(200, login(r, "127.0.0.2", "bob", "bob-pw").statusCode());
            assertEquals(11, checks(r) - before, "then remembered for that address");
            System.out.printf(
                    "201 guesses for one user from one address: %d ms, %d bcrypt checks (cost 12); "
                            + "bob's first login from elsewhere meanwhile %d ms; heap used %d MiB%n",
                    millis, (long) (checks(r) - before) - 1, legit, heapUsedMiB());
        }
    }

    @Test
    void guessesAtTheTokenEndpointAreRefusedBeforeAnyCheckToo() throws Exception {
        try (TestRegistry r =
                registry("token-endpoint", Map.of("auth.type", "token", "auth.login.failure-refill", "1h"), false)) {
            double before = checks(r);
            Map<Integer, Integer> statuses = new TreeMap<>();
            for (int i = 0; i < 15; i++) {
                statuses.merge(
                        send(
                                        r,
                                        "127.0.0.1",
                                        "GET",
                                        "/auth/token?service=berth",
                                        null,
                                        "Authorization",
                                        TestRegistry.basic("bob", "guess-" + i))
                                .statusCode(),
                        1,
                        Integer::sum);
                String form = "grant_type=password&service=berth&username=bob&password=guess-" + i;
                statuses.merge(
                        send(
                                        r,
                                        "127.0.0.1",
                                        "POST",
                                        "/auth/token",
                                        form,
                                        "Content-Type",
                                        "application/x-www-form-urlencoded")
                                .statusCode(),
                        1,
                        Integer::sum);
            }
            assertEquals(Map.of(401, 10, 429, 20), statuses);
            assertEquals(10, checks(r) - before);
            assertEquals(
                    200,
                    send(
                                    r,
                                    "127.0.0.3",
                                    "GET",
                                    "/auth/token?service=berth",
                                    null,
                                    "Authorization",
                                    TestRegistry.basic("bob", "bob-pw"))
                            .statusCode());
        }
    }

    @Test
    void aUserNameGuessedFromManyAddressesIsLimitedToo() throws Exception {
        try (TestRegistry r = registry("per-user", NO_REFILL, false)) {
            // alice logs in from her address first: proved credentials keep working for it
            assertEquals(200, login(r, "127.0.0.9", "alice", "alice-pw").statusCode());
            double before = checks(r);
            Map<Integer, Integer> statuses = new TreeMap<>();
            for (int i = 0; i < 40; i++) {
                statuses.merge(
                        login(r, "127.0.1." + (i % 8 + 1), "alice", "guess-" + i)
                                .statusCode(),
                        1,
                        Integer::sum);
            }
            assertEquals(Map.of(401, 20, 429, 20), statuses, "auth.login.failures-per-user is 20");
            assertEquals(20, checks(r) - before);
            HttpResponse<String> fresh = login(r, "127.0.2.1", "alice", "alice-pw");
            assertEquals(429, fresh.statusCode(), "a new address is refused unchecked while the name is guessed at");
            assertEquals(
                    200,
                    login(r, "127.0.0.9", "alice", "alice-pw").statusCode(),
                    "the address that proved the password goes on without a check");
            assertEquals(20, checks(r) - before);
        }
    }

    @Test
    void longUserNamesCostNothingAndAreNotKept() throws Exception {
        try (TestRegistry r = registry("long-names", Map.of("auth.type", "token"), false)) {
            double before = checks(r);
            double tracked = metric(r, "berth_auth_login_tracked", "of=\"user\"");
            for (int i = 0; i < 5; i++) {
                String name = "u" + i + "x".repeat(60 * 1024);
                String form = "grant_type=password&service=berth&username=" + name + "&password=p";
                HttpResponse<String> res = send(
                        r,
                        "127.0.0.4",
                        "POST",
                        "/auth/token",
                        form,
                        "Content-Type",
                        "application/x-www-form-urlencoded");
                assertEquals(401, res.statusCode());
                assertEquals("UNAUTHORIZED", code(res));
            }
            assertEquals(0, checks(r) - before, "no bcrypt check for a name no user can have");
            assertEquals(tracked, metric(r, "berth_auth_login_tracked", "of=\"user\""), "and no 60 KiB name kept");
            // 257 bytes is over the cap; 256 is a name like any other (checked against the dummy hash)
            assertEquals(401, login(r, "127.0.0.5", "é".repeat(128) + "x", "p").statusCode());
            assertEquals(0, checks(r) - before);
            assertEquals(401, login(r, "127.0.0.5", "é".repeat(128), "p").statusCode());
            assertEquals(1, checks(r) - before);
        }
    }

    @Test
    void anUnknownUserCostsACheckOfTheFilesCostLikeAKnownOne() throws Exception {
        try (TestRegistry r = registry("unknown", Map.of())) {
            double before = checks(r);
            long known = 0;
            long unknown = 0;
            for (int i = 0; i < 4; i++) {
                long t = System.nanoTime();
                assertEquals(401, login(r, "127.0.3." + (i + 1), "bob", "wrong").statusCode());
                known += System.nanoTime() - t;
                t = System.nanoTime();
                assertEquals(
                        401, login(r, "127.0.4." + (i + 1), "mallory", "wrong").statusCode());
                unknown += System.nanoTime() - t;
            }
            assertEquals(8, checks(r) - before, "an unknown user is checked against a dummy hash");
            System.out.printf(
                    "cost-12 users: a wrong password of a known user %d ms, an unknown user %d ms "
                            + "(mean of 4; the dummy hash has the file's usual cost, 12)%n",
                    known / 4_000_000, unknown / 4_000_000);
        }
    }

    @Test
    void theRateLimitAppliesBeforeCredentialsAreChecked() throws Exception {
        try (TestRegistry r = registry(
                "rate",
                Map.of(
                        "http.rate-limit",
                        "1",
                        "http.rate-limit-burst",
                        "5",
                        "auth.login.failures-per-address",
                        "1000",
                        "auth.login.failures-per-user",
                        "1000"),
                false)) {
            // a client that logged in keeps its own (user) budget: its requests are not login attempts
            assertEquals(200, login(r, "127.0.0.7", "alice", "alice-pw").statusCode());
            double before = checks(r);
            Map<Integer, Integer> statuses = new TreeMap<>();
            for (int i = 0; i < 20; i++) {
                HttpResponse<String> res = login(r, "127.0.0.6", "bob", "guess-" + i);
                statuses.merge(res.statusCode(), 1, Integer::sum);
                if (res.statusCode() == 429) {
                    assertTrue(res.headers().firstValue("Retry-After").isPresent());
                }
            }
            // the address's burst of 5 (perhaps one more refilled meanwhile), then 429 unchecked
            assertTrue(statuses.getOrDefault(429, 0) >= 14, statuses.toString());
            assertEquals(20, statuses.getOrDefault(401, 0) + statuses.getOrDefault(429, 0), statuses.toString());
            assertEquals(statuses.get(401), (int) (checks(r) - before), "a check per 401, none for a 429");
            for (int i = 0; i < 3; i++) {
                assertEquals(200, login(r, "127.0.0.7", "alice", "alice-pw").statusCode());
            }
        }
    }

    /** 64 bad logins at once for a cost-12 user, from one address, while /healthz and a legitimate client are timed. */
    @Test
    void sixtyFourConcurrentBadLoginsAreBoundedAndHealthAnswers() throws Exception {
        try (TestRegistry r = registry("flood", NO_REFILL)) {
            assertEquals(200, login(r, "127.0.0.8", "alice", "alice-pw").statusCode());
            double before = checks(r);
            Flood flood = flood(r, 64, "127.0.0.1");
            Map<Integer, Integer> statuses = flood.statuses();
            double checked = checks(r) - before;
            System.out.printf(
                    "64 concurrent bad logins (cost 12, default limits): %s, %d bcrypt checks; %s%n",
                    statuses, (long) checked, flood.figures());
            assertTrue(checked <= 10, "at most auth.login.failures-per-address checks: " + checked);
            assertEquals((int) checked, statuses.getOrDefault(401, 0), "a check per 401, none for a 429");
            assertEquals(64, statuses.getOrDefault(401, 0) + statuses.getOrDefault(429, 0), statuses.toString());
            assertTrue(flood.healthAnswers() > 0, "/healthz answered during the flood");
        }
    }

    @Test
    void passwordChecksAtOnceAreBoundedEvenWithinTheAllowance() throws Exception {
        try (TestRegistry r = registry(
                "concurrent",
                Map.of(
                        "auth.login.max-concurrent",
                        "1",
                        "auth.login.failures-per-address",
                        "1000",
                        "auth.login.failures-per-user",
                        "1000"))) {
            assertEquals(200, login(r, "127.0.0.8", "alice", "alice-pw").statusCode());
            double before = checks(r);
            double busyBefore = metric(r, "berth_auth_logins_refused_total", "reason=\"busy\"");
            Flood flood = flood(r, 64, "127.0.0.1");
            Map<Integer, Integer> statuses = flood.statuses();
            double checked = checks(r) - before;
            double busy = metric(r, "berth_auth_logins_refused_total", "reason=\"busy\"") - busyBefore;
            System.out.printf(
                    "64 concurrent bad logins (cost 12, one check at a time): %s, %d bcrypt checks, "
                            + "peak %d at once; %s%n",
                    statuses, (long) checked, r.server.access().loginStats().peakConcurrentChecks(), flood.figures());
            assertEquals(1, r.server.access().loginStats().peakConcurrentChecks());
            assertTrue(busy >= 1, "some waited too long or found the queue full: 429");
            assertEquals(64, statuses.getOrDefault(401, 0) + statuses.getOrDefault(429, 0), statuses.toString());
            assertEquals((long) busy, (long) statuses.getOrDefault(429, 0));
            assertTrue(flood.healthAnswers() > 0, "/healthz answered during the flood");
        }
    }

    /** What a flood of bad logins did, and how /healthz and a legitimate client fared meanwhile. */
    record Flood(
            Map<Integer, Integer> statuses,
            int healthAnswers,
            long healthMaxMillis,
            long healthMeanMillis,
            long legitMaxMillis,
            long heapMaxMiB,
            long millis) {
        String figures() {
            return String.format(
                    "flood %d ms; /healthz answered %d times meanwhile, mean %d ms, worst %d ms; a "
                            + "logged-in client's GET /v2/ worst %d ms; heap used at most %d MiB",
                    millis, healthAnswers, healthMeanMillis, healthMaxMillis, legitMaxMillis, heapMaxMiB);
        }
    }

    static Flood flood(TestRegistry r, int n, String address) throws Exception {
        AtomicBoolean running = new AtomicBoolean(true);
        List<Long> health = new ArrayList<>();
        long[] legitMax = {0};
        long[] heapMax = {heapUsedMiB()};
        Thread watcher = Thread.ofPlatform().start(() -> {
            while (running.get()) {
                long t = System.nanoTime();
                int status = send(r, "127.0.0.20", "GET", "/healthz", null).statusCode();
                long ms = (System.nanoTime() - t) / 1_000_000;
                if (status == 200) {
                    synchronized (health) {
                        health.add(ms);
                    }
                }
                t = System.nanoTime();
                login(r, "127.0.0.8", "alice", "alice-pw");
                legitMax[0] = Math.max(legitMax[0], (System.nanoTime() - t) / 1_000_000);
                heapMax[0] = Math.max(heapMax[0], heapUsedMiB());
                try {
                    Thread.sleep(20);
                } catch (InterruptedException e) {
                    return;
                }
            }
        });
        long start = System.nanoTime();
        Map<Integer, Integer> statuses = new TreeMap<>();
        try (ExecutorService pool = Executors.newFixedThreadPool(n)) {
            List<Future<Integer>> results = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                int k = i;
                // one connection each: every attempt is in flight at once
                results.add(pool.submit(() -> {
                    try (HttpClient own = HttpClient.newBuilder()
                            .version(HttpClient.Version.HTTP_1_1)
                            .localAddress(InetAddress.getByName(address))
                            .build()) {
                        return own.send(
                                        HttpRequest.newBuilder(r.uri("/v2/"))
                                                .header("Authorization", TestRegistry.basic("bob", "guess-" + k))
                                                .timeout(Duration.ofSeconds(60))
                                                .build(),
                                        HttpResponse.BodyHandlers.ofString())
                                .statusCode();
                    }
                }));
            }
            for (Future<Integer> f : results) {
                statuses.merge(f.get(), 1, Integer::sum);
            }
        }
        long millis = (System.nanoTime() - start) / 1_000_000;
        running.set(false);
        watcher.join();
        synchronized (health) {
            long max = health.stream().mapToLong(Long::longValue).max().orElse(-1);
            long mean =
                    (long) health.stream().mapToLong(Long::longValue).average().orElse(-1);
            return new Flood(statuses, health.size(), max, mean, legitMax[0], heapMax[0], millis);
        }
    }
}
