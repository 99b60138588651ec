package io.berth.core.metadata.sql;

import io.berth.core.metadata.UploadRecords;
import io.berth.core.metadata.UploadSession;
import io.berth.core.model.RepositoryName;
import io.berth.core.model.UploadId;
import java.util.List;
import java.util.Optional;

/** The SQL of {@link UploadRecords}. */
final class SqlUploads implements UploadRecords.Writes {
    private final SqlSession session;

    SqlUploads(SqlSession session) {
        this.session = session;
    }

    @Override
    public Optional<UploadSession> get(UploadId id) {
        return session.queryOne(
                "SELECT repository, size, started_at, updated_at, client FROM upload_sessions WHERE id = ?",
                ps -> ps.setString(1, id.value()),
                rs -> new UploadSession(
                        id,
                        RepositoryName.of(rs.getString(1)),
                        rs.getLong(2),
                        rs.getLong(3),
                        rs.getLong(4),
                        rs.getString(5)));
    }

    @Override
    public List<UploadSession> idleSince(long before) {
        return session.query(
                "SELECT id, repository, size, started_at, updated_at, client FROM upload_sessions"
                        + " WHERE updated_at < ?",
                ps -> ps.setLong(1, before),
                rs -> new UploadSession(
                        new UploadId(rs.getString(1)),
                        RepositoryName.of(rs.getString(2)),
                        rs.getLong(3),
                        rs.getLong(4),
                        rs.getLong(5),
                        rs.getString(6)));
    }

    @Override
    public boolean exists(UploadId id) {
        return session.queryOne(
                        "SELECT 1 FROM upload_sessions WHERE id = ?", ps -> ps.setString(1, id.value()), rs -> true)
                .isPresent();
    }

    @Override
    public long ofClient(String client) {
        return session.queryOne(
                        "SELECT COUNT(*) FROM upload_sessions WHERE client = ?",
                        ps -> ps.setString(1, client),
                        rs -> rs.getLong(1))
                .orElse(0L);
    }

    @Override
    public void create(UploadSession s) {
        session.update(
                "INSERT INTO upload_sessions (id, repository, size, started_at, updated_at, client)"
                        + " VALUES (?, ?, ?, ?, ?, ?)",
                ps -> {
                    ps.setString(1, s.id().value());
                    ps.setString(2, s.repository().value());
                    ps.setLong(3, s.size());
                    ps.setLong(4, s.startedAt());
                    ps.setLong(5, s.updatedAt());
                    ps.setString(6, s.client());
                });
    }

    @Override
    public boolean advance(UploadId id, long expectedSize, long newSize) {
        return session.update("UPDATE upload_sessions SET size = ?, updated_at = ? WHERE id = ? AND size = ?", ps -> {
                    ps.setLong(1, newSize);
                    ps.setLong(2, session.now());
                    ps.setString(3, id.value());
                    ps.setLong(4, expectedSize);
                })
                > 0;
    }

    @Override
    public boolean delete(UploadId id) {
        return session.update("DELETE FROM upload_sessions WHERE id = ?", ps -> ps.setString(1, id.value())) > 0;
    }
}
