package io.berth.core.error;

import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.sql.SQLException;
import java.util.Locale;
import java.util.Map;

/**
 * Turns a failure of the registry's own storage (blob files, the metadata database) into the error a
 * client sees: {@link ErrorCode#STORAGE_FULL} when the device has no room left,
 * {@link ErrorCode#STORAGE_UNAVAILABLE} otherwise. Both are the server's fault, never the client's.
 */
public final class StorageFailures {
    private StorageFailures() {}

    /** Whether {@code failure} (or a cause of it) says the device or a quota is full. */
    public static boolean isNoSpace(Throwable failure) {
        for (Throwable t = failure; t != null; t = t.getCause()) {
            String m = t.getMessage() == null ? "" : t.getMessage().toLowerCase(Locale.ROOT);
            if (t instanceof FileSystemException fse && fse.getReason() != null) {
                m = m + " " + fse.getReason().toLowerCase(Locale.ROOT);
            }
            if (m.contains("no space left")
                    || m.contains("disk quota exceeded")
                    || m.contains("file too large")
                    || m.contains("database or disk is full")
                    || m.contains("sqlite_full")) {
                return true;
            }
            if (t instanceof SQLException sql && sql.getErrorCode() == 13) { // SQLITE_FULL
                return true;
            }
            if (t.getCause() == t) {
                break;
            }
        }
        return false;
    }

    /**
     * Whether {@code failure} (or a cause of it) says the metadata database was busy for longer than
     * the store waits: a lock held elsewhere (SQLite's busy timeout ran out, e.g. behind an operator's
     * sqlite3 shell) or PostgreSQL's lock, deadlock and serialization failures after the retries.
     * Transient: the client is told to retry later.
     */
    public static boolean isBusy(Throwable failure) {
        for (Throwable t = failure; t != null; t = t.getCause()) {
            if (t instanceof SQLException sql) {
                String state = sql.getSQLState() == null ? "" : sql.getSQLState();
                String m = sql.getMessage() == null ? "" : sql.getMessage().toLowerCase(Locale.ROOT);
                if (state.equals("40001")
                        || state.equals("40P01")
                        || state.equals("55P03")
                        || m.contains("sqlite_busy")
                        || m.contains("sqlite_locked")
                        || m.contains("database is locked")) {
                    return true;
                }
            }
            if (t.getCause() == t) {
                break;
            }
        }
        return false;
    }

    /** The error for a storage operation {@code what} (e.g. "chunk could not be stored") that failed. */
    public static RegistryException of(String what, Throwable failure) {
        if (isNoSpace(failure)) {
            return new RegistryException(
                    ErrorCode.STORAGE_FULL, what + ": no space left on the registry's storage", Map.of(), failure);
        }
        return new RegistryException(ErrorCode.STORAGE_UNAVAILABLE, what + ": " + reason(failure), Map.of(), failure);
    }

    /** A short reason without paths or class names (the log has the details). */
    static String reason(Throwable failure) {
        if (isBusy(failure)) {
            return "metadata database busy";
        }
        for (Throwable t = failure; t != null; t = t.getCause()) {
            if (t instanceof AccessDeniedException) {
                return "permission denied";
            }
            if (t instanceof FileSystemException fse && fse.getReason() != null) {
                return fse.getReason().toLowerCase(Locale.ROOT);
            }
            String m = t.getMessage() == null ? "" : t.getMessage().toLowerCase(Locale.ROOT);
            if (m.contains("read-only file system")) {
                return "read-only file system";
            }
            if (m.contains("input/output error")) {
                return "input/output error";
            }
            if (t.getCause() == t) {
                break;
            }
        }
        return "storage error";
    }
}
