package io.berth.webhooks;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A webhook receiver that misbehaves on the wire: it reads the request whole, then answers with
 * {@code 200} headers and a body that trickles one byte at a time ({@link Mode#TRICKLE}), a chunked
 * body that never ends ({@link Mode#ENDLESS}), or a redirect to {@code location} ({@link Mode#REDIRECT}).
 */
final class HostileReceiver implements AutoCloseable {
    enum Mode {
        TRICKLE,
        ENDLESS,
        REDIRECT
    }

    private final ServerSocket server;
    private final Mode mode;
    private final String location;
    final AtomicInteger requests = new AtomicInteger();
    /** Body bytes written to the relay before it closed the connection. */
    final AtomicLong bodyBytesSent = new AtomicLong();
    /** Set when the relay closed the connection (the write failed). */
    final CountDownLatch cutOff = new CountDownLatch(1);

    HostileReceiver(Mode mode, String location) throws IOException {
        this.mode = mode;
        this.location = location;
        this.server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        Thread.ofVirtual().start(this::accept);
    }

    String url() {
        return "http://127.0.0.1:" + server.getLocalPort() + "/hook";
    }

    private void accept() {
        while (!server.isClosed()) {
            try {
                Socket s = server.accept();
                Thread.ofVirtual().start(() -> serve(s));
            } catch (IOException e) {
                return;
            }
        }
    }

    private void serve(Socket s) {
        try (s;
                InputStream in = s.getInputStream();
                OutputStream out = s.getOutputStream()) {
            readRequest(in);
            requests.incrementAndGet();
            switch (mode) {
                case REDIRECT ->
                    out.write(("HTTP/1.1 307 Temporary Redirect\r\nLocation: " + location
                                    + "\r\nContent-Length: 0\r\n\r\n")
                            .getBytes(StandardCharsets.US_ASCII));
                case TRICKLE -> {
                    out.write("HTTP/1.1 200 OK\r\nContent-Length: 1000000\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                    out.flush();
                    for (int i = 0; i < 1_000_000; i++) {
                        out.write('x');
                        out.flush();
                        bodyBytesSent.incrementAndGet();
                        Thread.sleep(100);
                    }
                }
                case ENDLESS -> {
                    out.write("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                            .getBytes(StandardCharsets.US_ASCII));
                    byte[] chunk = ("2000\r\n" + "x".repeat(0x2000) + "\r\n").getBytes(StandardCharsets.US_ASCII);
                    while (true) {
                        out.write(chunk);
                        bodyBytesSent.addAndGet(0x2000);
                    }
                }
            }
            out.flush();
        } catch (IOException e) {
            cutOff.countDown();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Reads the head and a Content-Length body. */
    private static void readRequest(InputStream in) throws IOException {
        StringBuilder head = new StringBuilder();
        int c;
        while ((c = in.read()) != -1) {
            head.append((char) c);
            if (head.length() >= 4 && head.substring(head.length() - 4).equals("\r\n\r\n")) {
                break;
            }
        }
        long length = 0;
        for (String line : head.toString().split("\r\n")) {
            if (line.toLowerCase(Locale.ROOT).startsWith("content-length:")) {
                length = Long.parseLong(line.substring(15).trim());
            }
        }
        in.readNBytes((int) length);
    }

    @Override
    public void close() throws IOException {
        server.close();
    }
}
