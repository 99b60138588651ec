package io.berth.core.metadata.sql;

import io.berth.core.metadata.ImmutabilityRecords;
import io.berth.core.metadata.ImmutabilityRuleRecord;
import java.util.List;

/** The SQL of {@link ImmutabilityRecords}; rules keep their order through a counter of {@link SqlSequences}. */
final class SqlImmutability implements ImmutabilityRecords.Writes {
    private final SqlSession session;
    private final SqlSequences sequences;

    SqlImmutability(SqlSession session, SqlSequences sequences) {
        this.session = session;
        this.sequences = sequences;
    }

    @Override
    public List<ImmutabilityRuleRecord> rules() {
        return session.query(
                "SELECT id, repositories, tags, created_at FROM immutability_rules ORDER BY position",
                ps -> {},
                rs -> new ImmutabilityRuleRecord(rs.getString(1), rs.getString(2), rs.getString(3), rs.getLong(4)));
    }

    @Override
    public void insert(ImmutabilityRuleRecord rule) {
        long position = sequences.next("immutability-rules");
        session.update(
                "INSERT INTO immutability_rules (id, position, repositories, tags, created_at) VALUES (?, ?, ?, ?, ?)",
                ps -> {
                    ps.setString(1, rule.id());
                    ps.setLong(2, position);
                    ps.setString(3, rule.repositories());
                    ps.setString(4, rule.tags());
                    ps.setLong(5, rule.createdAt());
                });
    }

    @Override
    public boolean delete(String id) {
        return session.update("DELETE FROM immutability_rules WHERE id = ?", ps -> ps.setString(1, id)) > 0;
    }
}
