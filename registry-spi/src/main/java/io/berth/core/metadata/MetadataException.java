package io.berth.core.metadata;

/** The metadata database failed (not the client's fault). */
public final class MetadataException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public MetadataException(String message, Throwable cause) {
        super(message, cause);
    }
}
