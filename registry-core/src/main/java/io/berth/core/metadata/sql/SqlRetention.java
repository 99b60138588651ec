package io.berth.core.metadata.sql;

import static io.berth.core.metadata.sql.SqlSession.optionalLong;

import io.berth.core.metadata.RetentionRecords;
import io.berth.core.metadata.StoredRetentionPlan;
import io.berth.core.metadata.StoredRetentionPolicy;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.List;
import java.util.Optional;

/** The SQL of {@link RetentionRecords}. */
final class SqlRetention implements RetentionRecords.Writes {
    private static final String POLICY_COLUMNS =
            "SELECT name, spec, created_at, updated_at, last_run_at, last_run" + " FROM retention_policies";

    private final SqlSession session;

    SqlRetention(SqlSession session) {
        this.session = session;
    }

    private static StoredRetentionPolicy policy(ResultSet rs) throws SQLException {
        return new StoredRetentionPolicy(
                rs.getString(1),
                rs.getString(2),
                rs.getLong(3),
                rs.getLong(4),
                optionalLong(rs, 5),
                rs.getString(6) == null ? "" : rs.getString(6));
    }

    @Override
    public List<StoredRetentionPolicy> policies() {
        return session.query(POLICY_COLUMNS + " ORDER BY name", ps -> {}, SqlRetention::policy);
    }

    @Override
    public Optional<StoredRetentionPolicy> policy(String name) {
        return session.queryOne(POLICY_COLUMNS + " WHERE name = ?", ps -> ps.setString(1, name), SqlRetention::policy);
    }

    @Override
    public boolean putPolicy(String name, String spec) {
        boolean existed = policy(name).isPresent();
        session.update(
                "INSERT INTO retention_policies (name, spec, created_at, updated_at) VALUES (?, ?, ?, ?)"
                        + " ON CONFLICT (name) DO UPDATE SET spec = excluded.spec, updated_at = excluded.updated_at",
                ps -> {
                    ps.setString(1, name);
                    ps.setString(2, spec);
                    ps.setLong(3, session.now());
                    ps.setLong(4, session.now());
                });
        return !existed;
    }

    @Override
    public boolean deletePolicy(String name) {
        return session.update("DELETE FROM retention_policies WHERE name = ?", ps -> ps.setString(1, name)) > 0;
    }

    @Override
    public void recordRun(String name, String summary) {
        session.update("UPDATE retention_policies SET last_run_at = ?, last_run = ? WHERE name = ?", ps -> {
            ps.setLong(1, session.now());
            ps.setString(2, summary);
            ps.setString(3, name);
        });
    }

    @Override
    public Optional<StoredRetentionPlan> plan(String id) {
        return session.queryOne(
                "SELECT id, policy, created_at, items FROM retention_plans WHERE id = ?",
                ps -> ps.setString(1, id),
                rs -> new StoredRetentionPlan(rs.getString(1), rs.getString(2), rs.getLong(3), rs.getString(4)));
    }

    @Override
    public void insertPlan(StoredRetentionPlan plan) {
        session.update("INSERT INTO retention_plans (id, policy, created_at, items) VALUES (?, ?, ?, ?)", ps -> {
            ps.setString(1, plan.id());
            ps.setString(2, plan.policy());
            ps.setLong(3, plan.createdAt());
            ps.setString(4, plan.items());
        });
    }

    @Override
    public int prunePlans(long before) {
        return session.update("DELETE FROM retention_plans WHERE created_at < ?", ps -> ps.setLong(1, before));
    }
}
