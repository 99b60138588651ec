package io.berth.core.files;

import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;

/**
 * Berth's data — blobs, uploads, the SQLite database, lock files, the token key — belongs to the
 * account that runs it: directories are created 0700 and files 0600, whatever the umask (a blob of a
 * private repository is no business of other local users). Where the filesystem has no POSIX
 * permissions, nothing is set. Existing data keeps its modes; {@link #openToOthers} lists what is
 * open, for a warning at start-up.
 */
public final class OwnerOnly {
    private static final Set<PosixFilePermission> DIRECTORY = PosixFilePermissions.fromString("rwx------");
    private static final Set<PosixFilePermission> FILE = PosixFilePermissions.fromString("rw-------");
    private static final Set<PosixFilePermission> OTHERS = EnumSet.of(
            PosixFilePermission.GROUP_READ,
            PosixFilePermission.GROUP_WRITE,
            PosixFilePermission.GROUP_EXECUTE,
            PosixFilePermission.OTHERS_READ,
            PosixFilePermission.OTHERS_WRITE,
            PosixFilePermission.OTHERS_EXECUTE);

    private OwnerOnly() {}

    private static boolean posix(Path p) {
        Path existing = p.toAbsolutePath();
        while (existing != null && !Files.exists(existing)) {
            existing = existing.getParent();
        }
        return existing != null && Files.getFileAttributeView(existing, PosixFileAttributeView.class) != null;
    }

    /** The attributes of a new file: 0600 where permissions exist. */
    public static FileAttribute<?>[] file(Path p) {
        return posix(p) ? new FileAttribute<?>[] {PosixFilePermissions.asFileAttribute(FILE)} : new FileAttribute<?>[0];
    }

    /** Creates {@code dir} and its missing ancestors, each 0700; existing ones are left as they are. */
    public static Path createDirectories(Path dir) throws IOException {
        if (Files.isDirectory(dir)) {
            return dir;
        }
        return posix(dir)
                ? Files.createDirectories(dir, PosixFilePermissions.asFileAttribute(DIRECTORY))
                : Files.createDirectories(dir);
    }

    /** Creates an empty file, 0600; false when it existed. */
    public static boolean createFile(Path file) throws IOException {
        try {
            Files.createFile(file, file(file));
            return true;
        } catch (FileAlreadyExistsException e) {
            return false;
        }
    }

    /**
     * Those of {@code paths} that exist and that group or others may read, write or enter, each with
     * its mode ({@code /srv/berth/data/blobs (rwxr-xr-x)}).
     */
    public static List<String> openToOthers(List<Path> paths) {
        List<String> out = new ArrayList<>();
        for (Path p : paths) {
            try {
                if (!Files.exists(p, LinkOption.NOFOLLOW_LINKS) || !posix(p)) {
                    continue;
                }
                Set<PosixFilePermission> mode = Files.getPosixFilePermissions(p);
                if (mode.stream().anyMatch(OTHERS::contains)) {
                    out.add(p.toAbsolutePath().normalize() + " (" + PosixFilePermissions.toString(mode) + ")");
                }
            } catch (IOException | UnsupportedOperationException e) {
                // unreadable attributes: nothing to say
            }
        }
        return out;
    }
}
