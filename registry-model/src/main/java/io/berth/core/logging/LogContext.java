package io.berth.core.logging;

/**
 * The request a thread is serving, for log lines written while serving it: every warning or error
 * logged during a request carries its id. Requests run on virtual threads of their own, so a
 * thread-local is exactly the request's scope.
 */
public final class LogContext {
    private static final ThreadLocal<String> REQUEST_ID = new ThreadLocal<>();

    private LogContext() {}

    /** Marks the current thread as serving {@code requestId} until {@link #clear()}. */
    public static void requestId(String requestId) {
        REQUEST_ID.set(requestId);
    }

    public static void clear() {
        REQUEST_ID.remove();
    }

    /** The id of the request the current thread serves, or null. */
    public static String requestId() {
        return REQUEST_ID.get();
    }
}
