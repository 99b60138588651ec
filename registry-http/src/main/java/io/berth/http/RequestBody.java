package io.berth.http;

import io.berth.core.blob.DirectSource;
import io.berth.core.blob.RequestBodyException;
import io.berth.http.helidon.HelidonFastPaths;
import io.helidon.webserver.http.ServerRequest;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A request body whose read failures (the client disconnected, stalled past {@code http.read-timeout},
 * crawled under {@code http.min-body-rate}, ran past a deadline, or sent broken chunked framing) surface as {@link RequestBodyException}, so storage code can tell a
 * vanished client from a failing disk.
 */
final class RequestBody extends InputStream implements DirectSource {
    private final InputStream in;
    private final BodyWatchdog.Watch watch;

    private final AtomicLong counted;
    private final ServerRequest req; // null: nothing to release
    private final HelidonFastPaths fastPaths;
    private final HelidonFastPaths.DirectBody socket; // null: read through Helidon's stream
    private static final int HEAP_READ_MAX = 64 * 1024;
    private long total;

    RequestBody(ServerRequest req, BodyWatchdog watchdog) {
        this(req, watchdog, false);
    }

    /** @param fromSocket read a large body from the socket when possible ({@link HelidonFastPaths#socketBody}) */
    RequestBody(ServerRequest req, BodyWatchdog watchdog, boolean fromSocket) {
        this(req, watchdog.watch(RequestLog.client(req)), fromSocket);
    }

    /** Reads {@code req}'s body under {@code watch} (of a watchdog, maybe with a deadline of its own). */
    RequestBody(ServerRequest req, BodyWatchdog.Watch watch, boolean fromSocket) {
        this(req.content().inputStream(), RequestLog.bodyCounter(req), watch, req, fromSocket);
        RequestLog.bodyStream(req, in);
    }

    /** Reads {@code raw} (a request's entity stream) under {@code watchdog}, counting into {@code counted}. */
    RequestBody(InputStream raw, AtomicLong counted, BodyWatchdog watchdog) {
        this(raw, counted, watchdog.watch(), null, false);
    }

    private RequestBody(
            InputStream raw, AtomicLong counted, BodyWatchdog.Watch watch, ServerRequest req, boolean fromSocket) {
        this.req = req;
        this.in = raw;
        this.fastPaths = req == null ? HelidonFastPaths.OFF : RequestLog.fastPaths(req);
        this.socket = fromSocket ? fastPaths.socketBody(req, raw).orElse(null) : null;
        this.watch = watch;
        this.counted = counted;
    }

    @Override
    public int read() throws IOException {
        byte[] one = new byte[1];
        int n = read(one, 0, 1);
        return n < 0 ? -1 : one[0] & 0xff;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
        if (socket != null) {
            // the JDK reads a socket into a heap array through a temporary direct buffer of the same
            // size, cached per thread: bounded here (a store may ask for megabytes at once)
            return read(ByteBuffer.wrap(b, off, Math.min(len, HEAP_READ_MAX)));
        }
        watch.reading();
        int n;
        try {
            n = in.read(b, off, len);
        } catch (IOException | RuntimeException e) {
            throw failed(e, watch.done());
        }
        return counted(n);
    }

    /** Body bytes read so far. */
    long bytesRead() {
        return total;
    }

    @Override
    public boolean readsDirect() {
        return socket != null;
    }

    @Override
    public int read(ByteBuffer dst) throws IOException {
        if (socket == null) {
            throw new IllegalStateException("not read from the socket");
        }
        watch.reading();
        int n;
        try {
            n = socket.read(dst);
        } catch (IOException | RuntimeException e) {
            throw failed(e, watch.done());
        }
        return counted(n);
    }

    private int counted(int n) throws RequestBodyException {
        if (watch.done(Math.max(0, n))) {
            throw failed(null, true);
        }
        if (n > 0) {
            counted.addAndGet(n);
            total += n;
        }
        if (req != null) {
            fastPaths.releaseConsumed(req); // what was read is garbage now: let the collector see it
        }
        return n;
    }

    @Override
    public int available() throws IOException {
        try {
            return in.available();
        } catch (IOException | RuntimeException e) {
            throw failed(e, false);
        }
    }

    @Override
    public void close() throws IOException {
        try {
            in.close();
        } catch (IOException | RuntimeException e) {
            throw failed(e, false);
        }
    }

    private RequestBodyException failed(Exception e, boolean timedOut) {
        if (timedOut) {
            return new RequestBodyException(watch.why(), e);
        }
        if (e instanceof RequestBodyException r) {
            return r;
        }
        String why = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        return new RequestBodyException("request body could not be read: " + why, e);
    }
}
