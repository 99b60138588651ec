package io.berth.testsupport;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A loopback TCP forwarder to a server, for outages a test can cause: {@link #cut()} closes the
 * listener and every connection (clients then get refused connections), {@link #restore()} listens
 * again on the same port. With a rate, each direction of each connection carries at most that many
 * bytes a second: an upstream across a network link rather than on loopback, for benchmarks.
 */
public final class TcpForwarder implements AutoCloseable {
    private final int targetPort;
    private final int port;
    private final long bytesPerSecond; // 0: as fast as loopback goes
    private final List<Socket> open = new CopyOnWriteArrayList<>();
    private volatile ServerSocket listener;

    public TcpForwarder(int targetPort) throws IOException {
        this(targetPort, 0);
    }

    /** A forwarder whose connections carry at most {@code bytesPerSecond} each way (0: no limit). */
    public TcpForwarder(int targetPort, long bytesPerSecond) throws IOException {
        if (bytesPerSecond < 0) {
            throw new IllegalArgumentException("bytesPerSecond " + bytesPerSecond);
        }
        this.targetPort = targetPort;
        this.bytesPerSecond = bytesPerSecond;
        this.port = FreePorts.next();
        restore();
    }

    public int port() {
        return port;
    }

    public synchronized void restore() throws IOException {
        if (listener != null && !listener.isClosed()) {
            return;
        }
        ServerSocket s = new ServerSocket();
        s.setReuseAddress(true);
        s.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
        listener = s;
        Thread.ofVirtual().start(() -> accept(s));
    }

    private void accept(ServerSocket s) {
        while (!s.isClosed()) {
            Socket client;
            try {
                client = s.accept();
            } catch (IOException e) {
                return; // cut or closed
            }
            try {
                Socket server = new Socket(InetAddress.getLoopbackAddress(), targetPort);
                synchronized (this) {
                    // a connection accepted just before a cut must not outlive it: registered after the cut
                    // had cleared the list, it carried requests through a link the test had cut (seen as a
                    // flaky GuardedUpstreamTest)
                    if (s.isClosed()) {
                        closeQuietly(client);
                        closeQuietly(server);
                        return;
                    }
                    open.add(client);
                    open.add(server);
                }
                Thread.ofVirtual().start(() -> pump(client, server));
                Thread.ofVirtual().start(() -> pump(server, client));
            } catch (IOException serverDown) {
                // the server is down (restarting): this client is refused, the next one may get through.
                // Ending the loop here left a listener nobody accepted on: clients hung for good
                closeQuietly(client);
            }
        }
    }

    private void pump(Socket from, Socket to) {
        byte[] buf = new byte[64 * 1024];
        long free = System.nanoTime(); // when the link has carried what it was given
        try (InputStream in = from.getInputStream();
                OutputStream out = to.getOutputStream()) {
            int n;
            while ((n = in.read(buf)) >= 0) {
                out.write(buf, 0, n);
                if (bytesPerSecond > 0) {
                    // the link's pace, without credit for the time it was idle
                    long now = System.nanoTime();
                    free = Math.max(free, now) + n * 1_000_000_000L / bytesPerSecond;
                    long ahead = free - now;
                    if (ahead > 0) {
                        Thread.sleep(ahead / 1_000_000, (int) (ahead % 1_000_000));
                    }
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (IOException e) {
            // cut or closed
        } finally {
            closeQuietly(from);
            closeQuietly(to);
        }
    }

    /** Closes the listener and every connection through it. */
    public synchronized void cut() {
        closeQuietly(listener);
        for (Socket s : open) {
            closeQuietly(s);
        }
        open.clear();
    }

    private static void closeQuietly(AutoCloseable c) {
        try {
            if (c != null) {
                c.close();
            }
        } catch (Exception ignored) {
            // closing anyway
        }
    }

    @Override
    public void close() {
        cut();
    }
}
