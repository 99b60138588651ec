package io.berth.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.berth.core.logging.AccessRecord;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What a connection may hold before it makes a request (ConnectionGuard): a request's line and
 * headers within http.header-timeout, a kept-alive connection idle at most http.idle-timeout,
 * connections per client address and in all capped with an answer and a close at once, each counted
 * in /metrics. Client addresses are told apart by binding to different loopback addresses.
 */
class ConnectionLimitsTest {
    static final ObjectMapper JSON = new ObjectMapper();
    /** Far above every timeout the tests set: a connection still open then is never closed. */
    static final long EVENTUALLY = 30_000;

    @TempDir
    Path dir;

    @Test
    void aRequestWhoseHeadersStopHalfWayIsClosedAtTheHeaderTimeout() throws Exception {
        try (TestRegistry r = new TestRegistry(dir, Map.of("http.header-timeout", "1s", "http.idle-timeout", "1h"))) {
            try (WireClient halfHeader = new WireClient(r.port(), "127.0.0.2");
                    WireClient silent = new WireClient(r.port(), "127.0.0.3");
                    WireClient secondRequest = new WireClient(r.port(), "127.0.0.4")) {
                halfHeader.sendRaw("GET /v2/ HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Half: ");
                // a kept-alive connection's next request has the same time for its headers, from its first byte
                assertEquals(200, secondRequest.exchange("GET", "/v2/", null).status());
                secondRequest.sendRaw("GET /v2/ HTTP/1.1\r\nHost: 127.0.0.1\r\n");
                assertTrue(halfHeader.closedWithin(EVENTUALLY), "half a header is closed");
                assertTrue(silent.closedWithin(EVENTUALLY), "a connection that never sends a byte is closed");
                assertTrue(secondRequest.closedWithin(EVENTUALLY), "a second request's half header is closed");
            }
            String metrics = UploadLimitsTest.metricsWith(r, "timeout=\"header\"} 3.0");
            assertTrue(metrics.contains("berth_http_connections_timed_out_total{timeout=\"header\"} 3.0"), metrics);
        }
    }

    /**
     * docker and skopeo try TLS first on a registry configured as insecure: a ClientHello on the plain
     * port. It is answered as before (an HTTP 400, which the client reports as "server gave HTTP
     * response to HTTPS client" and then falls back to plain HTTP) but logged with the client's
     * address as a TLS handshake and counted as one, not as a rejected request; a malformed plain
     * request still is one, also with its client's address.
     */
    @Test
    void aTlsHandshakeOnThePlainPortIsLoggedWithItsClientAndCountedAsSuch() throws Exception {
        List<AccessRecord> access = Collections.synchronizedList(new ArrayList<>());
        Handler capture = new Handler() {
            @Override
            public void publish(LogRecord record) {
                if (record.getParameters() != null
                        && record.getParameters().length > 0
                        && record.getParameters()[0] instanceof AccessRecord a) {
                    access.add(a);
                }
            }

            @Override
            public void flush() {}

            @Override
            public void close() {}
        };
        Logger log = Logger.getLogger("berth.access");
        try (TestRegistry r = new TestRegistry(dir, Map.of("http.access-log", "true"))) {
            log.addHandler(capture);
            try (Socket plain = new Socket()) {
                plain.bind(new InetSocketAddress("127.0.0.2", 0));
                plain.connect(new InetSocketAddress("127.0.0.1", r.port()));
                plain.setSoTimeout(10_000);
                SSLSocket tls = (SSLSocket)
                        SSLContext.getDefault().getSocketFactory().createSocket(plain, "127.0.0.1", r.port(), true);
                Exception refused = Assertions.assertThrows(Exception.class, tls::startHandshake);
                assertTrue(refused instanceof IOException, refused.toString());
            }
            try (WireClient garbage = new WireClient(r.port(), "127.0.0.3")) {
                garbage.sendRaw("NOT AN HTTP REQUEST\r\n\r\n");
                garbage.closedWithin(EVENTUALLY);
            }
            long deadline = System.currentTimeMillis() + EVENTUALLY;
            while (access.stream().noneMatch(a -> a.client().equals("127.0.0.3"))
                    && System.currentTimeMillis() < deadline) {
                Thread.sleep(20);
            }
            String metrics = UploadLimitsTest.metricsWith(r, "berth_http_tls_on_plain_port_total 1.0");
            assertTrue(metrics.contains("berth_http_tls_on_plain_port_total 1.0"), metrics);
            long rejected400 = metrics.lines()
                    .filter(l -> l.startsWith("berth_http_requests_total{")
                            && l.contains("route=\"rejected\"")
                            && l.contains("status=\"400\""))
                    .count();
            assertEquals(1, rejected400, "only the malformed request is a rejected 400: " + metrics);
        } finally {
            log.removeHandler(capture);
        }
        List<AccessRecord> probes = access.stream()
                .filter(a -> "tls-handshake-on-plain-port".equals(a.note()))
                .toList();
        assertEquals(1, probes.size(), access.toString());
        assertEquals("127.0.0.2", probes.getFirst().client(), "the client's address, not -");
        AccessRecord malformed = access.stream()
                .filter(a -> "rejected-before-routing".equals(a.note()))
                .findFirst()
                .orElseThrow();
        assertEquals("127.0.0.3", malformed.client(), access.toString());
    }

    @Test
    void anIdleKeptAliveConnectionIsClosedAtTheIdleTimeout() throws Exception {
        try (TestRegistry r = new TestRegistry(dir, Map.of("http.header-timeout", "1h", "http.idle-timeout", "1s"))) {
            try (WireClient c = new WireClient(r.port(), "127.0.0.2")) {
                assertEquals(200, c.exchange("GET", "/v2/", null).status());
                assertTrue(c.closedWithin(EVENTUALLY), "idle connection closed");
            }
            String metrics = UploadLimitsTest.metricsWith(r, "timeout=\"idle\"} 1.0");
            assertTrue(metrics.contains("berth_http_connections_timed_out_total{timeout=\"idle\"} 1.0"), metrics);
        }
    }

    @Test
    void aBodyThatTakesLongerThanTheHeaderTimeoutIsNotCut() throws Exception {
        try (TestRegistry r = new TestRegistry(dir, Map.of("http.header-timeout", "1s", "http.idle-timeout", "1s"))) {
            String location = UploadLimitsTest.location(r, "slow/body");
            try (WireClient c = new WireClient(r.port(), "127.0.0.2")) {
                // the headers come at once, the body over three seconds: the request is being served
                c.startBody("PATCH", location, 3, new byte[] {1});
                Thread.sleep(1500);
                c.sendRaw("\u0002");
                Thread.sleep(1500);
                c.sendRaw("\u0003");
                WireClient.Response res = c.read("PATCH");
                assertEquals(202, res.status(), res.toString());
                assertEquals("0-2", res.header("Range"));
            }
        }
    }

    @Test
    void connectionsBeyondThePerClientLimitAreRefusedAtOnce() throws Exception {
        try (TestRegistry r =
                new TestRegistry(dir, Map.of("http.max-connections-per-client", "3", "http.header-timeout", "1h"))) {
            List<WireClient> held = new ArrayList<>();
            try {
                for (int i = 0; i < 3; i++) {
                    held.add(servedConnection(r, "127.0.0.2"));
                }
                try (WireClient fourth = new WireClient(r.port(), "127.0.0.2")) {
                    WireClient.Response res = fourth.read("GET");
                    assertEquals(429, res.status(), res.toString());
                    assertTrue(res.header("Retry-After") != null, res.toString());
                    JsonNode error = JSON.readTree(res.body()).get("errors").get(0);
                    assertEquals("TOOMANYREQUESTS", error.get("code").asText());
                    assertTrue(
                            error.get("message").asText().contains("http.max-connections-per-client"), res.toString());
                    fourth.assertClosedByServer();
                }
                try (WireClient other = new WireClient(r.port(), "127.0.0.3")) {
                    assertEquals(200, other.exchange("GET", "/v2/", null).status(), "another address is served");
                }
            } finally {
                for (WireClient c : held) {
                    c.close();
                }
            }
            // once the server has seen them close, the address is served again
            servedConnection(r, "127.0.0.2").close();
            // one, or more when a retry above came before the server had seen the others close
            assertTrue(refused(r, "per-client") >= 1);
        }
    }

    @Test
    void connectionsBeyondTheTotalLimitAreRefusedAtOnce() throws Exception {
        try (TestRegistry r = new TestRegistry(dir, Map.of("http.max-connections", "3", "http.header-timeout", "1h"))) {
            List<WireClient> held = new ArrayList<>();
            try {
                for (int i = 2; i <= 4; i++) {
                    held.add(servedConnection(r, "127.0.0." + i));
                }
                try (WireClient fourth = new WireClient(r.port(), "127.0.0.5")) {
                    WireClient.Response res = fourth.read("GET");
                    assertEquals(503, res.status(), res.toString());
                    assertTrue(res.header("Retry-After") != null, res.toString());
                    JsonNode error = JSON.readTree(res.body()).get("errors").get(0);
                    assertEquals("UNAVAILABLE", error.get("code").asText());
                    assertTrue(error.get("message").asText().contains("http.max-connections"), res.toString());
                    fourth.assertClosedByServer();
                }
            } finally {
                for (WireClient c : held) {
                    c.close();
                }
            }
            servedConnection(r, "127.0.0.5").close();
            assertTrue(refused(r, "total") >= 1);
            assertFalse(new String(r.get("/metrics").body()).contains("status=\"500\""));
        }
    }

    /** How many connections /metrics counts as refused at {@code limit}. */
    static double refused(TestRegistry r, String limit) {
        String prefix = "berth_http_connections_refused_total{limit=\"" + limit + "\"} ";
        String metrics = new String(r.get("/metrics").body());
        return metrics.lines()
                .filter(l -> l.startsWith(prefix))
                .mapToDouble(l -> Double.parseDouble(l.substring(prefix.length())))
                .findFirst()
                .orElseThrow(() -> new AssertionError(metrics));
    }

    /**
     * A kept-alive connection from {@code address} that has been answered once (so the server holds
     * it), trying again while the server still counts connections that were just closed.
     */
    static WireClient servedConnection(TestRegistry r, String address) throws Exception {
        long deadline = System.currentTimeMillis() + EVENTUALLY;
        while (true) {
            WireClient c = new WireClient(r.port(), address);
            String answer;
            try {
                WireClient.Response res = c.exchange("GET", "/v2/", null);
                if (res.status() == 200) {
                    return c;
                }
                answer = res.toString();
            } catch (IOException refused) {
                answer = refused.toString(); // answered and closed before our request was read
            }
            c.close();
            if (System.currentTimeMillis() > deadline) {
                throw new AssertionError("no connection from " + address + " served: " + answer);
            }
            Thread.sleep(20);
        }
    }
}
