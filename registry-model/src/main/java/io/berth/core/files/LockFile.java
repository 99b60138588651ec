package io.berth.core.files;

import java.nio.file.Path;

/**
 * A lock file a store holds while a process uses its data, and what that data is called in the
 * message when another process holds it ({@code "blob root /var/lib/berth"}).
 */
public record LockFile(Path file, String what) {}
