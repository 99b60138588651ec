package io.berth.core.metadata.sql;

import io.berth.core.metadata.BlobRecords;
import io.berth.core.metadata.LinkedBlob;
import io.berth.core.model.Digest;
import io.berth.core.model.RepositoryName;
import java.util.List;
import java.util.OptionalLong;

/** The SQL of {@link BlobRecords}. */
final class SqlBlobs implements BlobRecords.Writes {
    private final SqlSession session;

    SqlBlobs(SqlSession session) {
        this.session = session;
    }

    @Override
    public OptionalLong size(Digest digest) {
        return session.queryOne(
                        "SELECT size FROM blobs WHERE digest = ?",
                        ps -> ps.setString(1, digest.toString()),
                        rs -> rs.getLong(1))
                .map(OptionalLong::of)
                .orElse(OptionalLong.empty());
    }

    @Override
    public boolean linked(RepositoryName repository, Digest digest) {
        return session.queryOne(
                        "SELECT 1 FROM repository_blobs WHERE repository = ? AND digest = ?",
                        ps -> {
                            ps.setString(1, repository.value());
                            ps.setString(2, digest.toString());
                        },
                        rs -> true)
                .isPresent();
    }

    @Override
    public OptionalLong linkedSize(RepositoryName repository, Digest digest) {
        return session.queryOne(
                        "SELECT b.size FROM repository_blobs rb JOIN blobs b ON b.digest = rb.digest"
                                + " WHERE rb.repository = ? AND rb.digest = ?",
                        ps -> {
                            ps.setString(1, repository.value());
                            ps.setString(2, digest.toString());
                        },
                        rs -> rs.getLong(1))
                .map(OptionalLong::of)
                .orElse(OptionalLong.empty());
    }

    @Override
    public boolean linkedAnywhere(Digest digest) {
        return session.queryOne(
                        "SELECT 1 FROM repository_blobs WHERE digest = ? LIMIT 1",
                        ps -> ps.setString(1, digest.toString()),
                        rs -> true)
                .isPresent();
    }

    @Override
    public OptionalLong lastPulled(RepositoryName repository, Digest digest) {
        return session.lastPulled("repository_blobs", repository, digest);
    }

    @Override
    public List<LinkedBlob> linkedTo(RepositoryName repository, String after, int limit) {
        return session.query(
                "SELECT rb.digest, COALESCE(b.size, 0), rb.linked_at, rb.last_pulled_at FROM repository_blobs rb"
                        + " LEFT JOIN blobs b ON b.digest = rb.digest WHERE rb.repository = ? AND rb.digest > ?"
                        + " ORDER BY rb.digest LIMIT ?",
                ps -> {
                    ps.setString(1, repository.value());
                    ps.setString(2, after == null ? "" : after);
                    ps.setInt(3, limit);
                },
                rs -> {
                    long pulled = rs.getLong(4);
                    OptionalLong lastPulled = rs.wasNull() ? OptionalLong.empty() : OptionalLong.of(pulled);
                    return new LinkedBlob(Digest.parse(rs.getString(1)), rs.getLong(2), rs.getLong(3), lastPulled);
                });
    }

    @Override
    public void put(Digest digest, long size) {
        session.update(
                "INSERT INTO blobs (digest, size, created_at) VALUES (?, ?, ?) ON CONFLICT (digest) DO NOTHING", ps -> {
                    ps.setString(1, digest.toString());
                    ps.setLong(2, size);
                    ps.setLong(3, session.now());
                });
    }

    @Override
    public void link(RepositoryName repository, Digest digest) {
        session.update(
                "INSERT INTO repository_blobs (repository, digest, linked_at) VALUES (?, ?, ?)"
                        + " ON CONFLICT (repository, digest) DO UPDATE SET linked_at = excluded.linked_at",
                ps -> {
                    ps.setString(1, repository.value());
                    ps.setString(2, digest.toString());
                    ps.setLong(3, session.now());
                });
    }

    @Override
    public boolean unlink(RepositoryName repository, Digest digest) {
        return session.update("DELETE FROM repository_blobs WHERE repository = ? AND digest = ?", ps -> {
                    ps.setString(1, repository.value());
                    ps.setString(2, digest.toString());
                })
                > 0;
    }

    @Override
    public void recordPull(RepositoryName repository, Digest digest, long at) {
        session.update(
                "UPDATE repository_blobs SET last_pulled_at = ? WHERE repository = ? AND digest = ?"
                        + " AND (last_pulled_at IS NULL OR last_pulled_at < ?)",
                ps -> {
                    ps.setLong(1, at);
                    ps.setString(2, repository.value());
                    ps.setString(3, digest.toString());
                    ps.setLong(4, at);
                });
    }
}
