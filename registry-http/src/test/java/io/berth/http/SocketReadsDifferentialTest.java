package io.berth.http;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.berth.core.model.Digest;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.ShrinkingMode;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;

/**
 * The socket-read path ({@code http.socket-reads}) against Helidon's own: the same generated
 * request, as the same bytes in the same writes, to a registry with the key on and one with it off,
 * must give the same answers (status lines and headers, normalised), the same stored bytes and the
 * same connection state. Bodies around the socket-read threshold, Content-Length or chunked (random
 * chunk sizes, hex case, leading zeros, plus signs), write boundaries anywhere, a request pipelined
 * behind the body, {@code Expect: 100-continue} waited for or not, a client closing early, and
 * broken framing (bad hex, signs, extensions, trailers, sizes past 2^31 or 2^32, a bare LF, junk
 * instead of the CRLF after a chunk, Content-Length with Transfer-Encoding, two Content-Lengths).
 *
 * <p>50 tries by default ({@code junit-platform.properties}); {@code -Djqwik.tries.default=1000}
 * for more. A failing seed is printed by jqwik and kept in its database (target/).
 */
class SocketReadsDifferentialTest {
    private static final int MIB = 1 << 20;
    private static final String PIPELINED = "GET /v2/ HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";

    private static Path dir;
    private static TestRegistry socketReads;
    private static TestRegistry helidonReads;
    private static final AtomicInteger REPO = new AtomicInteger();

    @BeforeContainer
    static void start() throws IOException {
        dir = Files.createTempDirectory("berth-differential");
        socketReads =
                new TestRegistry(dir.resolve("on"), Map.of("http.socket-reads", "true", "http.read-timeout", "10s"));
        helidonReads =
                new TestRegistry(dir.resolve("off"), Map.of("http.socket-reads", "false", "http.read-timeout", "10s"));
    }

    @AfterContainer
    static void stop() throws IOException {
        for (TestRegistry r : new TestRegistry[] {socketReads, helidonReads}) {
            if (r != null) {
                r.close();
            }
        }
        if (dir != null) {
            try (Stream<Path> all = Files.walk(dir)) {
                all.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    /** How a chunked body is spoiled, if it is. */
    enum Breakage {
        NONE,
        BAD_HEX,
        MINUS,
        PLUS,
        EXTENSION,
        TOO_LONG,
        PAST_INT,
        BARE_LF,
        NO_CRLF,
        TRAILER,
        LAST_ZEROS,
        CONTENT_LENGTH_TOO,
        TWO_CONTENT_LENGTHS
    }

    /**
     * One generated case.
     *
     * @param length     body bytes
     * @param chunked    chunked transfer coding, else Content-Length
     * @param seed       for the body's bytes, the chunk sizes and their spelling, and the write boundaries
     * @param breakage   how the framing is spoiled (NONE: it is not)
     * @param expect     {@code Expect: 100-continue}: 0 no, 1 sent and waited for, 2 sent and not waited for
     * @param pipelined  a request follows in the write that ends the body
     * @param closeAt    the client closes after this fraction (per mille) of the request; 1000: never
     */
    record Case(
            int length, boolean chunked, long seed, Breakage breakage, int expect, boolean pipelined, int closeAt) {}

    @Provide
    Arbitrary<Case> cases() {
        Arbitrary<Integer> length = Arbitraries.frequencyOf(
                // the socket-read threshold of Content-Length bodies (SocketEntity.MIN_LENGTH) and either side
                net.jqwik.api.Tuple.of(3, Arbitraries.of(MIB - 1, MIB, MIB + 1)),
                net.jqwik.api.Tuple.of(4, Arbitraries.integers().between(MIB / 2, 3 * MIB)),
                net.jqwik.api.Tuple.of(1, Arbitraries.integers().between(0, 5000)));
        Arbitrary<Breakage> breakage = Arbitraries.frequencyOf(
                net.jqwik.api.Tuple.of(12, Arbitraries.just(Breakage.NONE)),
                net.jqwik.api.Tuple.of(8, Arbitraries.of(Breakage.class)));
        return Combinators.combine(
                        length,
                        Arbitraries.of(true, false),
                        Arbitraries.longs(),
                        breakage,
                        Arbitraries.integers().between(0, 2).edgeCases(e -> e.includeOnly(0)),
                        Arbitraries.of(true, false),
                        Arbitraries.frequencyOf(
                                net.jqwik.api.Tuple.of(5, Arbitraries.just(1000)),
                                net.jqwik.api.Tuple.of(1, Arbitraries.integers().between(1, 999))))
                .as(Case::new);
    }

    @Property(shrinking = ShrinkingMode.OFF)
    void theSocketPathAnswersStoresAndLeavesTheConnectionAsHelidonsOwn(@ForAll("cases") Case c) throws Exception {
        int n = REPO.incrementAndGet();
        Outcome viaSocket = run(socketReads, c, n);
        Outcome viaHelidon = run(helidonReads, c, n);
        assertEquals(viaHelidon.toString(), viaSocket.toString(), c.toString());
    }

    /** What a client saw, normalised: every response in order, how the connection ended, what was stored. */
    record Outcome(List<String> responses, String connection, String stored) {
        @Override
        public String toString() {
            return String.join("\n", responses) + "\nconnection: " + connection + "\nstored: " + stored;
        }
    }

    /** The request's bytes (head, body, maybe a pipelined request) and where its head ends. */
    record Wire(byte[] bytes, int headEnd) {}

    static Wire wire(Case c, String location, byte[] body) {
        Random random = new Random(c.seed());
        StringBuilder head = new StringBuilder("PATCH ")
                .append(location)
                .append(" HTTP/1.1\r\nHost: 127.0.0.1\r\n")
                .append("Content-Type: application/octet-stream\r\n");
        if (c.expect() > 0) {
            head.append("Expect: 100-continue\r\n");
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        if (!c.chunked()) {
            head.append("Content-Length: ").append(body.length).append("\r\n");
            if (c.breakage() == Breakage.TWO_CONTENT_LENGTHS) {
                head.append("Content-Length: ").append(body.length + 1).append("\r\n");
            }
            head.append("\r\n");
            out.writeBytes(head.toString().getBytes(StandardCharsets.ISO_8859_1));
            out.writeBytes(body);
        } else {
            head.append("Transfer-Encoding: chunked\r\n");
            if (c.breakage() == Breakage.CONTENT_LENGTH_TOO) {
                head.append("Content-Length: ").append(body.length).append("\r\n");
            }
            head.append("\r\n");
            out.writeBytes(head.toString().getBytes(StandardCharsets.ISO_8859_1));
            List<int[]> chunks = new ArrayList<>(); // offset, size
            for (int at = 0; at < body.length; ) {
                int size = switch (random.nextInt(4)) {
                    case 0 -> 1 + random.nextInt(16);
                    case 1 -> 100 + random.nextInt(5000);
                    case 2 -> 64 * 1024 + random.nextInt(MIB - 64 * 1024);
                    default -> 8 * 1024 + random.nextInt(256 * 1024);
                };
                size = Math.min(size, body.length - at);
                chunks.add(new int[] {at, size});
                at += size;
            }
            int spoiled = chunks.isEmpty() ? -1 : random.nextInt(chunks.size());
            for (int i = 0; i < chunks.size(); i++) {
                int size = chunks.get(i)[1];
                String hex = Integer.toHexString(size);
                hex = random.nextBoolean() ? hex.toUpperCase(Locale.ROOT) : hex;
                hex = "0".repeat(random.nextInt(4) == 0 ? random.nextInt(12) : 0) + hex;
                String line = hex + "\r\n";
                String after = "\r\n";
                if (i == spoiled) {
                    line = switch (c.breakage()) {
                        case BAD_HEX -> "z" + hex + "\r\n";
                        case MINUS -> "-" + hex + "\r\n";
                        case PLUS -> "+" + hex + "\r\n";
                        case EXTENSION -> hex + ";name=value\r\n";
                        case TOO_LONG -> "1" + "0".repeat(16) + "\r\n"; // 2^64: bytes of it never follow
                        case PAST_INT -> "8000000" + Integer.toHexString(random.nextInt(16)) + "\r\n";
                        case BARE_LF -> hex + "\n";
                        default -> line;
                    };
                    if (c.breakage() == Breakage.NO_CRLF) {
                        after = "XY";
                    }
                }
                out.writeBytes(line.getBytes(StandardCharsets.ISO_8859_1));
                out.write(body, chunks.get(i)[0], size);
                out.writeBytes(after.getBytes(StandardCharsets.ISO_8859_1));
            }
            String last = c.breakage() == Breakage.LAST_ZEROS ? "0000\r\n" : "0\r\n";
            out.writeBytes(last.getBytes(StandardCharsets.ISO_8859_1));
            if (c.breakage() == Breakage.TRAILER) {
                out.writeBytes("X-Trailer: yes\r\n".getBytes(StandardCharsets.ISO_8859_1));
            }
            out.writeBytes("\r\n".getBytes(StandardCharsets.ISO_8859_1));
        }
        if (c.pipelined()) {
            out.writeBytes(PIPELINED.getBytes(StandardCharsets.ISO_8859_1));
        }
        return new Wire(out.toByteArray(), head.length());
    }

    /** Offsets at which the request is split into writes: random, some a few bytes apart. */
    static List<Integer> cuts(Case c, int total, int headEnd) {
        Random random = new Random(c.seed() * 31 + 7);
        TreeMap<Integer, Boolean> at = new TreeMap<>();
        if (c.expect() == 1) {
            at.put(headEnd, true); // the head alone, then the body once the 100 came
        }
        int n = random.nextInt(30);
        for (int i = 0; i < n && total > 1; i++) {
            int cut = 1 + random.nextInt(total - 1);
            at.put(cut, true);
            if (random.nextInt(3) == 0) {
                at.put(Math.min(total - 1, cut + 1 + random.nextInt(8)), true);
            }
        }
        at.remove(0);
        at.remove(total);
        List<Integer> cuts = new ArrayList<>(at.keySet());
        cuts.add(total);
        return cuts;
    }

    static Outcome run(TestRegistry r, Case c, int n) throws Exception {
        String repo = "diff/r" + n;
        byte[] body = SendfileTest.random(c.length(), c.seed());
        List<String> responses = new ArrayList<>();
        String connection;
        String location;
        // a variable of its own, not a try-declared resource: the client may hang up mid-request (below)
        WireClient w = new WireClient(r.port());
        try (w) {
            WireClient.Response started = w.exchange("POST", "/v2/" + repo + "/blobs/uploads/", null);
            assertEquals(202, started.status(), started.toString());
            location = started.header("location");
            Wire wire = wire(c, location, body);
            int stopAt =
                    c.closeAt() >= 1000 ? wire.bytes().length : (int) ((long) wire.bytes().length * c.closeAt() / 1000);
            int from = 0;
            boolean answeredEarly = false;
            try {
                for (int cut : cuts(c, wire.bytes().length, wire.headEnd())) {
                    int to = Math.min(cut, stopAt);
                    if (to > from) {
                        w.sendRaw(wire.bytes(), from, to - from);
                        from = to;
                    }
                    if (from >= stopAt) {
                        break;
                    }
                    if (c.expect() == 1 && from == wire.headEnd()) {
                        WireClient.Response interim = w.readOrEnd("PATCH");
                        responses.add(normalised(interim));
                        if (interim == null || interim.status() != 100) {
                            answeredEarly = true; // answered (or closed) without asking for the body
                            break;
                        }
                    }
                }
            } catch (IOException refused) {
                // the server answered and closed while the client was still sending: how far the client
                // got is the kernel's timing, not the server's; what it answered is compared below
            }
            if (stopAt < wire.bytes().length && !answeredEarly) {
                w.close(); // the client goes away mid-request
                connection = "closed by the client";
            } else {
                connection = readAnswers(w, c, responses, answeredEarly);
            }
        }
        awaitIdle(r);
        return new Outcome(responses, connection, stored(r, repo, location, body));
    }

    /** Reads the answers to the PATCH (and the pipelined GET); then probes whether the connection still serves. */
    static String readAnswers(WireClient w, Case c, List<String> responses, boolean answeredEarly) throws IOException {
        int finals = answeredEarly ? 1 : 0;
        int wanted = c.pipelined() ? 2 : 1;
        boolean close = false;
        try {
            while (finals < wanted && !close) {
                WireClient.Response res = w.readOrEnd(finals == 0 ? "PATCH" : "GET");
                if (res == null) {
                    return "closed by the server after " + finals + " answers";
                }
                responses.add(normalised(res));
                if (res.status() >= 200) {
                    finals++;
                    close = "close".equalsIgnoreCase(res.header("connection"));
                }
            }
            if (close) {
                return w.closedWithin(10_000) ? "closed by the server, as its answer said" : "left open after close";
            }
            w.sendRaw(PIPELINED);
            WireClient.Response probe = w.readOrEnd("GET");
            return probe == null ? "closed by the server (the probe was not answered)" : "open: " + normalised(probe);
        } catch (SocketTimeoutException stalled) {
            return "stalled after " + finals + " answers";
        }
    }

    private static final Pattern UPLOAD_ID = Pattern.compile("/uploads/[^/?\\s,\\]]+");

    /** A response's status and headers, without the ones that differ per server or per request; its body. */
    static String normalised(WireClient.Response res) {
        if (res == null) {
            return "(connection ended)";
        }
        TreeMap<String, List<String>> headers = new TreeMap<>(res.headers());
        headers.remove("date");
        headers.remove("x-request-id");
        headers.computeIfPresent("docker-upload-uuid", (k, v) -> List.of("<id>"));
        String text = res.status() + " " + headers + " " + res.text();
        return UPLOAD_ID.matcher(text).replaceAll("/uploads/<id>").replaceAll("/v2/diff/r\\d+/", "/v2/diff/<n>/");
    }

    /** Waits until no upload body is streaming in on {@code r}: a cut request has been wound up. */
    static void awaitIdle(TestRegistry r) throws InterruptedException {
        for (int i = 0; i < 200; i++) {
            String metrics = new String(r.get("/metrics").body(), StandardCharsets.UTF_8);
            Matcher m = Pattern.compile("(?m)^berth_uploads_in_progress(?:\\{[^}]*\\})? (\\S+)$")
                    .matcher(metrics);
            if (m.find() && Double.parseDouble(m.group(1)) == 0) {
                return;
            }
            Thread.sleep(25);
        }
    }

    /** What the session holds (its acknowledged range), and the blob made of it when the body was whole. */
    static String stored(TestRegistry r, String repo, String location, byte[] body) throws IOException {
        try (WireClient w = new WireClient(r.port())) {
            WireClient.Response status = w.exchange("GET", location, null);
            String range = status.status() + " range " + status.header("range");
            if (status.status() != 204 || !("0-" + (body.length - 1)).equals(status.header("range"))) {
                return range;
            }
            Digest digest = TestRegistry.sha256(body);
            WireClient.Response done = w.exchange(
                    "PUT",
                    status.header("location") + (status.header("location").contains("?") ? "&" : "?") + "digest="
                            + digest,
                    null);
            WireClient.Response blob = w.exchange("GET", "/v2/" + repo + "/blobs/" + digest, null);
            return range + ", completed " + done.status() + ", blob " + blob.status() + " "
                    + HexFormat.of()
                            .formatHex(MessageDigest.getInstance("SHA-256").digest(blob.body()))
                            .substring(0, 16);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
