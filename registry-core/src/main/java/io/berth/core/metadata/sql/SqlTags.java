package io.berth.core.metadata.sql;

import static io.berth.core.metadata.sql.SqlSession.digest;
import static io.berth.core.metadata.sql.SqlSession.optionalLong;

import io.berth.core.metadata.TagChange;
import io.berth.core.metadata.TagRecord;
import io.berth.core.metadata.TagRecords;
import io.berth.core.model.ChangeOrigin;
import io.berth.core.model.Digest;
import io.berth.core.model.RepositoryName;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.List;
import java.util.Optional;

/**
 * The SQL of {@link TagRecords}; portable as the rest (row-value comparisons for keyset paging work
 * in SQLite 3.15+ and PostgreSQL).
 */
final class SqlTags implements TagRecords.Writes {
    private static final String TAG_COLUMNS = "SELECT t.name, t.manifest_digest, m.media_type, m.size, t.pushed_at,"
            + " m.last_pulled_at FROM tags t JOIN manifests m ON m.repository = t.repository"
            + " AND m.digest = t.manifest_digest";

    private final SqlSession session;

    SqlTags(SqlSession session) {
        this.session = session;
    }

    private static TagRecord tagRecord(ResultSet rs) throws SQLException {
        return new TagRecord(
                rs.getString(1),
                Digest.parse(rs.getString(2)),
                rs.getString(3),
                rs.getLong(4),
                rs.getLong(5),
                optionalLong(rs, 6));
    }

    @Override
    public Optional<Digest> target(RepositoryName repository, String tag) {
        return session.queryOne(
                "SELECT manifest_digest FROM tags WHERE repository = ? AND name = ?",
                ps -> {
                    ps.setString(1, repository.value());
                    ps.setString(2, tag);
                },
                rs -> Digest.parse(rs.getString(1)));
    }

    @Override
    public List<String> names(RepositoryName repository, String after, int limit) {
        return session.query(
                "SELECT name FROM tags WHERE repository = ? AND name > ? ORDER BY name LIMIT ?",
                ps -> {
                    ps.setString(1, repository.value());
                    ps.setString(2, after == null ? "" : after);
                    ps.setInt(3, limit);
                },
                rs -> rs.getString(1));
    }

    @Override
    public List<String> of(RepositoryName repository, Digest manifest) {
        return session.query(
                "SELECT name FROM tags WHERE repository = ? AND manifest_digest = ? ORDER BY name",
                ps -> {
                    ps.setString(1, repository.value());
                    ps.setString(2, manifest.toString());
                },
                rs -> rs.getString(1));
    }

    /** Every tag of the repository, sorted (a repository's deletion records each). */
    List<String> ofRepository(RepositoryName repository) {
        return session.query(
                "SELECT name FROM tags WHERE repository = ? ORDER BY name",
                ps -> ps.setString(1, repository.value()),
                rs -> rs.getString(1));
    }

    @Override
    public List<TagChange> history(RepositoryName repository, String tag) {
        return session.query(
                "SELECT version, action, manifest_digest, previous_digest, changed_at, via, request_id, actor"
                        + " FROM tag_history WHERE repository = ? AND tag = ? ORDER BY version",
                ps -> {
                    ps.setString(1, repository.value());
                    ps.setString(2, tag);
                },
                rs -> new TagChange(
                        tag,
                        rs.getLong(1),
                        TagChange.Action.valueOf(rs.getString(2)),
                        digest(rs.getString(3)),
                        digest(rs.getString(4)),
                        rs.getLong(5),
                        new ChangeOrigin(rs.getString(6), rs.getString(7), rs.getString(8))));
    }

    @Override
    public List<TagRecord> records(RepositoryName repository, String after, int limit) {
        return session.query(
                TAG_COLUMNS + " WHERE t.repository = ? AND t.name > ? ORDER BY t.name LIMIT ?",
                ps -> {
                    ps.setString(1, repository.value());
                    ps.setString(2, after == null ? "" : after);
                    ps.setInt(3, limit);
                },
                SqlTags::tagRecord);
    }

    @Override
    public List<TagRecord> recordsByPushed(RepositoryName repository, long afterPushedAt, String afterName, int limit) {
        // newest first; ties by name, descending too, so that one index serves the whole order
        String cursor = afterName == null ? "" : " AND (t.pushed_at, t.name) < (?, ?)";
        return session.query(
                TAG_COLUMNS + " WHERE t.repository = ?" + cursor + " ORDER BY t.pushed_at DESC, t.name DESC LIMIT ?",
                ps -> {
                    int i = 1;
                    ps.setString(i++, repository.value());
                    if (afterName != null) {
                        ps.setLong(i++, afterPushedAt);
                        ps.setString(i++, afterName);
                    }
                    ps.setInt(i, limit);
                },
                SqlTags::tagRecord);
    }

    @Override
    public Optional<TagRecord> record(RepositoryName repository, String tag) {
        return session.queryOne(
                TAG_COLUMNS + " WHERE t.repository = ? AND t.name = ?",
                ps -> {
                    ps.setString(1, repository.value());
                    ps.setString(2, tag);
                },
                SqlTags::tagRecord);
    }

    @Override
    public long count(RepositoryName repository) {
        return session.queryOne(
                        "SELECT COUNT(*) FROM tags WHERE repository = ?",
                        ps -> ps.setString(1, repository.value()),
                        rs -> rs.getLong(1))
                .orElse(0L);
    }

    @Override
    public Optional<Digest> set(RepositoryName repository, String tag, Digest manifest, ChangeOrigin origin) {
        Optional<Digest> previous = target(repository, tag);
        if (previous.isPresent() && previous.get().equals(manifest)) {
            session.update("UPDATE tags SET pushed_at = ? WHERE repository = ? AND name = ?", ps -> {
                ps.setLong(1, session.now());
                ps.setString(2, repository.value());
                ps.setString(3, tag);
            });
            return previous;
        }
        session.update(
                "INSERT INTO tags (repository, name, manifest_digest, pushed_at) VALUES (?, ?, ?, ?)"
                        + " ON CONFLICT (repository, name) DO UPDATE SET manifest_digest = excluded.manifest_digest,"
                        + " pushed_at = excluded.pushed_at",
                ps -> {
                    ps.setString(1, repository.value());
                    ps.setString(2, tag);
                    ps.setString(3, manifest.toString());
                    ps.setLong(4, session.now());
                });
        appendHistory(
                repository,
                tag,
                previous.isPresent() ? TagChange.Action.MOVED : TagChange.Action.CREATED,
                manifest,
                previous.orElse(null),
                origin);
        return previous;
    }

    @Override
    public boolean delete(RepositoryName repository, String tag, ChangeOrigin origin) {
        Optional<Digest> previous = target(repository, tag);
        if (previous.isEmpty()) {
            return false;
        }
        session.update("DELETE FROM tags WHERE repository = ? AND name = ?", ps -> {
            ps.setString(1, repository.value());
            ps.setString(2, tag);
        });
        appendHistory(repository, tag, TagChange.Action.DELETED, null, previous.get(), origin);
        return true;
    }

    private void appendHistory(
            RepositoryName repository,
            String tag,
            TagChange.Action action,
            Digest digest,
            Digest previous,
            ChangeOrigin origin) {
        long version = session.queryOne(
                                "SELECT MAX(version) FROM tag_history WHERE repository = ? AND tag = ?",
                                ps -> {
                                    ps.setString(1, repository.value());
                                    ps.setString(2, tag);
                                },
                                rs -> rs.getLong(1))
                        .orElse(0L)
                + 1;
        session.update(
                "INSERT INTO tag_history (repository, tag, version, action, manifest_digest, previous_digest,"
                        + " changed_at, via, request_id, actor) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                ps -> {
                    ps.setString(1, repository.value());
                    ps.setString(2, tag);
                    ps.setLong(3, version);
                    ps.setString(4, action.name());
                    ps.setString(5, digest == null ? null : digest.toString());
                    ps.setString(6, previous == null ? null : previous.toString());
                    ps.setLong(7, session.now());
                    ps.setString(8, origin.via());
                    ps.setString(9, origin.requestId());
                    ps.setString(10, origin.actor());
                });
    }
}
