package io.berth.core.metadata.sql;

import io.berth.core.metadata.MetadataException;
import io.berth.core.metadata.OutboxEvent;
import io.berth.core.metadata.OutboxRecords;
import io.berth.core.metadata.OutboxStats;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.List;

/** The SQL of {@link OutboxRecords}. */
final class SqlOutbox implements OutboxRecords.Writes {
    private final SqlSession session;

    SqlOutbox(SqlSession session) {
        this.session = session;
    }

    @Override
    public List<OutboxEvent> pending(int limit) {
        return session.query(
                "SELECT seq, id, repository, repo_seq, type, payload, created_at FROM event_outbox"
                        + " WHERE sent_at IS NULL ORDER BY seq LIMIT ?",
                ps -> ps.setInt(1, limit),
                rs -> new OutboxEvent(
                        rs.getLong(1),
                        rs.getString(2),
                        rs.getString(3),
                        rs.getLong(4),
                        rs.getString(5),
                        rs.getString(6),
                        rs.getLong(7)));
    }

    @Override
    public OutboxStats stats() {
        return session.queryOne(
                        "SELECT COUNT(*), MIN(created_at) FROM event_outbox WHERE sent_at IS NULL",
                        ps -> {},
                        rs -> new OutboxStats(rs.getLong(1), rs.getLong(2)))
                .orElse(new OutboxStats(0, 0));
    }

    @Override
    public void insert(OutboxEvent e) {
        session.update(
                "INSERT INTO event_outbox (seq, id, repository, repo_seq, type, payload, created_at)"
                        + " VALUES (?, ?, ?, ?, ?, ?, ?)",
                ps -> {
                    ps.setLong(1, e.seq());
                    ps.setString(2, e.id());
                    ps.setString(3, e.repository());
                    ps.setLong(4, e.repoSeq());
                    ps.setString(5, e.type());
                    ps.setString(6, e.payload());
                    ps.setLong(7, e.createdAt());
                });
    }

    @Override
    public int markSent(List<Long> seqs, long at) {
        return session.use(c -> {
            int n = 0;
            try (PreparedStatement ps =
                    c.prepareStatement("UPDATE event_outbox SET sent_at = ? WHERE seq = ? AND sent_at IS NULL")) {
                for (long seq : seqs) {
                    ps.setLong(1, at);
                    ps.setLong(2, seq);
                    ps.addBatch();
                }
                for (int r : ps.executeBatch()) {
                    n += Math.max(0, r);
                }
            } catch (SQLException e) {
                throw new MetadataException("update failed: mark events sent", e);
            }
            return n;
        });
    }

    @Override
    public int pruneSent(long before) {
        return session.update(
                "DELETE FROM event_outbox WHERE sent_at IS NOT NULL AND sent_at < ?", ps -> ps.setLong(1, before));
    }
}
