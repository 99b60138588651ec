package io.berth.core.metadata.sql;

import io.berth.core.metadata.MetadataException;
import io.berth.core.metadata.OutboxEvent;
import io.berth.core.metadata.OutboxRange;
import io.berth.core.metadata.OutboxRecords;
import io.berth.core.metadata.OutboxStats;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Types;
import java.util.List;
import java.util.OptionalLong;

/** The SQL of {@link OutboxRecords}. */
final class SqlOutbox implements OutboxRecords.Writes {
    private final SqlSession session;

    SqlOutbox(SqlSession session) {
        this.session = session;
    }

    private static final String COLUMNS = "seq, id, repository, repo_seq, type, payload, created_at";

    private static OutboxEvent event(ResultSet rs) throws SQLException {
        return new OutboxEvent(
                rs.getLong(1),
                rs.getString(2),
                rs.getString(3),
                rs.getLong(4),
                rs.getString(5),
                rs.getString(6),
                rs.getLong(7));
    }

    @Override
    public List<OutboxEvent> pending(int limit) {
        return session.query(
                "SELECT " + COLUMNS + " FROM event_outbox WHERE sent_at IS NULL ORDER BY seq LIMIT ?",
                ps -> ps.setInt(1, limit),
                SqlOutbox::event);
    }

    @Override
    public List<OutboxEvent> after(long seq, int limit) {
        return session.query(
                "SELECT " + COLUMNS + " FROM event_outbox WHERE seq > ? ORDER BY seq LIMIT ?",
                ps -> {
                    ps.setLong(1, seq);
                    ps.setInt(2, limit);
                },
                SqlOutbox::event);
    }

    @Override
    public OptionalLong firstSince(long epochMillis) {
        // no index on created_at: one scan of what retention keeps, once per reader's start
        return session.queryOne(
                        "SELECT MIN(seq) FROM event_outbox WHERE created_at >= ?",
                        ps -> ps.setLong(1, epochMillis),
                        rs -> {
                            long seq = rs.getLong(1);
                            return rs.wasNull() ? OptionalLong.empty() : OptionalLong.of(seq);
                        })
                .orElse(OptionalLong.empty());
    }

    @Override
    public OutboxRange range() {
        // the counter first: every number it handed out by then is committed or rolled back, so a
        // number below it that is missing from the table was pruned
        long last = session.queryOne(
                        "SELECT value FROM sequences WHERE name = ?",
                        ps -> ps.setString(1, SEQUENCE),
                        rs -> rs.getLong(1))
                .orElse(0L);
        return session.queryOne(
                        "SELECT seq, created_at FROM event_outbox ORDER BY seq LIMIT 1",
                        ps -> {},
                        rs -> new OutboxRange(rs.getLong(1), rs.getLong(2), last))
                .orElse(new OutboxRange(0, 0, last));
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
    public void insert(OutboxEvent e, boolean publish) {
        session.update(
                "INSERT INTO event_outbox (seq, id, repository, repo_seq, type, payload, created_at, sent_at)"
                        + " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                ps -> {
                    ps.setLong(1, e.seq());
                    ps.setString(2, e.id());
                    ps.setString(3, e.repository());
                    ps.setLong(4, e.repoSeq());
                    ps.setString(5, e.type());
                    ps.setString(6, e.payload());
                    ps.setLong(7, e.createdAt());
                    if (publish) {
                        ps.setNull(8, Types.BIGINT);
                    } else {
                        ps.setLong(8, e.createdAt());
                    }
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
