package io.berth.core.metadata.sql;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Arrays;
import java.util.List;

/**
 * Applies the schema migrations under {@code migrations/} in order, each in its own transaction,
 * recording them (version and name) in {@code schema_migrations}. A migration is never edited once
 * released: schema changes are new files appended to {@link #ALL}. A migration may have a
 * dialect's own file ({@code V6__byte_order.postgres.sql}) beside the portable one. A database
 * whose recorded names differ from this build's is refused. On PostgreSQL, instances starting at
 * once migrate one after the other under an advisory lock.
 * Public for store implementations in other modules (metadata-postgres).
 */
public final class Migrations {
    static final List<String> ALL = List.of(
            "V1__initial",
            "V2__upload_clients",
            "V3__event_outbox",
            "V4__admin",
            "V5__robots",
            "V6__byte_order",
            "V7__proxy_cache",
            "V8__proxy_referrers");
    /** The advisory lock key PostgreSQL instances take while migrating ("berth" in ASCII). */
    static final long ADVISORY_LOCK = 0x6265727468L;

    private Migrations() {}

    /** For store implementations: brings the database up to this build's schema in {@code dialect}. */
    public static void apply(Connection c, String dialect) throws SQLException {
        boolean auto = c.getAutoCommit();
        boolean postgres = dialect.equals("postgres");
        if (postgres) {
            c.setAutoCommit(true);
            try (Statement s = c.createStatement()) {
                s.execute("SELECT pg_advisory_lock(" + ADVISORY_LOCK + ")");
            }
        }
        c.setAutoCommit(false);
        try {
            try (Statement s = c.createStatement()) {
                s.executeUpdate("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER NOT NULL PRIMARY KEY,"
                        + " name VARCHAR(200) NOT NULL, applied_at BIGINT NOT NULL)");
            }
            c.commit();
            int current = 0;
            try (Statement s = c.createStatement();
                    ResultSet rs = s.executeQuery("SELECT version, name FROM schema_migrations ORDER BY version")) {
                while (rs.next()) {
                    current = rs.getInt(1);
                    if (current > ALL.size()) {
                        throw new SQLException("database schema version " + current
                                + " is newer than this build understands (" + ALL.size() + ")");
                    }
                    if (!ALL.get(current - 1).equals(rs.getString(2))) {
                        throw new SQLException("database schema version " + current + " is '" + rs.getString(2)
                                + "', this build's is '" + ALL.get(current - 1) + "': another build migrated it");
                    }
                }
            }
            for (int v = current + 1; v <= ALL.size(); v++) {
                String name = ALL.get(v - 1);
                try (Statement s = c.createStatement()) {
                    for (String statement : statements(read(name, dialect))) {
                        s.executeUpdate(statement);
                    }
                }
                try (PreparedStatement ps = c.prepareStatement(
                        "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)")) {
                    ps.setInt(1, v);
                    ps.setString(2, name);
                    ps.setLong(3, System.currentTimeMillis());
                    ps.executeUpdate();
                }
                c.commit();
            }
        } catch (SQLException | RuntimeException e) {
            c.rollback();
            throw e;
        } finally {
            if (postgres) {
                c.setAutoCommit(true);
                try (Statement s = c.createStatement()) {
                    s.execute("SELECT pg_advisory_unlock(" + ADVISORY_LOCK + ")");
                }
            }
            c.setAutoCommit(auto);
        }
    }

    /** A migration's script: the dialect's own file when there is one, else the portable one. */
    private static String read(String name, String dialect) {
        String own = name + "." + dialect;
        return Migrations.class.getResource("migrations/" + own + ".sql") != null ? read(own) : read(name);
    }

    private static String read(String name) {
        try (InputStream in = Migrations.class.getResourceAsStream("migrations/" + name + ".sql")) {
            if (in == null) {
                throw new IllegalStateException("missing migration " + name);
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new IllegalStateException("cannot read migration " + name, e);
        }
    }

    /** Splits a script on semicolons ending a line, dropping {@code --} comment lines. */
    static List<String> statements(String script) {
        StringBuilder cleaned = new StringBuilder();
        for (String line : script.split("\n")) {
            if (!line.strip().startsWith("--")) {
                cleaned.append(line).append('\n');
            }
        }
        return Arrays.stream(cleaned.toString().split(";\\s*\n"))
                .map(String::strip)
                .filter(s -> !s.isEmpty())
                .toList();
    }
}
