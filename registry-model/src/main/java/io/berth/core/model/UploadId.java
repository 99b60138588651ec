package io.berth.core.model;

import io.berth.core.error.ErrorCode;
import io.berth.core.error.RegistryException;
import java.util.Map;
import java.util.UUID;
import java.util.regex.Pattern;

/** The id of an upload session: a random UUID, the only form accepted back from clients. */
public record UploadId(String value) {
    private static final Pattern FORM = Pattern.compile("[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}");

    public UploadId {
        if (value == null || !FORM.matcher(value).matches()) {
            throw new RegistryException(
                    ErrorCode.BLOB_UPLOAD_UNKNOWN,
                    "unknown upload",
                    Map.of("upload", value == null ? "null" : Digest.abbreviate(value)));
        }
    }

    public static UploadId random() {
        return new UploadId(UUID.randomUUID().toString());
    }

    @Override
    public String toString() {
        return value;
    }
}
