package io.berth.core.blob;

import io.berth.core.files.OwnerOnly;
import io.berth.core.model.Digest;
import io.berth.core.model.DigestAlgorithm;
import io.berth.core.model.UploadId;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileStore;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * Blobs as files: {@code <root>/blobs/<algorithm>/<first two hex>/<hex>}, uploads as
 * {@code <root>/uploads/<id>}. Paths are built only from {@link Digest} and {@link UploadId}, whose
 * grammar admits no separator or dot, so nothing can address a file outside the root.
 */
public final class FilesystemBlobStore implements BlobStore {
    static final int BUFFER_SIZE = 1 << 16;
    /** Blob reads go through buffers of this size (measured: bin/bench). */
    static final int READ_BUFFER = 256 * 1024;

    private final Path root;
    private final Path blobs;
    private final Path uploads;
    private final boolean fsync;
    private final boolean directIo;
    private final FileSync sync;
    private final BufferPool pieces;
    private final AlignedPairs alignedPairs;
    private final BufferPool reads;

    public FilesystemBlobStore(Path root, boolean fsync) throws IOException {
        this(root, fsync, true);
    }

    /**
     * @param fsync    flush every chunk, and every directory entry created or renamed, to stable
     *                 storage before acknowledging it
     * @param directIo write uploads with O_DIRECT where the filesystem supports it: data goes to the
     *                 device without filling the page cache, which makes the flush cheap
     */
    public FilesystemBlobStore(Path root, boolean fsync, boolean directIo) throws IOException {
        this(root, fsync, directIo, FileSync.SYSTEM);
    }

    /** As above, forcing directories through {@code sync} (a seam for tests). */
    public FilesystemBlobStore(Path root, boolean fsync, boolean directIo, FileSync sync) throws IOException {
        this(root, fsync, directIo, sync, 128);
    }

    /**
     * @param concurrentWriters how many uploads may write at once ({@code uploads.max-concurrent}):
     *                          sizes the shared buffer pools
     */
    public FilesystemBlobStore(Path root, boolean fsync, boolean directIo, FileSync sync, int concurrentWriters)
            throws IOException {
        Duration wait = Duration.ofSeconds(30);
        this.pieces = BufferPool.heap("upload read", BUFFER_SIZE, concurrentWriters + 16, wait);
        this.alignedPairs = new AlignedPairs(concurrentWriters, wait);
        this.reads = BufferPool.direct("blob read", READ_BUFFER, 0, 256, wait);
        this.root = root.toAbsolutePath().normalize();
        this.blobs = this.root.resolve("blobs");
        this.uploads = this.root.resolve("uploads");
        this.fsync = fsync;
        this.sync = fsync ? sync : FileSync.NONE;
        createDirectories(blobs);
        createDirectories(uploads);
        this.directIo = directIo && DirectWriter.supported(uploads);
    }

    @Override
    public Map<String, Integer> buffersInUse() {
        return Map.of("upload_read", pieces.inUse(), "direct_write", alignedPairs.inUse(), "blob_read", reads.inUse());
    }

    /** Whether uploads are written with O_DIRECT (the filesystem supports it and it was asked for). */
    public boolean directIo() {
        return directIo;
    }

    /**
     * Creates {@code dir} and any missing ancestors, then forces the parent of each directory it
     * created, top down, so that no created name can be lost by a power failure.
     */
    private void createDirectories(Path dir) throws IOException {
        Deque<Path> missing = new ArrayDeque<>();
        for (Path p = dir; p != null && !Files.isDirectory(p); p = p.getParent()) {
            missing.push(p);
        }
        if (missing.isEmpty()) {
            return;
        }
        OwnerOnly.createDirectories(dir); // 0700: blobs are no business of other local users
        for (Path created : missing) {
            sync.directory(created.getParent());
        }
    }

    @Override
    public String kind() {
        return "filesystem";
    }

    @Override
    public String describe() {
        return "filesystem " + root + (directIo ? " (O_DIRECT" : " (buffered") + (fsync ? ", fsync)" : ", no fsync)");
    }

    public Path root() {
        return root;
    }

    private Path blobPath(Digest d) {
        return blobs.resolve(d.algorithm().prefix())
                .resolve(d.hex().substring(0, 2))
                .resolve(d.hex());
    }

    private Path uploadPath(UploadId id) {
        return uploads.resolve(id.value());
    }

    @Override
    public OptionalLong size(Digest digest) throws IOException {
        try {
            return OptionalLong.of(Files.size(blobPath(digest)));
        } catch (NoSuchFileException e) {
            return OptionalLong.empty();
        }
    }

    @Override
    public OptionalLong modifiedAt(Digest digest) throws IOException {
        try {
            return OptionalLong.of(Files.getLastModifiedTime(blobPath(digest)).toMillis());
        } catch (NoSuchFileException e) {
            return OptionalLong.empty();
        }
    }

    @Override
    public InputStream open(Digest digest, long offset, long length) throws IOException {
        return new FileRangeInputStream(
                FileChannel.open(blobPath(digest), StandardOpenOption.READ), offset, length, reads);
    }

    @Override
    public Optional<Path> localFile(Digest digest) {
        Path p = blobPath(digest);
        return Files.isRegularFile(p) ? Optional.of(p) : Optional.empty();
    }

    @Override
    public boolean delete(Digest digest) throws IOException {
        return Files.deleteIfExists(blobPath(digest));
    }

    @Override
    public void list(String after, Visitor visitor) throws IOException {
        // algorithms, then each two-hex directory, then its files, each in name order: the order of
        // the digests' text; one directory's names in memory at a time
        List<DigestAlgorithm> algorithms = new ArrayList<>(List.of(DigestAlgorithm.values()));
        algorithms.sort(Comparator.comparing(DigestAlgorithm::prefix));
        for (DigestAlgorithm a : algorithms) {
            Path dir = blobs.resolve(a.prefix());
            if (!Files.isDirectory(dir)) {
                continue;
            }
            for (Path sub : sorted(dir)) {
                if (!Files.isDirectory(sub)) {
                    continue;
                }
                for (Path p : sorted(sub)) {
                    String hex = p.getFileName().toString();
                    if (hex.length() != a.hexLength() || !Files.isRegularFile(p)) {
                        continue;
                    }
                    Digest d;
                    try {
                        d = new Digest(a, hex);
                    } catch (RuntimeException ignored) {
                        continue; // a stray file that is not a blob
                    }
                    if (d.toString().compareTo(after) > 0 && !visitor.visit(d)) {
                        return;
                    }
                }
            }
        }
    }

    private static List<Path> sorted(Path dir) throws IOException {
        try (Stream<Path> entries = Files.list(dir)) {
            return entries.sorted().toList();
        } catch (NoSuchFileException e) {
            return List.of(); // removed meanwhile
        }
    }

    @Override
    public void createUpload(UploadId id) throws IOException {
        try {
            Files.createFile(uploadPath(id), OwnerOnly.file(uploads)); // 0600, and so is the blob it becomes
        } catch (FileAlreadyExistsException e) {
            // idempotent
        }
        // not forced yet: the name is made durable by the first acknowledged chunk, or replaced by the
        // blob's own at commit — a session without a staging file after a power loss is handled
    }

    @Override
    public long uploadSize(UploadId id) throws IOException {
        try {
            return Files.size(uploadPath(id));
        } catch (NoSuchFileException e) {
            return -1;
        }
    }

    @Override
    public long append(UploadId id, long offset, InputStream data) throws IOException {
        return append(id, offset, data, true);
    }

    @Override
    public boolean fillsFromDirectSources() {
        return true; // DirectWriter's buffers, with O_DIRECT or without
    }

    @Override
    public long appendBeforeCommit(UploadId id, long offset, InputStream data) throws IOException {
        return append(id, offset, data, false);
    }

    /** @param acknowledged whether the chunk must be durable on return (else {@link #commitUpload} flushes it) */
    private long append(UploadId id, long offset, InputStream data, boolean acknowledged) throws IOException {
        Path file = uploadPath(id);
        if (offset == 0 && !Files.exists(file)) {
            createUpload(id); // the session row was written but the process stopped before the file
        }
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
            long staged = ch.size();
            if (staged < offset) {
                throw new StagedUploadLostException(id, staged, offset);
            }
            if (staged > offset) {
                ch.truncate(offset); // the remains of a chunk that was never acknowledged
            }
            ByteBuffer piece = pieces.acquire();
            try {
                long pos = DirectWriter.write(
                        file,
                        ch,
                        offset,
                        data,
                        piece.array(),
                        alignedPairs,
                        directIo,
                        fsync ? DirectWriter.FLUSH_BEHIND : 0,
                        sync);
                if (acknowledged) {
                    sync.data(file, ch);
                    if (offset == 0) {
                        sync.directory(uploads); // the staging file's name, once per upload
                    }
                }
                return pos;
            } finally {
                pieces.release(piece);
            }
        } catch (NoSuchFileException e) {
            throw new StagedUploadLostException(id, -1, offset);
        }
    }

    /** Writes through the page cache in small pieces, each written while it is still in the CPU cache. */
    static long writeBuffered(FileChannel ch, long offset, InputStream data, byte[] buf) throws IOException {
        ByteBuffer bb = ByteBuffer.wrap(buf);
        long pos = offset;
        int n;
        while ((n = data.read(buf, 0, buf.length)) >= 0) {
            bb.clear().limit(n);
            while (bb.hasRemaining()) {
                pos += ch.write(bb, pos);
            }
        }
        return pos;
    }

    @Override
    public void truncateUpload(UploadId id, long size) throws IOException {
        try (FileChannel ch = FileChannel.open(uploadPath(id), StandardOpenOption.WRITE)) {
            if (ch.size() > size) {
                ch.truncate(size);
            }
        } catch (NoSuchFileException e) {
            // nothing staged: nothing to drop
        }
    }

    @Override
    public Optional<Space> space() {
        try {
            FileStore fs = Files.getFileStore(uploads);
            return Optional.of(new Space(fs.getUsableSpace(), fs.getTotalSpace()));
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    @Override
    public InputStream openUpload(UploadId id) throws IOException {
        return Files.newInputStream(uploadPath(id));
    }

    @Override
    public boolean readsUploadsWhileWritten() {
        return true; // DirectWriter writes in order, and the page cache shows a write to every reader at once
    }

    @Override
    public InputStream openUpload(UploadId id, long offset, long length) throws IOException {
        return new FileRangeInputStream(
                FileChannel.open(uploadPath(id), StandardOpenOption.READ), offset, length, reads);
    }

    @Override
    public void commitUpload(UploadId id, Digest digest) throws IOException {
        Path source = uploadPath(id);
        Path target = blobPath(digest);
        // an existing file is replaced, never trusted: the staged bytes were just verified, while a
        // file left short by a crash or damaged on disk must be mendable by pushing it again
        // the bytes first (a no-op for chunks already flushed when acknowledged), then the name
        try (FileChannel ch = FileChannel.open(source, StandardOpenOption.READ)) {
            sync.data(source, ch);
        }
        createDirectories(target.getParent());
        FileChannel replaced = openIfExists(target);
        try {
            Files.move(source, target, StandardCopyOption.ATOMIC_MOVE);
        } catch (AtomicMoveNotSupportedException e) {
            throw new IOException("blob root and upload area must be on one filesystem", e);
        } finally {
            reclaimLater(replaced);
        }
        // the new name must be durable before the caller commits metadata that says the blob exists
        sync.directory(target.getParent());
    }

    private static FileChannel openIfExists(Path file) {
        try {
            return FileChannel.open(file, StandardOpenOption.READ);
        } catch (IOException e) {
            return null; // none there (or unreadable: then the rename frees it in line)
        }
    }

    /** How long a replaced file's blocks wait before they are freed. */
    static final long RECLAIM_DELAY_MILLIS = 1000;

    private static final ScheduledExecutorService RECLAIMER = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "berth-reclaim");
        t.setDaemon(true);
        return t;
    });

    /**
     * Closes the last handle on a file the rename has just unlinked, a second later and away from the
     * request: freeing a large file's blocks takes the filesystem tens of milliseconds
     * (figures: docs/benchmarks.md, "Behind the code"), and the journal commit that records it would hold up the request's own
     * flushes (the directory, the metadata) if it happened while they ran.
     */
    private static void reclaimLater(FileChannel replaced) {
        if (replaced != null) {
            RECLAIMER.schedule(
                    () -> {
                        try {
                            replaced.close();
                        } catch (IOException e) {
                            // the kernel frees the blocks when the process ends at the latest
                        }
                    },
                    RECLAIM_DELAY_MILLIS,
                    TimeUnit.MILLISECONDS);
        }
    }

    @Override
    public void deleteUpload(UploadId id) throws IOException {
        Files.deleteIfExists(uploadPath(id));
    }

    @Override
    public List<UploadId> listUploads() throws IOException {
        try (Stream<Path> files = Files.list(uploads)) {
            List<UploadId> out = new ArrayList<>();
            files.forEach(p -> {
                try {
                    out.add(new UploadId(p.getFileName().toString()));
                } catch (RuntimeException ignored) {
                    // not an upload of ours
                }
            });
            return out;
        }
    }

    @Override
    public void checkAvailable() throws IOException {
        if (!Files.isDirectory(blobs) || !Files.isWritable(uploads)) {
            throw new IOException("blob root " + root + " is not a writable directory");
        }
        try (Stream<Path> s = Files.list(uploads)) {
            s.findFirst();
        } catch (UncheckedIOException e) {
            throw e.getCause();
        }
    }

    @Override
    public void close() {
        // nothing held open
    }
}
