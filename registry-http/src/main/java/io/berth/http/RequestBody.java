package io.berth.http;

import io.berth.core.blob.RequestBodyException;
import java.io.IOException;
import java.io.InputStream;

/**
 * A request body whose read failures (the client disconnected, stalled past {@code http.read-timeout},
 * or sent broken chunked framing) surface as {@link RequestBodyException}, so storage code can tell a
 * vanished client from a failing disk.
 */
final class RequestBody extends InputStream {
    private final InputStream in;
    private final BodyWatchdog.Watch watch;
    private final java.time.Duration timeout;

    private final java.util.concurrent.atomic.AtomicLong counted;
    private final io.helidon.webserver.http.ServerRequest req; // null: nothing to release

    RequestBody(io.helidon.webserver.http.ServerRequest req, BodyWatchdog watchdog) {
        this(req.content().inputStream(), RequestLog.bodyCounter(req), watchdog, req);
        RequestLog.bodyStream(req, in);
    }

    /** Reads {@code raw} (a request's entity stream) under {@code watchdog}, counting into {@code counted}. */
    RequestBody(InputStream raw, java.util.concurrent.atomic.AtomicLong counted, BodyWatchdog watchdog) {
        this(raw, counted, watchdog, null);
    }

    private RequestBody(InputStream raw, java.util.concurrent.atomic.AtomicLong counted, BodyWatchdog watchdog,
                        io.helidon.webserver.http.ServerRequest req) {
        this.req = req;
        this.in = raw;
        this.watch = watchdog.watch();
        this.timeout = watchdog.timeout();
        this.counted = counted;
    }

    @Override
    public int read() throws IOException {
        watch.reading();
        int b;
        try {
            b = in.read();
        } catch (IOException | RuntimeException e) {
            throw failed(e, watch.done());
        }
        if (watch.done()) {
            throw failed(null, true);
        }
        if (b >= 0) {
            counted.incrementAndGet();
        }
        return b;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
        watch.reading();
        int n;
        try {
            n = in.read(b, off, len);
        } catch (IOException | RuntimeException e) {
            throw failed(e, watch.done());
        }
        if (watch.done()) {
            throw failed(null, true);
        }
        if (n > 0) {
            counted.addAndGet(n);
        }
        if (req != null) {
            ConsumedReads.release(req); // what was read is garbage now: let the collector see it
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
            return new RequestBodyException("no request body bytes arrived for " + timeout.toSeconds()
                    + "s (http.read-timeout)", e);
        }
        if (e instanceof RequestBodyException r) {
            return r;
        }
        String why = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        return new RequestBodyException("request body could not be read: " + why, e);
    }
}
