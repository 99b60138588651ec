package io.berth.core.metadata.sql;

import static io.berth.core.metadata.sql.SqlSession.annotations;
import static io.berth.core.metadata.sql.SqlSession.digest;
import static io.berth.core.metadata.sql.SqlSession.json;
import static io.berth.core.metadata.sql.SqlSession.optionalLong;

import io.berth.core.metadata.ChildEdge;
import io.berth.core.metadata.ManifestKey;
import io.berth.core.metadata.ManifestRecord;
import io.berth.core.metadata.ManifestRecords;
import io.berth.core.metadata.ManifestReferences;
import io.berth.core.metadata.ManifestSummary;
import io.berth.core.metadata.MetadataException;
import io.berth.core.metadata.ReferrerRecord;
import io.berth.core.model.ChangeOrigin;
import io.berth.core.model.Digest;
import io.berth.core.model.RepositoryName;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Types;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;

/**
 * The SQL of {@link ManifestRecords}; deleting a manifest records its tags' deletion through
 * {@link SqlTags}.
 */
final class SqlManifests implements ManifestRecords.Writes {
    private final SqlSession session;
    private final SqlTags tags;

    SqlManifests(SqlSession session, SqlTags tags) {
        this.session = session;
        this.tags = tags;
    }

    @Override
    public Optional<ManifestRecord> get(RepositoryName repository, Digest digest) {
        return session.queryOne(
                "SELECT media_type, artifact_type, subject_digest, annotations, payload, pushed_at"
                        + " FROM manifests WHERE repository = ? AND digest = ?",
                ps -> {
                    ps.setString(1, repository.value());
                    ps.setString(2, digest.toString());
                },
                rs -> new ManifestRecord(
                        repository,
                        digest,
                        rs.getString(1),
                        rs.getString(2),
                        digest(rs.getString(3)),
                        annotations(rs.getString(4)),
                        rs.getBytes(5),
                        rs.getLong(6)));
    }

    @Override
    public boolean exists(RepositoryName repository, Digest digest) {
        return session.queryOne(
                        "SELECT 1 FROM manifests WHERE repository = ? AND digest = ?",
                        ps -> {
                            ps.setString(1, repository.value());
                            ps.setString(2, digest.toString());
                        },
                        rs -> true)
                .isPresent();
    }

    @Override
    public Optional<Digest> referencingBlob(RepositoryName repository, Digest blob) {
        return session.queryOne(
                "SELECT manifest_digest FROM manifest_blobs WHERE repository = ? AND blob_digest = ?"
                        + " ORDER BY manifest_digest LIMIT 1",
                ps -> {
                    ps.setString(1, repository.value());
                    ps.setString(2, blob.toString());
                },
                rs -> Digest.parse(rs.getString(1)));
    }

    @Override
    public List<ManifestKey> referencingBlobAnywhere(Digest blob) {
        return session.query(
                "SELECT repository, manifest_digest FROM manifest_blobs WHERE blob_digest = ?"
                        + " ORDER BY repository, manifest_digest",
                ps -> ps.setString(1, blob.toString()),
                rs -> new ManifestKey(RepositoryName.of(rs.getString(1)), Digest.parse(rs.getString(2))));
    }

    @Override
    public Optional<Digest> indexReferencing(RepositoryName repository, Digest child) {
        return session.queryOne(
                "SELECT manifest_digest FROM manifest_children WHERE repository = ? AND child_digest = ?"
                        + " AND manifest_digest <> ? ORDER BY manifest_digest LIMIT 1",
                ps -> {
                    ps.setString(1, repository.value());
                    ps.setString(2, child.toString());
                    ps.setString(3, child.toString());
                },
                rs -> Digest.parse(rs.getString(1)));
    }

    @Override
    public List<Digest> indexesListing(RepositoryName repository, Digest child) {
        return session.query(
                "SELECT manifest_digest FROM manifest_children WHERE repository = ? AND child_digest = ?"
                        + " AND manifest_digest <> ? ORDER BY manifest_digest",
                ps -> {
                    ps.setString(1, repository.value());
                    ps.setString(2, child.toString());
                    ps.setString(3, child.toString());
                },
                rs -> Digest.parse(rs.getString(1)));
    }

    @Override
    public List<ReferrerRecord> referrers(
            RepositoryName repository, Digest subject, String artifactType, String after, int limit) {
        String sql = "SELECT digest, media_type, size, artifact_type, annotations FROM manifests"
                + " WHERE repository = ? AND subject_digest = ? AND digest > ?"
                + (artifactType == null ? "" : " AND artifact_type = ?") + " ORDER BY digest LIMIT ?";
        return session.query(
                sql,
                ps -> {
                    ps.setString(1, repository.value());
                    ps.setString(2, subject.toString());
                    ps.setString(3, after == null ? "" : after);
                    int i = 4;
                    if (artifactType != null) {
                        ps.setString(i++, artifactType);
                    }
                    ps.setInt(i, limit);
                },
                rs -> new ReferrerRecord(
                        Digest.parse(rs.getString(1)),
                        rs.getString(2),
                        rs.getLong(3),
                        rs.getString(4),
                        annotations(rs.getString(5))));
    }

    @Override
    public long referrerCount(RepositoryName repository, Digest subject) {
        return session.queryOne(
                        "SELECT COUNT(*) FROM manifests WHERE repository = ? AND subject_digest = ?",
                        ps -> {
                            ps.setString(1, repository.value());
                            ps.setString(2, subject.toString());
                        },
                        rs -> rs.getLong(1))
                .orElse(0L);
    }

    @Override
    public OptionalLong lastPulled(RepositoryName repository, Digest digest) {
        return session.lastPulled("manifests", repository, digest);
    }

    @Override
    public List<ManifestSummary> summaries(RepositoryName repository, String after, int limit, boolean untaggedOnly) {
        String sql = "SELECT m.digest, m.media_type, m.artifact_type, m.subject_digest, m.size, m.pushed_at,"
                + " m.last_pulled_at FROM manifests m WHERE m.repository = ? AND m.digest > ?"
                + (untaggedOnly
                        ? " AND NOT EXISTS (SELECT 1 FROM tags t WHERE t.repository = m.repository"
                                + " AND t.manifest_digest = m.digest)"
                        : "")
                + " ORDER BY m.digest LIMIT ?";
        return session.query(
                sql,
                ps -> {
                    ps.setString(1, repository.value());
                    ps.setString(2, after == null ? "" : after);
                    ps.setInt(3, limit);
                },
                rs -> new ManifestSummary(
                        Digest.parse(rs.getString(1)),
                        rs.getString(2),
                        rs.getString(3),
                        digest(rs.getString(4)),
                        rs.getLong(5),
                        rs.getLong(6),
                        optionalLong(rs, 7)));
    }

    @Override
    public List<Digest> digestsStartingWith(RepositoryName repository, String beginning, int limit) {
        if (!beginning.matches("[a-z0-9]+:[0-9a-f]*")) {
            throw new IllegalArgumentException("not the beginning of a digest: " + beginning);
        }
        // LIKE, not a range: PostgreSQL's collation may order ':' apart from the hex digits
        return session.query(
                "SELECT digest FROM manifests WHERE repository = ? AND digest LIKE ? ORDER BY digest LIMIT ?",
                ps -> {
                    ps.setString(1, repository.value());
                    ps.setString(2, beginning + "%");
                    ps.setInt(3, limit);
                },
                rs -> Digest.parse(rs.getString(1)));
    }

    @Override
    public List<ChildEdge> childEdges(RepositoryName repository) {
        return session.query(
                "SELECT manifest_digest, child_digest FROM manifest_children WHERE repository = ?",
                ps -> ps.setString(1, repository.value()),
                rs -> new ChildEdge(Digest.parse(rs.getString(1)), Digest.parse(rs.getString(2))));
    }

    @Override
    public List<Digest> dependents(RepositoryName repository, Digest manifest) {
        return session.query(
                "SELECT child_digest FROM manifest_children WHERE repository = ? AND manifest_digest = ?"
                        + " AND child_digest <> manifest_digest UNION SELECT digest FROM manifests WHERE repository = ?"
                        + " AND subject_digest = ? ORDER BY 1",
                ps -> {
                    ps.setString(1, repository.value());
                    ps.setString(2, manifest.toString());
                    ps.setString(3, repository.value());
                    ps.setString(4, manifest.toString());
                },
                rs -> Digest.parse(rs.getString(1)));
    }

    @Override
    public List<Digest> blobsOf(RepositoryName repository, Digest manifest) {
        return session.query(
                "SELECT blob_digest FROM manifest_blobs WHERE repository = ? AND manifest_digest = ?"
                        + " ORDER BY blob_digest",
                ps -> {
                    ps.setString(1, repository.value());
                    ps.setString(2, manifest.toString());
                },
                rs -> Digest.parse(rs.getString(1)));
    }

    @Override
    public void put(ManifestRecord m, ManifestReferences references) {
        String repo = m.repository().value();
        String digest = m.digest().toString();
        session.update(
                "INSERT INTO manifests (repository, digest, media_type, artifact_type, subject_digest, annotations,"
                        + " size, payload, pushed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
                        + " ON CONFLICT (repository, digest) DO UPDATE SET media_type = excluded.media_type,"
                        + " artifact_type = excluded.artifact_type, subject_digest = excluded.subject_digest,"
                        + " annotations = excluded.annotations, size = excluded.size, payload = excluded.payload,"
                        + " pushed_at = excluded.pushed_at",
                ps -> {
                    ps.setString(1, repo);
                    ps.setString(2, digest);
                    ps.setString(3, m.mediaType());
                    if (m.artifactType() == null) {
                        ps.setNull(4, Types.VARCHAR);
                    } else {
                        ps.setString(4, m.artifactType());
                    }
                    ps.setString(5, m.subject().map(Digest::toString).orElse(null));
                    ps.setString(6, json(m.annotations()));
                    ps.setLong(7, m.size());
                    ps.setBytes(8, m.payload());
                    ps.setLong(9, m.pushedAt());
                });
        deleteReferences(repo, digest);
        insertReferences(
                "INSERT INTO manifest_blobs (repository, manifest_digest, blob_digest) VALUES (?, ?, ?)",
                repo,
                digest,
                references.blobs());
        insertReferences(
                "INSERT INTO manifest_children (repository, manifest_digest, child_digest) VALUES (?, ?, ?)",
                repo,
                digest,
                references.children());
    }

    /** One prepared statement, batched: a manifest may reference thousands of blobs. */
    private void insertReferences(String sql, String repo, String manifest, Set<Digest> targets) {
        if (targets.isEmpty()) {
            return;
        }
        session.use(c -> {
            try (PreparedStatement ps = c.prepareStatement(sql)) {
                for (Digest target : targets) {
                    ps.setString(1, repo);
                    ps.setString(2, manifest);
                    ps.setString(3, target.toString());
                    ps.addBatch();
                }
                ps.executeBatch();
            } catch (SQLException e) {
                throw new MetadataException("update failed: " + sql, e);
            }
            return null;
        });
    }

    private void deleteReferences(String repo, String digest) {
        SqlSession.Binder b = ps -> {
            ps.setString(1, repo);
            ps.setString(2, digest);
        };
        session.update("DELETE FROM manifest_blobs WHERE repository = ? AND manifest_digest = ?", b);
        session.update("DELETE FROM manifest_children WHERE repository = ? AND manifest_digest = ?", b);
    }

    @Override
    public boolean delete(RepositoryName repository, Digest digest, ChangeOrigin origin) {
        for (String tag : tags.of(repository, digest)) {
            tags.delete(repository, tag, origin);
        }
        deleteReferences(repository.value(), digest.toString());
        return session.update("DELETE FROM manifests WHERE repository = ? AND digest = ?", ps -> {
                    ps.setString(1, repository.value());
                    ps.setString(2, digest.toString());
                })
                > 0;
    }

    @Override
    public void recordPull(RepositoryName repository, Digest digest, long at) {
        session.update(
                "UPDATE manifests SET last_pulled_at = ? WHERE repository = ? AND digest = ?"
                        + " AND (last_pulled_at IS NULL OR last_pulled_at < ?)",
                ps -> {
                    ps.setLong(1, at);
                    ps.setString(2, repository.value());
                    ps.setString(3, digest.toString());
                    ps.setLong(4, at);
                });
    }
}
