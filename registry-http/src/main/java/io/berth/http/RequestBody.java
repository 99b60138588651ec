package io.berth.http;

import io.berth.core.blob.RequestBodyException;
import java.io.IOException;
import java.io.InputStream;

/**
 * A request body whose read failures (the client disconnected, stalled past the read timeout, or
 * sent broken chunked framing) surface as {@link RequestBodyException}, so storage code can tell a
 * vanished client from a failing disk.
 */
final class RequestBody extends InputStream {
    private final InputStream in;

    RequestBody(InputStream in) {
        this.in = in;
    }

    @Override
    public int read() throws IOException {
        try {
            return in.read();
        } catch (IOException | RuntimeException e) {
            throw failed(e);
        }
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
        try {
            return in.read(b, off, len);
        } catch (IOException | RuntimeException e) {
            throw failed(e);
        }
    }

    @Override
    public int available() throws IOException {
        try {
            return in.available();
        } catch (IOException | RuntimeException e) {
            throw failed(e);
        }
    }

    @Override
    public void close() throws IOException {
        try {
            in.close();
        } catch (IOException | RuntimeException e) {
            throw failed(e);
        }
    }

    private static RequestBodyException failed(Exception e) {
        if (e instanceof RequestBodyException r) {
            return r;
        }
        String why = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        return new RequestBodyException("request body could not be read: " + why, e);
    }
}
