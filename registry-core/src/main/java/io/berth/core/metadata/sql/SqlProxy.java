package io.berth.core.metadata.sql;

import io.berth.core.metadata.CachedReferrers;
import io.berth.core.metadata.CachedRepository;
import io.berth.core.metadata.ProxyRecords;
import io.berth.core.model.Digest;
import io.berth.core.model.RepositoryName;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;

/** The SQL of {@link ProxyRecords}: tables {@code proxy_repositories}, {@code proxy_tags} and
 * {@code proxy_referrers}. */
final class SqlProxy implements ProxyRecords.Writes {
    private final SqlSession session;

    SqlProxy(SqlSession session) {
        this.session = session;
    }

    @Override
    public Optional<CachedRepository> repository(RepositoryName repository) {
        return session.queryOne(
                "SELECT repository, upstream, remote, created_at FROM proxy_repositories WHERE repository = ?",
                ps -> ps.setString(1, repository.value()),
                SqlProxy::cached);
    }

    @Override
    public List<CachedRepository> repositories(String after, int limit) {
        return session.query(
                "SELECT repository, upstream, remote, created_at FROM proxy_repositories WHERE repository > ?"
                        + " ORDER BY repository LIMIT ?",
                ps -> {
                    ps.setString(1, after == null ? "" : after);
                    ps.setInt(2, limit);
                },
                SqlProxy::cached);
    }

    private static CachedRepository cached(ResultSet rs) throws SQLException {
        return new CachedRepository(
                RepositoryName.of(rs.getString(1)), rs.getString(2), RepositoryName.of(rs.getString(3)), rs.getLong(4));
    }

    @Override
    public OptionalLong validatedAt(RepositoryName repository, String tag) {
        return session.queryOne(
                        "SELECT validated_at FROM proxy_tags WHERE repository = ? AND tag = ?",
                        ps -> {
                            ps.setString(1, repository.value());
                            ps.setString(2, tag);
                        },
                        rs -> rs.getLong(1))
                .map(OptionalLong::of)
                .orElse(OptionalLong.empty());
    }

    @Override
    public void ensureRepository(RepositoryName repository, String upstream, RepositoryName remote) {
        session.update(
                "INSERT INTO proxy_repositories (repository, upstream, remote, created_at) VALUES (?, ?, ?, ?)"
                        + " ON CONFLICT (repository) DO NOTHING",
                ps -> {
                    ps.setString(1, repository.value());
                    ps.setString(2, upstream);
                    ps.setString(3, remote.value());
                    ps.setLong(4, session.now());
                });
    }

    @Override
    public void validated(RepositoryName repository, String tag, long at) {
        session.update(
                "INSERT INTO proxy_tags (repository, tag, validated_at) VALUES (?, ?, ?)"
                        + " ON CONFLICT (repository, tag) DO UPDATE SET validated_at = excluded.validated_at",
                ps -> {
                    ps.setString(1, repository.value());
                    ps.setString(2, tag);
                    ps.setLong(3, at);
                });
    }

    @Override
    public boolean forgetTag(RepositoryName repository, String tag) {
        return session.update("DELETE FROM proxy_tags WHERE repository = ? AND tag = ?", ps -> {
                    ps.setString(1, repository.value());
                    ps.setString(2, tag);
                })
                > 0;
    }

    @Override
    public Optional<CachedReferrers> referrers(RepositoryName repository, Digest subject, String artifactType) {
        return session.queryOne(
                "SELECT payload, filtered, validated_at FROM proxy_referrers"
                        + " WHERE repository = ? AND subject = ? AND artifact_type = ?",
                ps -> {
                    ps.setString(1, repository.value());
                    ps.setString(2, subject.toString());
                    ps.setString(3, artifactType);
                },
                rs -> new CachedReferrers(rs.getBytes(1), rs.getInt(2) != 0, rs.getLong(3)));
    }

    @Override
    public void putReferrers(RepositoryName repository, Digest subject, String artifactType, CachedReferrers answer) {
        session.update(
                "INSERT INTO proxy_referrers (repository, subject, artifact_type, payload, filtered, validated_at)"
                        + " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (repository, subject, artifact_type) DO UPDATE"
                        + " SET payload = excluded.payload, filtered = excluded.filtered,"
                        + " validated_at = excluded.validated_at",
                ps -> {
                    ps.setString(1, repository.value());
                    ps.setString(2, subject.toString());
                    ps.setString(3, artifactType);
                    ps.setBytes(4, answer.index());
                    ps.setInt(5, answer.filtered() ? 1 : 0);
                    ps.setLong(6, answer.validatedAt());
                });
    }
}
