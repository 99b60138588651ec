package io.berth.core.metadata;

import io.berth.core.model.Digest;
import io.berth.core.model.RepositoryName;
import io.berth.core.model.UploadId;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Function;

/**
 * {@link MetadataStore} on an SQLite file in WAL mode: one writer connection (SQLite admits one
 * writer at a time, so writes are serialised here rather than retried on SQLITE_BUSY) and a small
 * pool of reader connections that never block on the writer.
 */
public final class SqliteMetadataStore implements MetadataStore {
    private static final int READERS = 8;

    private final String url;
    private final Connection writer;
    private final ReentrantLock writeLock = new ReentrantLock();
    private final BlockingQueue<Connection> readers = new ArrayBlockingQueue<>(READERS);
    private final List<Connection> all = new ArrayList<>();
    private volatile boolean closed;

    public SqliteMetadataStore(Path file) {
        try {
            Path parent = file.toAbsolutePath().getParent();
            if (parent != null) {
                Files.createDirectories(parent);
            }
            this.url = "jdbc:sqlite:" + file.toAbsolutePath();
            this.writer = open();
            try (Statement s = writer.createStatement()) {
                s.execute("PRAGMA journal_mode=WAL");
            }
            Migrations.apply(writer);
            for (int i = 0; i < READERS; i++) {
                readers.add(open());
            }
        } catch (SQLException | java.io.IOException e) {
            close();
            throw new MetadataException("cannot open SQLite metadata at " + file + ": " + e.getMessage(), e);
        }
    }

    private Connection open() throws SQLException {
        Connection c = DriverManager.getConnection(url);
        all.add(c);
        try (Statement s = c.createStatement()) {
            s.execute("PRAGMA busy_timeout=10000");
            // FULL: a committed push survives power loss, not only a crash of the process.
            s.execute("PRAGMA synchronous=FULL");
            s.execute("PRAGMA foreign_keys=OFF");
        }
        return c;
    }

    @Override
    public String kind() {
        return "sqlite";
    }

    @Override
    public <T> T inTransaction(Work<T> work) {
        writeLock.lock();
        try {
            ensureOpen();
            writer.setAutoCommit(false);
            try {
                T result = work.run(new SqlMetadata(writer, System.currentTimeMillis()));
                writer.commit();
                return result;
            } catch (RuntimeException | Error e) {
                writer.rollback();
                throw e;
            } finally {
                writer.setAutoCommit(true);
            }
        } catch (SQLException e) {
            throw new MetadataException("transaction failed: " + e.getMessage(), e);
        } finally {
            writeLock.unlock();
        }
    }

    private <T> T read(Function<MetadataReads, T> query) {
        ensureOpen();
        Connection c;
        try {
            c = readers.take();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new MetadataException("interrupted waiting for a connection", e);
        }
        try {
            return query.apply(new SqlMetadata(c, System.currentTimeMillis()));
        } finally {
            readers.add(c);
        }
    }

    private void ensureOpen() {
        if (closed) {
            throw new MetadataException("metadata store is closed", null);
        }
    }

    @Override
    public void checkAvailable() {
        read(MetadataReads::repositoryCount);
    }

    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        writeLock.lock();
        try {
            for (Connection c : all) {
                try {
                    c.close();
                } catch (SQLException ignored) {
                    // closing anyway
                }
            }
        } finally {
            writeLock.unlock();
        }
    }

    // ---- reads, each on a pooled reader connection

    @Override
    public boolean repositoryExists(RepositoryName repository) {
        return read(q -> q.repositoryExists(repository));
    }

    @Override
    public long repositoryCount() {
        return read(MetadataReads::repositoryCount);
    }

    @Override
    public List<String> repositories(String after, int limit) {
        return read(q -> q.repositories(after, limit));
    }

    @Override
    public OptionalLong blobSize(Digest digest) {
        return read(q -> q.blobSize(digest));
    }

    @Override
    public boolean blobLinked(RepositoryName repository, Digest digest) {
        return read(q -> q.blobLinked(repository, digest));
    }

    @Override
    public OptionalLong linkedBlobSize(RepositoryName repository, Digest digest) {
        return read(q -> q.linkedBlobSize(repository, digest));
    }

    @Override
    public boolean blobLinkedAnywhere(Digest digest) {
        return read(q -> q.blobLinkedAnywhere(digest));
    }

    @Override
    public Optional<ManifestRecord> manifest(RepositoryName repository, Digest digest) {
        return read(q -> q.manifest(repository, digest));
    }

    @Override
    public Optional<Digest> manifestReferencingBlob(RepositoryName repository, Digest blob) {
        return read(q -> q.manifestReferencingBlob(repository, blob));
    }

    @Override
    public Optional<Digest> indexReferencingManifest(RepositoryName repository, Digest child) {
        return read(q -> q.indexReferencingManifest(repository, child));
    }

    @Override
    public boolean manifestExists(RepositoryName repository, Digest digest) {
        return read(q -> q.manifestExists(repository, digest));
    }

    @Override
    public Optional<Digest> tag(RepositoryName repository, String tag) {
        return read(q -> q.tag(repository, tag));
    }

    @Override
    public List<String> tags(RepositoryName repository, String after, int limit) {
        return read(q -> q.tags(repository, after, limit));
    }

    @Override
    public List<String> tagsOf(RepositoryName repository, Digest manifest) {
        return read(q -> q.tagsOf(repository, manifest));
    }

    @Override
    public List<TagChange> tagHistory(RepositoryName repository, String tag) {
        return read(q -> q.tagHistory(repository, tag));
    }

    @Override
    public List<ReferrerRecord> referrers(RepositoryName repository, Digest subject, String artifactType) {
        return read(q -> q.referrers(repository, subject, artifactType));
    }

    @Override
    public OptionalLong blobLastPulled(RepositoryName repository, Digest digest) {
        return read(q -> q.blobLastPulled(repository, digest));
    }

    @Override
    public OptionalLong manifestLastPulled(RepositoryName repository, Digest digest) {
        return read(q -> q.manifestLastPulled(repository, digest));
    }

    @Override
    public Optional<UploadSession> upload(UploadId id) {
        return read(q -> q.upload(id));
    }

    @Override
    public List<UploadSession> uploadsIdleSince(long before) {
        return read(q -> q.uploadsIdleSince(before));
    }

    @Override
    public boolean uploadExists(UploadId id) {
        return read(q -> q.uploadExists(id));
    }
}
