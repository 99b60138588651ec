package io.berth.core.error;

/**
 * The client stopped sending a request body (disconnected, or stalled past the read timeout). Not a
 * server fault: nothing is acknowledged, the upload keeps only the bytes it had acknowledged before.
 */
public final class ClientAbortedException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public ClientAbortedException(String message, Throwable cause) {
        super(message, cause, false, false);
    }
}
