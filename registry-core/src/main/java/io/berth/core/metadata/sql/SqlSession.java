package io.berth.core.metadata.sql;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.berth.core.metadata.MetadataException;
import io.berth.core.model.Digest;
import io.berth.core.model.RepositoryName;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.function.LongSupplier;

/**
 * What the SQL classes of the metadata store share: where their statements run, the clock, and the
 * query, update and JSON helpers. In a transaction every statement runs on the transaction's
 * connection and {@link #now} is one value; outside one, a store's pool lends a connection for each
 * statement, in autocommit, so each statement reads committed state as it is then.
 * Public for store implementations in other modules (metadata-postgres).
 */
public final class SqlSession {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final TypeReference<Map<String, String>> STRING_MAP = new TypeReference<>() {};

    /** Where statements run: one connection for all of them, or one lent by a pool for each. */
    public interface Connections {
        /** Runs {@code work} on a connection; a failure to get or give back one is a {@link MetadataException}. */
        <T> T use(Work<T> work);
    }

    /** Statements on a connection; they report their own failures as {@link MetadataException}. */
    @FunctionalInterface
    public interface Work<T> {
        T on(Connection c);
    }

    @FunctionalInterface
    interface Binder {
        void bind(PreparedStatement ps) throws SQLException;
    }

    @FunctionalInterface
    interface RowMapper<T> {
        T map(ResultSet rs) throws SQLException;
    }

    private final Connections connections;
    private final LongSupplier now;

    private SqlSession(Connections connections, LongSupplier now) {
        this.connections = connections;
        this.now = now;
    }

    /** A transaction's session: every statement on {@code connection}, every row stamped {@code now}. */
    static SqlSession of(Connection connection, long now) {
        return new SqlSession(
                new Connections() {
                    @Override
                    public <T> T use(Work<T> work) {
                        return work.on(connection);
                    }
                },
                () -> now);
    }

    /** Reads outside transactions: each statement on a connection {@code pool} lends, in autocommit. */
    public static SqlSession pooled(Connections pool, LongSupplier clock) {
        return new SqlSession(pool, clock);
    }

    long now() {
        return now.getAsLong();
    }

    <T> T use(Work<T> work) {
        return connections.use(work);
    }

    <T> List<T> query(String sql, Binder binder, RowMapper<T> mapper) {
        return connections.use(c -> {
            try (PreparedStatement ps = c.prepareStatement(sql)) {
                binder.bind(ps);
                try (ResultSet rs = ps.executeQuery()) {
                    List<T> out = new ArrayList<>();
                    while (rs.next()) {
                        out.add(mapper.map(rs));
                    }
                    return out;
                }
            } catch (SQLException e) {
                throw new MetadataException("query failed: " + sql, e);
            }
        });
    }

    <T> Optional<T> queryOne(String sql, Binder binder, RowMapper<T> mapper) {
        List<T> rows = query(sql, binder, mapper);
        return rows.isEmpty() ? Optional.empty() : Optional.of(rows.get(0));
    }

    int update(String sql, Binder binder) {
        return connections.use(c -> {
            try (PreparedStatement ps = c.prepareStatement(sql)) {
                binder.bind(ps);
                return ps.executeUpdate();
            } catch (SQLException e) {
                throw new MetadataException("update failed: " + sql, e);
            }
        });
    }

    /** When the row of {@code table} (manifests, repository_blobs) was last pulled, if ever. */
    OptionalLong lastPulled(String table, RepositoryName repository, Digest digest) {
        return queryOne(
                        "SELECT last_pulled_at FROM " + table + " WHERE repository = ? AND digest = ?",
                        ps -> {
                            ps.setString(1, repository.value());
                            ps.setString(2, digest.toString());
                        },
                        rs -> {
                            long v = rs.getLong(1);
                            return rs.wasNull() ? OptionalLong.empty() : OptionalLong.of(v);
                        })
                .orElse(OptionalLong.empty());
    }

    static String json(Map<String, String> annotations) {
        if (annotations.isEmpty()) {
            return null;
        }
        try {
            return JSON.writeValueAsString(annotations);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    static Map<String, String> annotations(String json) {
        if (json == null) {
            return Map.of();
        }
        try {
            return JSON.readValue(json, STRING_MAP);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("stored annotations are not JSON", e);
        }
    }

    static Optional<Digest> digest(String s) {
        return s == null ? Optional.empty() : Optional.of(Digest.parse(s));
    }

    static OptionalLong optionalLong(ResultSet rs, int column) throws SQLException {
        long v = rs.getLong(column);
        return rs.wasNull() ? OptionalLong.empty() : OptionalLong.of(v);
    }
}
