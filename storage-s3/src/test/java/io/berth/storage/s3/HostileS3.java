package io.berth.storage.s3;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * An S3 endpoint that misbehaves on the wire, for what S3Proxy cannot be made to do. It answers a
 * bucket HEAD with 200 and every listing (ListObjectsV2) either with 200 headers and a body trickling
 * a byte a second ({@link Mode#TRICKLE}), or with full pages of made-up blob keys that never end
 * ({@link Mode#ENDLESS}: each page truncated, continuing after its last key).
 */
final class HostileS3 implements AutoCloseable {
    enum Mode {
        TRICKLE,
        ENDLESS
    }

    private final ServerSocket server;
    private final Mode mode;
    final AtomicInteger listings = new AtomicInteger();

    HostileS3(Mode mode) throws IOException {
        this.mode = mode;
        this.server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        Thread.ofVirtual().start(this::accept);
    }

    String endpoint() {
        return "http://127.0.0.1:" + server.getLocalPort();
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
            while (true) {
                String head = readHead(in);
                if (head == null) {
                    return;
                }
                String requestLine = head.substring(0, head.indexOf("\r\n"));
                if (requestLine.startsWith("HEAD ")) {
                    out.write("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                    out.flush();
                    continue;
                }
                listings.incrementAndGet();
                if (mode == Mode.TRICKLE) {
                    out.write(("HTTP/1.1 200 OK\r\nContent-Type: application/xml\r\nContent-Length: 100000\r\n\r\n")
                            .getBytes(StandardCharsets.US_ASCII));
                    byte[] xml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ListBucketResult>"
                            .getBytes(StandardCharsets.US_ASCII);
                    for (int i = 0; i < 100_000; i++) {
                        out.write(xml[Math.min(i, xml.length - 1)]);
                        out.flush();
                        Thread.sleep(1000);
                    }
                    return;
                }
                byte[] page = page(requestLine).getBytes(StandardCharsets.UTF_8);
                out.write(("HTTP/1.1 200 OK\r\nContent-Type: application/xml\r\nContent-Length: " + page.length
                                + "\r\n\r\n")
                        .getBytes(StandardCharsets.US_ASCII));
                out.write(page);
                out.flush();
            }
        } catch (IOException e) {
            // the client hung up
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** A full, truncated page of 1000 blob keys after the request's start-after (or continuation token). */
    private static String page(String requestLine) {
        String query = requestLine.split(" ")[1];
        long start = 0;
        for (String param : query.substring(query.indexOf('?') + 1).split("&")) {
            String[] kv = param.split("=", 2);
            if (kv.length == 2 && (kv[0].equals("start-after") || kv[0].equals("continuation-token"))) {
                String key = URLDecoder.decode(kv[1], StandardCharsets.UTF_8);
                start = Long.parseLong(key.substring(key.length() - 16), 16) + 1;
            }
        }
        StringBuilder b = new StringBuilder("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ListBucketResult "
                + "xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Name>b</Name><Prefix>blobs/</Prefix>"
                + "<KeyCount>1000</KeyCount><MaxKeys>1000</MaxKeys><IsTruncated>true</IsTruncated>");
        String last = null;
        for (long n = start; n < start + 1000; n++) {
            String hex = "%064x".formatted(n);
            last = "blobs/sha256/" + hex.substring(0, 2) + "/" + hex;
            b.append("<Contents><Key>")
                    .append(last)
                    .append(
                            "</Key><LastModified>2026-01-01T00:00:00.000Z"
                                    + "</LastModified><ETag>\"e\"</ETag><Size>1</Size><StorageClass>STANDARD</StorageClass></Contents>");
        }
        b.append("<NextContinuationToken>").append(last).append("</NextContinuationToken></ListBucketResult>");
        return b.toString();
    }

    private static String readHead(InputStream in) throws IOException {
        StringBuilder head = new StringBuilder();
        int c;
        while ((c = in.read()) != -1) {
            head.append((char) c);
            if (head.length() >= 4 && head.substring(head.length() - 4).equals("\r\n\r\n")) {
                return head.toString();
            }
        }
        return null;
    }

    @Override
    public void close() throws IOException {
        server.close();
    }
}
