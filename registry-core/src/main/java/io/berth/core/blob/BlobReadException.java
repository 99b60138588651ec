package io.berth.core.blob;

import io.berth.core.model.Digest;
import java.io.IOException;

/** A stored blob could not be read back as recorded (its file is missing, short or unreadable). */
public final class BlobReadException extends IOException {
    private static final long serialVersionUID = 1L;

    private final transient Digest digest;

    public BlobReadException(Digest digest, String message, Throwable cause) {
        super("blob " + digest + ": " + message, cause);
        this.digest = digest;
    }

    public Digest digest() {
        return digest;
    }
}
