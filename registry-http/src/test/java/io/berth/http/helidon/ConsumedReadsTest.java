package io.berth.http.helidon;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.helidon.common.buffers.BufferData;
import io.helidon.common.buffers.DataReader;
import io.helidon.webserver.ConnectionContext;
import io.helidon.webserver.WebServer;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
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

    private static final VarHandle CONTEXT;

    static {
        try {
            Class<?> request = Class.forName("io.helidon.webserver.http1.Http1ServerRequest");
            CONTEXT = MethodHandles.privateLookupIn(request, MethodHandles.lookup())
                    .findVarHandle(request, "ctx", ConnectionContext.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private static DataReader dataReader(Object req) {
        return ((ConnectionContext) CONTEXT.get(req)).dataReader();
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
            Arrays.fill(b, (byte) i);
            pieces.add(b);
        }
        AtomicInteger next = new AtomicInteger();
        DataReader reader =
                DataReader.create(() -> next.get() < pieces.size() ? pieces.get(next.getAndIncrement()) : null);
        List<Object> heads = new ArrayList<>();
        ByteArrayOutputStream read = new ByteArrayOutputStream();
        ByteArrayOutputStream expected = new ByteArrayOutputStream();
        pieces.forEach(expected::writeBytes);
        while (read.size() < expected.size()) {
            // uneven reads: some within a node, some across several
            int want = Math.min(expected.size() - read.size(), 700 + (read.size() % 2300));
            BufferData data = reader.readBuffer(want);
            byte[] b = new byte[data.available()];
            data.read(b);
            read.writeBytes(b);
            heads.add(HEAD.get(reader));
            ConsumedReads.release(reader);
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
        WebServer server = WebServer.builder()
                .host("127.0.0.1")
                .port(0)
                .routing(r -> r.post("/body", (req, res) -> {
                    ConsumedReads.release(req); // as RequestLog does when a request arrives
                    Object first = HEAD.get(dataReader(req));
                    MessageDigest md = MessageDigest.getInstance("SHA-256");
                    long total = 0;
                    try (InputStream in = req.content().inputStream()) {
                        byte[] buf = new byte[100_000];
                        int n;
                        while ((n = in.read(buf)) >= 0) {
                            md.update(buf, 0, n);
                            total += n;
                            ConsumedReads.release(req);
                        }
                    }
                    // the node that was the head when the body began was moved past and unlinked
                    seen.set((HEAD.get(dataReader(req)) != first && NEXT.get(first) == null) + " " + total + " "
                            + HexFormat.of().formatHex(md.digest()));
                    res.send("ok");
                }))
                .build()
                .start();
        try {
            byte[] body = new byte[20 << 20];
            new Random(7).nextBytes(body);
            HttpClient client =
                    HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
            for (int round = 0; round < 2; round++) { // the second on the same keep-alive connection
                HttpResponse<String> r = client.send(
                        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + "/body"))
                                .POST(HttpRequest.BodyPublishers.ofByteArray(body))
                                .build(),
                        HttpResponse.BodyHandlers.ofString());
                assertEquals(200, r.statusCode());
                assertEquals(
                        "true " + body.length + " "
                                + HexFormat.of()
                                        .formatHex(MessageDigest.getInstance("SHA-256")
                                                .digest(body)),
                        seen.get());
            }
        } finally {
            server.stop();
        }
    }

    /** The requests of a keep-alive connection form one chain too: each request unlinks the earlier ones. */
    @Test
    void theRequestsOfAKeepAliveConnectionAreUnlinkedAsTheNextOneArrives() throws Exception {
        List<Object> heads = Collections.synchronizedList(new ArrayList<>());
        WebServer server = WebServer.builder()
                .host("127.0.0.1")
                .port(0)
                .routing(r -> r.addFilter((chain, req, res) -> {
                            ConsumedReads.release(req); // as RequestLog does
                            chain.proceed();
                        })
                        .get("/x", (req, res) -> {
                            heads.add(HEAD.get(dataReader(req)));
                            res.send("ok");
                        }))
                .build()
                .start();
        try {
            HttpClient client =
                    HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
            for (int i = 0; i < 50; i++) {
                assertEquals(
                        200,
                        client.send(
                                        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + "/x"))
                                                .build(),
                                        HttpResponse.BodyHandlers.ofString())
                                .statusCode());
            }
        } finally {
            server.stop();
        }
        assertEquals(50, heads.size());
        assertTrue(new HashSet<>(heads).size() > 40, "one connection, a node per request");
        Object last = heads.getLast();
        for (Object h : heads.subList(0, heads.size() - 1)) {
            if (h != last) {
                assertTrue(NEXT.get(h) == null, "an earlier request's node still links to the next one");
            }
        }
    }
}
