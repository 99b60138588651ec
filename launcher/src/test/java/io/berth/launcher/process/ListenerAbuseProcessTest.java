package io.berth.launcher.process;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.berth.testsupport.TestServices;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The HTTP listener against one unauthenticated client, as the review broke it, with the JVM
 * options {@code bin/berth} ships (a 160 MiB heap): connections that send half a request header and
 * then nothing used to stay open for good with about 22 KiB each, until some 6,400 of them took the
 * heap and Helidon's accept loop ended — the port refused everyone while the process ran on. And a
 * listener that stops accepting (here: the process runs out of file descriptors) must end the
 * process, so that a supervisor starts it again.
 */
@Tag("process")
class ListenerAbuseProcessTest {
    static final byte[] HALF_HEADER =
            "GET /v2/ HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Half: ".getBytes(StandardCharsets.US_ASCII);

    @TempDir
    Path dir;

    @Test
    void tenThousandHalfHeadersFromOneAddressLeaveTheListenerServingOthers() throws Exception {
        try (BerthProcess b =
                BerthProcess.start(dir, BerthProcess.defaultJvmOptions(), Map.of("BERTH_HTTP_ACCESS_LOG", "false"))) {
            HonestClient honest = new HonestClient(b.base(), "127.0.0.1");
            for (int i = 0; i < 3; i++) {
                honest.pushAndPull("quiet/app" + i, 256 << 10, 10 + i);
            }
            System.out.println("no attack: honest client " + honest.latencies() + ", resident "
                    + b.residentBytes() / 1_000_000 + " MB");
            honest.clear();
            List<Socket> attack = new ArrayList<>();
            AtomicInteger unconnected = new AtomicInteger();
            Thread attacker = Thread.ofPlatform().name("attacker").start(() -> {
                for (int i = 0; i < 10_000; i++) {
                    Socket s = new Socket();
                    try {
                        s.bind(new InetSocketAddress(InetAddress.getByName("127.0.0.2"), 0));
                        s.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), b.httpPort), 10_000);
                        s.getOutputStream().write(HALF_HEADER);
                    } catch (IOException e) {
                        // refused at once: the server answered and closed before the half header went out
                        if (!s.isConnected()) {
                            unconnected.incrementAndGet();
                        }
                    }
                    synchronized (attack) {
                        attack.add(s);
                    }
                }
            });
            long rounds = 0;
            try (HonestClient.MemorySampler memory = new HonestClient.MemorySampler(b, honest)) {
                // another address pushes and pulls all the while
                while (attacker.isAlive() || rounds < 3) {
                    honest.pushAndPull("honest/app" + rounds, 256 << 10, ++rounds);
                }
                attacker.join();
                System.out.printf(
                        "10,000 half headers from 127.0.0.2: honest client %s; %s%n",
                        honest.latencies(), memory.peaks());
            }
            assertEquals(0, unconnected.get(), "every attacking connection was accepted (then refused or held)");
            // the ones over the per-client limit were answered and closed at once, the held ones close at the
            // header timeout (20 s): every one ends without the client closing it
            long deadline = System.currentTimeMillis() + 120_000;
            int refused = 0;
            for (Socket s : attack) {
                String answer = closedByServer(s, deadline);
                if (answer.startsWith("HTTP/1.1 429")) {
                    refused++;
                }
                s.close();
            }
            System.out.printf(
                    "refused at once with 429: %d, held until the header timeout: %d%n",
                    refused, attack.size() - refused);
            assertTrue(refused >= 10_000 - 256, "refused beyond http.max-connections-per-client: " + refused);
            // afterwards the listener accepts both addresses
            try (Socket s =
                    new Socket(InetAddress.getLoopbackAddress(), b.httpPort, InetAddress.getByName("127.0.0.2"), 0)) {
                s.getOutputStream()
                        .write("GET /v2/ HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
                                .getBytes(StandardCharsets.US_ASCII));
                assertTrue(new String(s.getInputStream().readAllBytes(), StandardCharsets.US_ASCII)
                        .startsWith("HTTP/1.1 200"));
            }
            honest.pushAndPull("after/app", 256 << 10, 1_000);
            assertEquals(200, honest.get("/readyz").status());
            String metrics = honest.get("/metrics").text();
            assertTrue(metrics.contains("berth_http_connections_refused_total{limit=\"per-client\"}"), metrics);
            String out = b.output();
            assertFalse(out.contains("OutOfMemoryError"), out);
            assertFalse(out.contains("terminating now"), out);
            assertEquals(0, b.terminate());
        }
    }

    /**
     * Reads {@code s} until the server closes it (by {@code deadline}); returns the first line the
     * server sent, empty when none.
     */
    static String closedByServer(Socket s, long deadline) throws IOException {
        StringBuilder first = new StringBuilder();
        try {
            InputStream in = s.getInputStream();
            int c;
            while (true) {
                s.setSoTimeout((int) Math.max(1, deadline - System.currentTimeMillis()));
                c = in.read();
                if (c < 0) {
                    return first.toString();
                }
                if (first.length() < 12) {
                    first.append((char) c);
                }
            }
        } catch (SocketTimeoutException e) {
            throw new AssertionError("a connection the server never closed (sent: '" + first + "')");
        } catch (IOException reset) {
            return first.toString(); // closed with a reset: also closed by the server
        }
    }

    @Test
    void aListenerThatStopsAcceptingEndsTheProcessWithAnError() throws Exception {
        Path prlimit = Path.of("/usr/bin/prlimit");
        TestServices.require(
                Files.isExecutable(prlimit), "prlimit (util-linux, to lower a running process's file " + "limit)");
        BerthProcess b = BerthProcess.start(dir, BerthProcess.defaultJvmOptions(), Map.of());
        try {
            HonestClient honest = new HonestClient(b.base(), "127.0.0.1");
            honest.pushAndPull("before/app", 1024, 0); // everything a request needs is set up
            assertEquals(200, honest.get("/readyz").status());
            // the process may open only a few more files: the next connections take the last ones, and
            // accepting one more fails — Helidon's accept loop then ends for good
            long open;
            try (var fds = Files.list(Path.of("/proc", Long.toString(b.pid()), "fd"))) {
                open = fds.count();
            }
            Process limit = new ProcessBuilder(
                            prlimit.toString(), "--pid", Long.toString(b.pid()), "--nofile=" + (open + 12))
                    .redirectErrorStream(true)
                    .start();
            assertEquals(0, limit.waitFor(), new String(limit.getInputStream().readAllBytes()));
            List<Socket> held = new ArrayList<>();
            for (int i = 0; i < 40; i++) {
                try {
                    Socket s = new Socket(
                            InetAddress.getLoopbackAddress(), b.httpPort, InetAddress.getByName("127.0.0.2"), 0);
                    s.getOutputStream().write(HALF_HEADER);
                    held.add(s);
                } catch (IOException refused) {
                    // the listener is gone already
                }
            }
            for (Socket s : held) {
                s.close(); // the server's descriptors come free again, the listener stays gone
            }
            assertTrue(b.process.process().waitFor(120, TimeUnit.SECONDS), "the process ends:\n" + b.output());
            int exit = b.process.process().exitValue();
            String out = b.output();
            System.out.println("exit code " + exit + "; "
                    + out.lines()
                            .filter(l -> l.contains("stopped accepting"))
                            .findFirst()
                            .orElse(""));
            assertNotEquals(0, exit, out);
            assertTrue(out.contains("stopped accepting connections"), out);
        } finally {
            b.close();
        }
    }
}
