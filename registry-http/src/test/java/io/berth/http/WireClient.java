package io.berth.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * One HTTP/1.1 connection driven byte by byte, the way Go clients read it: a response is a status
 * line, headers, and exactly the body its framing announces (none for HEAD, 1xx, 204 and 304;
 * {@code Content-Length} bytes; or chunks). Anything else the server sends is a framing error that
 * shows up as a malformed next response or as stray bytes.
 */
public final class WireClient implements AutoCloseable {
    private final Socket socket;
    private final InputStream in;
    private final OutputStream out;

    /** A parsed response; header names in lower case; {@code reason} the status line's reason phrase. */
    record Response(String method, int status, Map<String, List<String>> headers, byte[] body, String reason) {
        String header(String name) {
            List<String> v = headers.get(name.toLowerCase(Locale.ROOT));
            return v == null ? null : v.get(0);
        }

        /** Every value of a header: each field line, split at commas (RFC 9110 §5.3). */
        List<String> values(String name) {
            List<String> out = new ArrayList<>();
            for (String line : headers.getOrDefault(name.toLowerCase(Locale.ROOT), List.of())) {
                for (String v : line.split(",")) {
                    if (!v.isBlank()) {
                        out.add(v.trim());
                    }
                }
            }
            return out;
        }

        String text() {
            return new String(body, StandardCharsets.UTF_8);
        }

        @Override
        public String toString() {
            return method + " -> " + status + " " + headers + " " + text();
        }
    }

    public WireClient(int port) throws IOException {
        this(port, null);
    }

    /** A connection from {@code localAddress} (another loopback address is another client). */
    public WireClient(int port, String localAddress) throws IOException {
        socket = localAddress == null
                ? new Socket(InetAddress.getLoopbackAddress(), port)
                : new Socket(InetAddress.getLoopbackAddress(), port, InetAddress.getByName(localAddress), 0);
        socket.setSoTimeout(20_000);
        in = new BufferedInputStream(socket.getInputStream());
        out = socket.getOutputStream();
    }

    /** Sends a request and reads exactly one response. */
    Response exchange(String method, String path, byte[] body, String... headers) throws IOException {
        send(method, path, body, headers);
        return read(method);
    }

    void send(String method, String path, byte[] body, String... headers) throws IOException {
        StringBuilder b = new StringBuilder(method).append(' ').append(path).append(" HTTP/1.1\r\nHost: 127.0.0.1\r\n");
        for (int i = 0; i < headers.length; i += 2) {
            b.append(headers[i]).append(": ").append(headers[i + 1]).append("\r\n");
        }
        if (body != null) {
            b.append("Content-Length: ").append(body.length).append("\r\n");
        }
        b.append("\r\n");
        out.write(b.toString().getBytes(StandardCharsets.ISO_8859_1));
        if (body != null) {
            out.write(body);
        }
        out.flush();
    }

    /**
     * Sends a request whose body goes out with chunked transfer coding, one chunk per element of
     * {@code chunks} (as Go clients send a body of unknown length).
     */
    void sendChunked(String method, String path, List<byte[]> chunks, String... headers) throws IOException {
        StringBuilder b = new StringBuilder(method).append(' ').append(path).append(" HTTP/1.1\r\nHost: 127.0.0.1\r\n");
        for (int i = 0; i < headers.length; i += 2) {
            b.append(headers[i]).append(": ").append(headers[i + 1]).append("\r\n");
        }
        b.append("Transfer-Encoding: chunked\r\n\r\n");
        out.write(b.toString().getBytes(StandardCharsets.ISO_8859_1));
        for (byte[] chunk : chunks) {
            out.write((Integer.toHexString(chunk.length) + "\r\n").getBytes(StandardCharsets.ISO_8859_1));
            out.write(chunk);
            out.write("\r\n".getBytes(StandardCharsets.ISO_8859_1));
        }
        out.write("0\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1));
        out.flush();
    }

    /** Sends the head of a request announcing {@code contentLength} body bytes, and {@code first} of them. */
    public void startBody(String method, String path, long contentLength, byte[] first) throws IOException {
        out.write((method + " " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/octet-stream\r\n"
                        + "Content-Length: " + contentLength + "\r\n\r\n")
                .getBytes(StandardCharsets.ISO_8859_1));
        out.write(first);
        out.flush();
    }

    /** Whether the server closed the connection (or reset it) within {@code millis}. */
    public boolean closedWithin(long millis) throws IOException {
        socket.setSoTimeout((int) millis);
        try {
            byte[] buf = new byte[8192];
            while (in.read(buf) >= 0) {
                // a response may come first; read to the end
            }
            return true;
        } catch (SocketTimeoutException e) {
            return false;
        } catch (SocketException e) {
            return true; // reset
        } finally {
            if (!socket.isClosed()) {
                socket.setSoTimeout(20_000);
            }
        }
    }

    /**
     * Sends bytes exactly as given to a server that may close the connection before it has read them all
     * (as it should after broken framing): a write that fails because the peer closed is that outcome, not an
     * error of the test. Says whether every byte was written.
     */
    public boolean sendRawUntilClosed(String request) throws IOException {
        try {
            sendRaw(request);
            return true;
        } catch (SocketException e) {
            return false; // broken pipe or reset: the server closed first
        }
    }

    /** Sends bytes exactly as given. */
    public void sendRaw(String request) throws IOException {
        out.write(request.getBytes(StandardCharsets.ISO_8859_1));
        out.flush();
    }

    /** Sends bytes exactly as given. */
    public void sendRaw(byte[] bytes, int offset, int length) throws IOException {
        out.write(bytes, offset, length);
        out.flush();
    }

    /** As {@link #read}, or null when the connection ends (closed or reset) before another response starts. */
    Response readOrEnd(String method) throws IOException {
        in.mark(1);
        int first;
        try {
            first = in.read();
        } catch (SocketException reset) {
            return null;
        }
        if (first < 0) {
            return null;
        }
        in.reset();
        return read(method);
    }

    Response read(String method) throws IOException {
        String statusLine = line();
        if (!statusLine.matches("HTTP/1\\.1 \\d{3}( .*)?")) {
            fail("malformed status line after " + method + ": '" + statusLine + "'");
        }
        int status = Integer.parseInt(statusLine.substring(9, 12));
        String reason = statusLine.length() > 13 ? statusLine.substring(13) : "";
        Map<String, List<String>> headers = new LinkedHashMap<>();
        String h;
        while (!(h = line()).isEmpty()) {
            int colon = h.indexOf(':');
            assertTrue(colon > 0, "malformed header line '" + h + "'");
            headers.computeIfAbsent(h.substring(0, colon).trim().toLowerCase(Locale.ROOT), k -> new ArrayList<>())
                    .add(h.substring(colon + 1).trim());
        }
        boolean chunked = headers.containsKey("transfer-encoding");
        List<String> lengths = headers.get("content-length");
        assertFalse(chunked && lengths != null, "Transfer-Encoding combined with Content-Length: " + headers);
        if (lengths != null) {
            assertEquals(1, lengths.size(), "one Content-Length: " + headers);
        }
        byte[] body;
        if (method.equals("HEAD") || status / 100 == 1 || status == 204 || status == 304) {
            if (status == 204 || status == 304) {
                assertFalse(chunked, status + " with Transfer-Encoding");
                assertTrue(lengths == null || lengths.get(0).equals("0"), status + " with a body length: " + headers);
            }
            body = new byte[0];
        } else if (chunked) {
            assertEquals("chunked", headers.get("transfer-encoding").get(0).toLowerCase(Locale.ROOT));
            body = chunks();
        } else if (lengths != null) {
            body = in.readNBytes(Integer.parseInt(lengths.get(0)));
            assertEquals(Integer.parseInt(lengths.get(0)), body.length, "body shorter than Content-Length");
        } else {
            fail("response to " + method + " has neither Content-Length nor chunked framing: " + headers);
            body = null;
        }
        return new Response(method, status, headers, body, reason);
    }

    private byte[] chunks() throws IOException {
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        while (true) {
            String size = line();
            int semi = size.indexOf(';');
            int n = Integer.parseInt((semi < 0 ? size : size.substring(0, semi)).trim(), 16);
            if (n == 0) {
                while (!line().isEmpty()) {
                    // trailers
                }
                return body.toByteArray();
            }
            body.write(in.readNBytes(n));
            assertEquals("", line(), "chunk not followed by CRLF");
        }
    }

    private String line() throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        int c;
        while ((c = in.read()) >= 0) {
            if (c == '\r') {
                int lf = in.read();
                assertEquals('\n', lf, "CR not followed by LF");
                return b.toString(StandardCharsets.ISO_8859_1);
            }
            b.write(c);
            if (b.size() > 65536) {
                fail("line too long: " + b.toString(StandardCharsets.ISO_8859_1).substring(0, 200));
            }
        }
        fail("connection closed mid-response after '" + b.toString(StandardCharsets.ISO_8859_1) + "'");
        return null;
    }

    /** Asserts that the server sends nothing more within {@code millis} (no bytes nobody asked for). */
    void assertNothingMore(long millis) throws IOException {
        socket.setSoTimeout((int) millis);
        try {
            int c = in.read();
            if (c >= 0) {
                byte[] rest = new byte[Math.min(in.available(), 300)];
                int n = in.read(rest);
                fail("unsolicited bytes: '" + (char) c
                        + new String(rest, 0, Math.max(0, n), StandardCharsets.ISO_8859_1) + "'");
            }
        } catch (SocketTimeoutException expected) {
            // nothing arrived: good
        } finally {
            socket.setSoTimeout(20_000);
        }
    }

    /** Asserts that the server closed the connection (after a response that said Connection: close). */
    void assertClosedByServer() throws IOException {
        socket.setSoTimeout(10_000);
        assertEquals(-1, in.read(), "the server should close the connection");
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
