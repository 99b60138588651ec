package io.berth.core.blob;

import java.io.IOException;

/**
 * Reading the client's request body failed (the client went away or stalled). Protocol layers wrap
 * request bodies so that such failures carry this type, which lets storage code tell a vanished
 * client from a failing disk.
 */
public final class RequestBodyException extends IOException {
    private static final long serialVersionUID = 1L;

    public RequestBodyException(String message, Throwable cause) {
        super(message, cause);
    }
}
