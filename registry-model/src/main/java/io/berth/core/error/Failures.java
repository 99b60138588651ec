package io.berth.core.error;

import java.nio.file.AccessDeniedException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.util.Locale;

/** One-line descriptions of failures for operators: the path and the reason, never a class name alone. */
public final class Failures {
    private Failures() {}

    /** {@code /x/blobs: permission denied}, {@code cannot connect: …}: what and why, in words. */
    public static String describe(Throwable failure) {
        for (Throwable t = failure; t != null; t = t.getCause()) {
            if (t instanceof FileSystemException fse) {
                String file = fse.getFile() == null ? "" : fse.getFile() + ": ";
                return file + reason(fse);
            }
            if (t.getCause() == null || t.getCause() == t) {
                break;
            }
        }
        String m = failure.getMessage();
        return m == null || m.isBlank() ? failure.getClass().getSimpleName() : m;
    }

    private static String reason(FileSystemException e) {
        if (e instanceof AccessDeniedException) {
            return "permission denied";
        }
        if (e instanceof NoSuchFileException) {
            return "no such file or directory";
        }
        if (e instanceof NotDirectoryException) {
            return "not a directory";
        }
        if (e instanceof FileAlreadyExistsException) {
            return "exists and is not a directory";
        }
        if (e instanceof DirectoryNotEmptyException) {
            return "directory not empty";
        }
        String r = e.getReason();
        return r == null ? e.getClass().getSimpleName() : r.toLowerCase(Locale.ROOT);
    }
}
