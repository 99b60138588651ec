package io.berth.core.blob;

import io.berth.core.model.UploadId;
import java.io.IOException;

/**
 * An upload's staged bytes are fewer than its session acknowledged (the staging file is missing or
 * short, e.g. after a crash or by hand): continuing would leave a hole, so the upload cannot go on.
 */
public final class StagedUploadLostException extends IOException {
    private static final long serialVersionUID = 1L;

    public StagedUploadLostException(UploadId id, long staged, long expected) {
        super("upload " + id + " holds " + (staged < 0 ? "no staged data" : staged + " staged bytes") + " where "
                + expected + " were acknowledged");
    }
}
