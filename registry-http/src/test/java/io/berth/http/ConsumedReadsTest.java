package io.berth.http;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.helidon.common.buffers.BufferData;
import io.helidon.common.buffers.DataReader;
import io.helidon.webserver.WebServer;
import java.io.InputStream;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * {@link ConsumedReads} reaches Helidon's internals in the version we ship (a Helidon upgrade that
 * changes them fails here, not silently in production memory figures), clears exactly the links of
 * nodes the reader has moved past, and leaves the bytes read unchanged.
 */
class ConsumedReadsTest {
    private static final VarHandle HEAD;
    private static final VarHandle NEXT;

    static {
        try {
            Class<?> node = Class.forName("io.helidon.common.buffers.DataReader$Node");
            HEAD = MethodHandles.privateLookupIn(DataReader.class, MethodHandles.lookup())
                    .findVarHandle(DataReader.class, "head", node);
            NEXT = MethodHandles.privateLookupIn(node, MethodHandles.lookup()).findVarHandle(node, "next", node);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    @Test
    void helidonsInternalsAreReachable() {
        assertTrue(ConsumedReads.available(), "Helidon's DataReader internals changed: see ConsumedReads");
    }

    @Test
    void nodesTheReaderMovedPastAreUnlinkedAndTheBytesAreUnchanged() {
        List<byte[]> pieces = new ArrayList<>();
        for (int i = 0; i < 50; i++) {
            byte[] b = new byte[1000 + i];
            java.util.Arrays.fill(b, (byte) i);
            pieces.add(b);
        }
        AtomicInteger next = new AtomicInteger();
        DataReader reader = DataReader.create(() -> next.get() < pieces.size() ? pieces.get(next.getAndIncrement()) : null);
        ConsumedReads consumed = ConsumedReads.of(reader);
        assertTrue(consumed.active());
        List<Object> heads = new ArrayList<>();
        java.io.ByteArrayOutputStream read = new java.io.ByteArrayOutputStream();
        java.io.ByteArrayOutputStream expected = new java.io.ByteArrayOutputStream();
        pieces.forEach(expected::writeBytes);
        while (read.size() < expected.size()) {
            // uneven reads: some within a node, some across several
            int want = Math.min(expected.size() - read.size(), 700 + (read.size() % 2300));
            BufferData data = reader.readBuffer(want);
            byte[] b = new byte[data.available()];
            data.read(b);
            read.writeBytes(b);
            heads.add(HEAD.get(reader));
            consumed.release();
        }
        assertArrayEquals(expected.toByteArray(), read.toByteArray());
        Object head = HEAD.get(reader);
        for (Object h : heads) {
            if (h != head) {
                assertTrue(NEXT.get(h) == null, "a node the reader moved past still links to the next one");
            }
        }
        assertSame(head, heads.getLast());
    }

    @Test
    void aRealRequestBodyIsReadThroughItAndArrivesWhole() throws Exception {
        AtomicReference<String> seen = new AtomicReference<>();
        WebServer server = WebServer.builder().host("127.0.0.1").port(0)
                .routing(r -> r.post("/body", (req, res) -> {
                    ConsumedReads consumed = ConsumedReads.of(req);
                    MessageDigest md = MessageDigest.getInstance("SHA-256");
                    long total = 0;
                    try (InputStream in = req.content().inputStream()) {
                        byte[] buf = new byte[100_000];
                        int n;
                        while ((n = in.read(buf)) >= 0) {
                            md.update(buf, 0, n);
                            total += n;
                            consumed.release();
                        }
                    }
                    seen.set(consumed.active() + " " + total + " " + HexFormat.of().formatHex(md.digest()));
                    res.send("ok");
                })).build().start();
        try {
            byte[] body = new byte[20 << 20];
            new java.util.Random(7).nextBytes(body);
            for (int round = 0; round < 2; round++) { // the second on the same keep-alive connection
                HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                        URI.create("http://127.0.0.1:" + server.port() + "/body"))
                        .POST(HttpRequest.BodyPublishers.ofByteArray(body)).build(), HttpResponse.BodyHandlers.ofString());
                assertEquals(200, r.statusCode());
                assertEquals("true " + body.length + " "
                        + HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(body)), seen.get());
            }
        } finally {
            server.stop();
        }
    }
}
