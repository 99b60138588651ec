package io.berth.core.blob;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * Makes directory entries durable: after a file is created or renamed, or a directory created, its
 * parent directory is forced to stable storage, or a power loss may forget the name while the data
 * survives. A seam, so that tests can see which directories were forced and when.
 */
@FunctionalInterface
public interface FileSync {
    /** Forces the entries of {@code directory} to stable storage (fsync on the directory). */
    void directory(Path directory) throws IOException;

    /** The real thing. */
    FileSync SYSTEM = directory -> {
        try (FileChannel ch = FileChannel.open(directory, StandardOpenOption.READ)) {
            ch.force(true);
        }
    };

    /** No forcing ({@code storage.filesystem.fsync: false}: speed over durability, the operator's choice). */
    FileSync NONE = directory -> { };
}
