package io.berth.http.helidon;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.helidon.webserver.WebServer;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.net.SocketException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

/**
 * The socket-read path honours the listener's {@code maxPayloadSize} as Helidon's own reader does:
 * a chunked body is refused with 413 once the sizes its chunks announce pass the limit (a
 * {@code Content-Length} over it never reaches a handler). Berth sets no limit; a Helidon listener
 * with one, whose handler reads through the fence, shows it.
 */
class SocketEntityLimitsTest {
    private static final int MAX = 3 << 20;

    /** A server whose one route reads the body through {@code paths}, and says which way it went. */
    private static WebServer server(HelidonFastPaths paths, AtomicBoolean fromSocket) {
        return WebServer.builder()
                .host("127.0.0.1")
                .port(0)
                .maxPayloadSize(MAX)
                .routing(r -> r.post("/body", (req, res) -> {
                    long total = 0;
                    try (InputStream in = req.content().inputStream()) {
                        Optional<HelidonFastPaths.DirectBody> direct = paths.socketBody(req, in);
                        if (direct.isPresent()) {
                            fromSocket.set(true); // not the empty request pipelined behind
                        }
                        if (direct.isPresent()) {
                            ByteBuffer buf = ByteBuffer.allocate(256 * 1024);
                            int n;
                            while ((n = direct.get().read(buf.clear())) >= 0) {
                                total += n;
                            }
                        } else {
                            total = in.transferTo(OutputStream.nullOutputStream());
                        }
                    }
                    res.send(Long.toString(total));
                }))
                .build()
                .start();
    }

    /** Sends {@code chunks} chunks of 1 MiB, then a request behind them; the first status line and what follows. */
    private static String exchange(int port, int chunks) throws Exception {
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), port)) {
            s.setSoTimeout(20_000);
            OutputStream out = s.getOutputStream();
            out.write("POST /body HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n"
                    .getBytes(StandardCharsets.ISO_8859_1));
            byte[] chunk = new byte[1 << 20];
            try {
                for (int i = 0; i < chunks; i++) {
                    out.write("100000\r\n".getBytes(StandardCharsets.ISO_8859_1));
                    out.write(chunk);
                    out.write("\r\n".getBytes(StandardCharsets.ISO_8859_1));
                }
                out.write("0\r\n\r\nPOST /body HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\n\r\n"
                        .getBytes(StandardCharsets.ISO_8859_1));
            } catch (IOException refusedEarly) {
                // the server answered and closed before the body was all sent
            }
            ByteArrayOutputStream got = new ByteArrayOutputStream();
            InputStream in = s.getInputStream();
            byte[] buf = new byte[8192];
            try {
                int n;
                while ((n = in.read(buf)) >= 0) {
                    got.write(buf, 0, n);
                    if (got.toString(StandardCharsets.ISO_8859_1).split("HTTP/1.1 ", -1).length > 2) {
                        break; // both answered
                    }
                }
            } catch (SocketException reset) {
                // closed under a write the server did not read
            }
            return got.toString(StandardCharsets.ISO_8859_1);
        }
    }

    private static int status(String response) {
        return Integer.parseInt(response.substring("HTTP/1.1 ".length(), "HTTP/1.1 ".length() + 3));
    }

    @Test
    void aChunkedBodyPastMaxPayloadSizeIsRefusedAsHelidonRefusesIt() throws Exception {
        List<String> answers = new ArrayList<>();
        for (HelidonFastPaths paths :
                new HelidonFastPaths[] {HelidonFastPaths.detect(false, true), HelidonFastPaths.OFF}) {
            AtomicBoolean fromSocket = new AtomicBoolean();
            WebServer server = server(paths, fromSocket);
            try {
                String within = exchange(server.port(), 3);
                assertEquals(200, status(within), within);
                assertTrue(within.contains("\r\n\r\n" + MAX), within);
                assertEquals(paths.socketReadsOn(), fromSocket.get(), "the path taken");
                String past = exchange(server.port(), 4);
                assertEquals(413, status(past), past);
                answers.add(past.replaceAll("Date: [^\r]*", "Date: -"));
            } finally {
                server.stop();
            }
        }
        assertEquals(answers.get(1), answers.get(0), "the socket path answers as Helidon's own");
    }
}
