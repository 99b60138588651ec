package io.berth.core.metadata.sql;

import static io.berth.core.metadata.sql.SqlSession.optionalLong;

import io.berth.core.metadata.RepositoryRecords;
import io.berth.core.metadata.RepositoryStats;
import io.berth.core.model.ChangeOrigin;
import io.berth.core.model.RepositoryName;
import java.util.List;
import java.util.OptionalLong;

/** The SQL of {@link RepositoryRecords}; deleting a repository records its tags' deletion through {@link SqlTags}. */
final class SqlRepositories implements RepositoryRecords.Writes {
    private final SqlSession session;
    private final SqlTags tags;

    SqlRepositories(SqlSession session, SqlTags tags) {
        this.session = session;
        this.tags = tags;
    }

    @Override
    public boolean exists(RepositoryName repository) {
        return session.queryOne(
                        "SELECT 1 FROM repositories WHERE name = ?",
                        ps -> ps.setString(1, repository.value()),
                        rs -> true)
                .isPresent();
    }

    @Override
    public long count() {
        return session.queryOne("SELECT COUNT(*) FROM repositories", ps -> {}, rs -> rs.getLong(1))
                .orElse(0L);
    }

    @Override
    public List<String> names(String after, int limit) {
        return session.query(
                "SELECT name FROM repositories WHERE name > ? ORDER BY name LIMIT ?",
                ps -> {
                    ps.setString(1, after == null ? "" : after);
                    ps.setInt(2, limit);
                },
                rs -> rs.getString(1));
    }

    @Override
    public List<String> names(String prefix, String after, int limit) {
        String p = prefix == null ? "" : prefix;
        // names (ASCII) starting with the prefix are those >= prefix and < prefix + U+FFFF
        return session.query(
                "SELECT name FROM repositories WHERE name >= ? AND name < ? AND name > ? ORDER BY name LIMIT ?",
                ps -> {
                    ps.setString(1, p);
                    ps.setString(2, p + "\uffff");
                    ps.setString(3, after == null ? "" : after);
                    ps.setInt(4, limit);
                },
                rs -> rs.getString(1));
    }

    @Override
    public RepositoryStats stats(RepositoryName repository) {
        String r = repository.value();
        long tags = this.tags.count(repository);
        record M(long count, long size, OptionalLong pushed, OptionalLong pulled) {}
        M m = session.queryOne(
                        "SELECT COUNT(*), COALESCE(SUM(size), 0), MAX(pushed_at), MAX(last_pulled_at) FROM manifests"
                                + " WHERE repository = ?",
                        ps -> ps.setString(1, r),
                        rs -> new M(rs.getLong(1), rs.getLong(2), optionalLong(rs, 3), optionalLong(rs, 4)))
                .orElseThrow();
        long blobs = session.queryOne(
                        "SELECT COALESCE(SUM(b.size), 0) FROM repository_blobs rb JOIN blobs b"
                                + " ON b.digest = rb.digest WHERE rb.repository = ?",
                        ps -> ps.setString(1, r),
                        rs -> rs.getLong(1))
                .orElse(0L);
        long unique = session.queryOne(
                        "SELECT COALESCE(SUM(b.size), 0) FROM repository_blobs rb JOIN blobs b"
                                + " ON b.digest = rb.digest WHERE rb.repository = ? AND NOT EXISTS (SELECT 1 FROM repository_blobs o"
                                + " WHERE o.digest = rb.digest AND o.repository <> rb.repository)",
                        ps -> ps.setString(1, r),
                        rs -> rs.getLong(1))
                .orElse(0L);
        OptionalLong tagPushed = session.queryOne(
                        "SELECT MAX(pushed_at) FROM tags WHERE repository = ?",
                        ps -> ps.setString(1, r),
                        rs -> optionalLong(rs, 1))
                .orElse(OptionalLong.empty());
        OptionalLong lastPush = m.pushed().isPresent() && tagPushed.isPresent()
                ? OptionalLong.of(Math.max(m.pushed().getAsLong(), tagPushed.getAsLong()))
                : m.pushed().isPresent() ? m.pushed() : tagPushed;
        return new RepositoryStats(tags, m.count(), blobs + m.size(), unique + m.size(), lastPush, m.pulled());
    }

    @Override
    public void ensure(RepositoryName repository) {
        session.update(
                "INSERT INTO repositories (name, created_at) VALUES (?, ?) ON CONFLICT (name) DO NOTHING", ps -> {
                    ps.setString(1, repository.value());
                    ps.setLong(2, session.now());
                });
    }

    @Override
    public boolean delete(RepositoryName repository, ChangeOrigin origin) {
        String r = repository.value();
        boolean existed = session.queryOne(
                        "SELECT 1 FROM repositories WHERE name = ?", ps -> ps.setString(1, r), rs -> true)
                .isPresent();
        for (String tag : tags.ofRepository(repository)) {
            tags.delete(repository, tag, origin);
        }
        for (String table : List.of(
                "manifest_blobs",
                "manifest_children",
                "manifests",
                "repository_blobs",
                "upload_sessions",
                "proxy_tags",
                "proxy_referrers",
                "proxy_repositories")) {
            session.update("DELETE FROM " + table + " WHERE repository = ?", ps -> ps.setString(1, r));
        }
        session.update("DELETE FROM repositories WHERE name = ?", ps -> ps.setString(1, r));
        return existed;
    }
}
