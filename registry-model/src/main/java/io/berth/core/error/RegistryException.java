package io.berth.core.error;

import java.util.Map;

/**
 * A failure a client can cause or observe, typed by its {@link ErrorCode}. Carries an optional
 * detail object (serialised as the OCI error's {@code detail}) and optional response hints such as
 * the current upload range.
 */
public class RegistryException extends RuntimeException {
    private static final long serialVersionUID = 1L;
    /**
     * The detail key of how many seconds a client should wait before retrying, when the registry passes
     * on someone else's answer (a pull-through cache's throttled upstream); the HTTP layer sends it as
     * {@code Retry-After}.
     */
    public static final String RETRY_AFTER = "retryAfter";

    private final ErrorCode code;
    private final transient Map<String, Object> detail;

    public RegistryException(ErrorCode code, String message) {
        this(code, message, Map.of(), null);
    }

    public RegistryException(ErrorCode code, String message, Map<String, Object> detail) {
        this(code, message, detail, null);
    }

    public RegistryException(ErrorCode code, String message, Map<String, Object> detail, Throwable cause) {
        super(message == null ? code.message() : message, cause, false, false);
        this.code = code;
        this.detail = detail == null ? Map.of() : Map.copyOf(detail);
    }

    public ErrorCode code() {
        return code;
    }

    public Map<String, Object> detail() {
        return detail;
    }

    public static RegistryException of(ErrorCode code, String message) {
        return new RegistryException(code, message);
    }

    public static RegistryException of(ErrorCode code, String message, String detailKey, Object detailValue) {
        return new RegistryException(code, message, Map.of(detailKey, detailValue));
    }
}
