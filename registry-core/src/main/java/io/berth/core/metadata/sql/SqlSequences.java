package io.berth.core.metadata.sql;

/** Named counters (outbox order, a repository's events, the order of immutability rules). */
final class SqlSequences {
    private final SqlSession session;

    SqlSequences(SqlSession session) {
        this.session = session;
    }

    /** The next value of a counter (1 for a new counter); counts only if the transaction commits. */
    long next(String name) {
        session.update(
                "INSERT INTO sequences (name, value) VALUES (?, 1) ON CONFLICT (name) DO UPDATE SET value = sequences.value + 1",
                ps -> ps.setString(1, name));
        return session.queryOne(
                        "SELECT value FROM sequences WHERE name = ?", ps -> ps.setString(1, name), rs -> rs.getLong(1))
                .orElseThrow();
    }
}
