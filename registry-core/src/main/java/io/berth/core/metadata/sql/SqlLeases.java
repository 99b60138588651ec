package io.berth.core.metadata.sql;

import io.berth.core.metadata.Leases;

/** The SQL of {@link Leases}. */
final class SqlLeases implements Leases {
    private final SqlSession session;

    SqlLeases(SqlSession session) {
        this.session = session;
    }

    @Override
    public boolean acquire(String name, String owner, long until) {
        session.update(
                "INSERT INTO leases (name, owner, expires_at) VALUES (?, ?, ?) ON CONFLICT (name) DO UPDATE"
                        + " SET owner = excluded.owner, expires_at = excluded.expires_at"
                        + " WHERE leases.owner = excluded.owner OR leases.expires_at < ?",
                ps -> {
                    ps.setString(1, name);
                    ps.setString(2, owner);
                    ps.setLong(3, until);
                    ps.setLong(4, session.now());
                });
        return session.queryOne(
                        "SELECT owner FROM leases WHERE name = ?", ps -> ps.setString(1, name), rs -> rs.getString(1))
                .map(owner::equals)
                .orElse(false);
    }
}
