package io.berth.core.blob;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * Makes written bytes and directory entries durable: a file's data is forced ({@code fdatasync})
 * before anything depends on it, and after a file is created or renamed, or a directory created, its
 * parent directory is forced to stable storage, or a power loss may forget the name while the data
 * survives. A seam, so that tests can see what was forced and in which order.
 */
@FunctionalInterface
public interface FileSync {
    /** Forces the entries of {@code directory} to stable storage (fsync on the directory). */
    void directory(Path directory) throws IOException;

    /**
     * Forces the data of {@code file}, open as {@code channel}, and what is needed to read it back
     * (its length) to stable storage: {@code fdatasync}.
     */
    default void data(Path file, FileChannel channel) throws IOException {
        channel.force(false);
    }

    /** The real thing. */
    FileSync SYSTEM = directory -> {
        try (FileChannel ch = FileChannel.open(directory, StandardOpenOption.READ)) {
            ch.force(true);
        }
    };

    /** No forcing ({@code storage.filesystem.fsync: false}: speed over durability, the operator's choice). */
    FileSync NONE = new FileSync() {
        @Override
        public void directory(Path directory) {}

        @Override
        public void data(Path file, FileChannel channel) {}
    };
}
