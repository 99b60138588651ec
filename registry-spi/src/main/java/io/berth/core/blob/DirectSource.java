package io.berth.core.blob;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;

/**
 * A body that can fill a caller's buffer (a direct, block-aligned one) straight from where its bytes
 * come from, with no heap array in between: a request body read from the socket by the kernel into
 * the buffer that then goes to the device. Implemented by an {@link InputStream} whose ordinary reads
 * return the same bytes; both kinds of read may be mixed, each advances the one position.
 */
public interface DirectSource {
    /**
     * Reads at most {@code dst.remaining()} bytes into {@code dst} from its position, blocking until at
     * least one byte arrived.
     *
     * @return how many bytes were read, -1 at the end of the body
     */
    int read(ByteBuffer dst) throws IOException;

    /**
     * Waits until the source no longer needs the bytes it read into {@code buffer} (a hashing thread
     * reads them after {@link #read(ByteBuffer)} returned). A caller calls it before it fills the
     * buffer again; by default there is nothing to wait for.
     */
    default void release(ByteBuffer buffer) throws IOException {}

    /** Whether {@link #read(ByteBuffer)} is worth calling: it fills the buffer without a heap copy. */
    boolean readsDirect();

    /** {@code in} as a source that reads directly, or null. */
    static DirectSource of(InputStream in) {
        return in instanceof DirectSource d && d.readsDirect() ? d : null;
    }
}
