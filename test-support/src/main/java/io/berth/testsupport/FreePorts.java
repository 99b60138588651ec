package io.berth.testsupport;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Free TCP ports on the loopback interface, taken from 20000–31999: below the kernel's ephemeral
 * range (32768 and up), so that a port handed out here is never grabbed in the meantime as the
 * local port of some outgoing connection (which made tests fail with "address already in use").
 * Each test JVM starts at its own offset (by pid) and never hands out a port twice.
 */
public final class FreePorts {
    private static final int LOW = 20_000;
    private static final int SPAN = 12_000;
    private static final AtomicInteger NEXT =
            new AtomicInteger((int) (ProcessHandle.current().pid() * 7919 % SPAN));

    private FreePorts() {}

    public static synchronized int next() {
        for (int attempt = 0; attempt < SPAN; attempt++) {
            int port = LOW + Math.floorMod(NEXT.getAndIncrement(), SPAN);
            try (ServerSocket s = new ServerSocket(port, 1, InetAddress.getLoopbackAddress())) {
                return s.getLocalPort();
            } catch (IOException busy) {
                // taken: try the next one
            }
        }
        throw new UncheckedIOException(new IOException("no free port in " + LOW + "-" + (LOW + SPAN - 1)));
    }

    /** Waits until something accepts connections on {@code port}. */
    public static boolean waitForListener(int port, long timeoutMillis) {
        long deadline = System.currentTimeMillis() + timeoutMillis;
        while (System.currentTimeMillis() < deadline) {
            try {
                new Socket(InetAddress.getLoopbackAddress(), port).close();
                return true;
            } catch (IOException e) {
                try {
                    Thread.sleep(100);
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                    return false;
                }
            }
        }
        return false;
    }
}
