package io.berth.oci;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.function.ToLongFunction;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * What a body read ahead holds: a window per body, and a budget for all bodies together; and that a
 * body cut short ends with an error, never as if it were complete.
 */
class ReadAheadTest {
    static final int BODY = 16 << 20;

    HttpServer server;
    HttpClient http;

    @BeforeEach
    void start() throws IOException {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.setExecutor(Executors.newCachedThreadPool());
        server.createContext("/whole", x -> {
            x.sendResponseHeaders(200, BODY);
            try (OutputStream out = x.getResponseBody()) {
                byte[] block = new byte[64 << 10];
                for (int sent = 0; sent < BODY; sent += block.length) {
                    out.write(block);
                }
            } catch (IOException e) {
                // the client went away
            }
        });
        server.createContext("/cut", x -> {
            // announces the whole body, sends half of it and hangs up
            x.sendResponseHeaders(200, BODY);
            OutputStream out = x.getResponseBody();
            byte[] block = new byte[64 << 10];
            for (int sent = 0; sent < BODY / 2; sent += block.length) {
                out.write(block);
            }
            out.flush();
            throw new IOException("cut"); // the server closes the connection
        });
        server.start();
        http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    }

    @AfterEach
    void stop() {
        http.close();
        server.stop(0);
    }

    ReadAhead open(String path, ReadAhead.Budget budget) throws Exception {
        URI u = URI.create("http://127.0.0.1:" + server.getAddress().getPort() + path);
        HttpResponse<InputStream> r = http.send(HttpRequest.newBuilder(u).build(), ReadAhead.handler(budget));
        assertEquals(200, r.statusCode());
        return (ReadAhead) r.body();
    }

    /** What the bodies hold once the source has sent all they asked for (it stops growing). */
    static long settled(List<ReadAhead> bodies, ToLongFunction<ReadAhead> held) throws InterruptedException {
        long last = -1;
        int still = 0;
        while (still < 5) {
            Thread.sleep(100);
            long now = bodies.stream().mapToLong(held).sum();
            still = now == last ? still + 1 : 0;
            last = now;
        }
        return last;
    }

    static long drain(InputStream in) throws IOException {
        long n = 0;
        byte[] buf = new byte[100_000];
        for (int r; (r = in.read(buf)) > 0; ) {
            n += r;
        }
        return n;
    }

    @Test
    void aBodyNobodyReadsHoldsOneWindowAndThenAllOfItArrives() throws Exception {
        ReadAhead.Budget budget = new ReadAhead.Budget(1000);
        try (ReadAhead body = open("/whole", budget)) {
            long held = settled(List.of(body), ReadAhead::queued);
            assertTrue(held > 0 && held <= (long) ReadAhead.WINDOW * ReadAhead.READ_BYTES, "held " + held);
            assertEquals(BODY, drain(body));
        }
        assertEquals(1000, budget.free(), "the borrowed reads are given back");
    }

    @Test
    void manyBodiesOpenAtOnceShareOneBudgetBeyondTheirFirstRead() throws Exception {
        int bodies = 8;
        int shared = ReadAhead.WINDOW; // one window's reads for all eight, beyond their first one each
        ReadAhead.Budget budget = new ReadAhead.Budget(shared);
        List<ReadAhead> open = new ArrayList<>();
        try {
            for (int i = 0; i < bodies; i++) {
                open.add(open("/whole", budget));
            }
            long held = settled(open, ReadAhead::queued);
            // without a shared budget: eight windows (16 MiB)
            long bound = (long) (bodies + shared) * ReadAhead.READ_BYTES;
            assertTrue(held <= bound, "held " + held + " > " + bound);
            assertEquals(0, budget.free());
            for (ReadAhead body : open) {
                assertEquals(BODY, drain(body), "every body still arrives whole");
            }
        } finally {
            for (ReadAhead body : open) {
                body.close();
            }
        }
        assertEquals(shared, budget.free(), "the borrowed reads are given back");
    }

    @Test
    void aBodyClosedUnreadGivesItsReadsBack() throws Exception {
        ReadAhead.Budget budget = new ReadAhead.Budget(64);
        ReadAhead body = open("/whole", budget);
        settled(List.of(body), ReadAhead::queued);
        assertTrue(budget.free() < 64);
        body.close();
        assertEquals(64, budget.free());
        assertThrows(IOException.class, body::read, "a read after close fails, it does not end the body");
    }

    @Test
    void aBodyCutShortEndsWithAnErrorNotAsComplete() throws Exception {
        ReadAhead.Budget budget = new ReadAhead.Budget(64);
        try (ReadAhead body = open("/cut", budget)) {
            byte[] buf = new byte[100_000];
            long n = 0;
            IOException e = null;
            try {
                for (int r; (r = body.read(buf)) > 0; ) {
                    n += r;
                }
            } catch (IOException cut) {
                e = cut;
            }
            assertTrue(e != null, "read " + n + " of " + BODY + " bytes and then the end, no error");
            assertTrue(n <= BODY / 2, "read " + n);
        }
        assertEquals(64, budget.free());
    }
}
