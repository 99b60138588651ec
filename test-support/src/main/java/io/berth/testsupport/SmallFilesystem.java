package io.berth.testsupport;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * A filesystem of a few MiB mounted for one test, so that a full disk is real (ENOSPC from the
 * kernel), not simulated: a loop-mounted ext4 image (O_DIRECT works on it) or a tmpfs (it does not).
 * Mounting needs root; {@link #mount} says why it could not, for the test to skip with that message.
 */
public final class SmallFilesystem implements AutoCloseable {
    public enum Kind {
        EXT4_LOOP,
        TMPFS
    }

    private final Path mountPoint;
    private final Path image;

    private SmallFilesystem(Path mountPoint, Path image) {
        this.mountPoint = mountPoint;
        this.image = image;
    }

    /** Mounts a filesystem of {@code bytes} at {@code mountPoint}; the result says why not when it fails. */
    public static Result mount(Kind kind, Path mountPoint, long bytes) {
        try {
            Files.createDirectories(mountPoint);
        } catch (IOException e) {
            return Result.failed("cannot create " + mountPoint + ": " + e.getMessage());
        }
        if (kind == Kind.TMPFS) {
            Command c = Command.run(
                    List.of("mount", "-t", "tmpfs", "-o", "size=" + bytes, "tmpfs", mountPoint.toString()),
                    Map.of(),
                    30);
            return c.exitCode() == 0
                    ? Result.ok(new SmallFilesystem(mountPoint, null))
                    : Result.failed(
                            "cannot mount a tmpfs (root needed): " + c.output().strip());
        }
        Path image = mountPoint.resolveSibling(mountPoint.getFileName() + ".img");
        Command c = Command.run(
                List.of(
                        "sh",
                        "-c",
                        "truncate -s " + bytes + " '" + image + "' && mkfs.ext4 -q -F '" + image
                                + "' && mount -o loop '" + image + "' '" + mountPoint + "'"),
                Map.of(),
                60);
        if (c.exitCode() != 0) {
            try {
                Files.deleteIfExists(image);
            } catch (IOException ignored) {
                // best effort
            }
            return Result.failed("cannot loop-mount an ext4 image (root and loop devices needed): "
                    + c.output().strip());
        }
        return Result.ok(new SmallFilesystem(mountPoint, image));
    }

    /** A mounted filesystem, or why there is none. */
    public record Result(SmallFilesystem filesystem, String whyNot) {
        static Result ok(SmallFilesystem fs) {
            return new Result(fs, null);
        }

        static Result failed(String why) {
            return new Result(null, why);
        }
    }

    /** Remounts read-only or read-write (a disk gone read-only after errors, and back). */
    public void remount(boolean readOnly) {
        Command c = Command.run(
                List.of("mount", "-o", "remount," + (readOnly ? "ro" : "rw"), mountPoint.toString()), Map.of(), 30);
        if (c.exitCode() != 0) {
            throw new IllegalStateException("cannot remount " + mountPoint + ": " + c.output());
        }
    }

    public Path root() {
        return mountPoint;
    }

    @Override
    public void close() {
        Command.run(List.of("umount", "-l", mountPoint.toString()), Map.of(), 30);
        if (image != null) {
            try {
                Files.deleteIfExists(image);
            } catch (IOException ignored) {
                // best effort: a temporary file
            }
        }
    }
}
