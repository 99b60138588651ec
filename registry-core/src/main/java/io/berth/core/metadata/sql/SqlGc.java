package io.berth.core.metadata.sql;

import static io.berth.core.metadata.sql.SqlSession.optionalLong;

import io.berth.core.metadata.BlobRecord;
import io.berth.core.metadata.GcRecords;
import io.berth.core.metadata.GcRunRecord;
import io.berth.core.metadata.ManifestKey;
import io.berth.core.model.Digest;
import io.berth.core.model.RepositoryName;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Types;
import java.util.List;
import java.util.Optional;

/** The SQL of {@link GcRecords}. */
final class SqlGc implements GcRecords.Writes {
    /** Untagged, listed by no index of its repository, not a referrer of a manifest its repository holds. */
    private static final String UNREACHABLE = " NOT EXISTS (SELECT 1 FROM tags t WHERE t.repository = m.repository"
            + " AND t.manifest_digest = m.digest)"
            + " AND NOT EXISTS (SELECT 1 FROM manifest_children c WHERE c.repository = m.repository"
            + " AND c.child_digest = m.digest AND c.manifest_digest <> m.digest)"
            + " AND (m.subject_digest IS NULL OR NOT EXISTS (SELECT 1 FROM manifests s"
            + " WHERE s.repository = m.repository AND s.digest = m.subject_digest))";

    private static final String GC_COLUMNS = "SELECT id, state, dry_run, delete_untagged, grace_ms, cutoff_at, phase,"
            + " cursor, started_at, updated_at, finished_at, manifests_deleted, blobs_examined, blobs_deleted,"
            + " bytes_freed, error FROM gc_runs";

    private final SqlSession session;

    SqlGc(SqlSession session) {
        this.session = session;
    }

    @Override
    public List<BlobRecord> unreferencedBlobs(String after, long cutoff, int limit) {
        return session.query(
                "SELECT b.digest, b.size FROM blobs b WHERE b.digest > ? AND b.created_at < ?"
                        + " AND NOT EXISTS (SELECT 1 FROM manifest_blobs mb WHERE mb.blob_digest = b.digest)"
                        + " AND NOT EXISTS (SELECT 1 FROM repository_blobs rb WHERE rb.digest = b.digest AND rb.linked_at >= ?)"
                        + " ORDER BY b.digest LIMIT ?",
                ps -> {
                    ps.setString(1, after == null ? "" : after);
                    ps.setLong(2, cutoff);
                    ps.setLong(3, cutoff);
                    ps.setInt(4, limit);
                },
                rs -> new BlobRecord(Digest.parse(rs.getString(1)), rs.getLong(2)));
    }

    @Override
    public List<ManifestKey> unreachableManifests(String after, long cutoff, int limit) {
        String repo = "";
        String digest = "";
        if (after != null) {
            int at = after.lastIndexOf('@');
            repo = after.substring(0, at);
            digest = after.substring(at + 1);
        }
        String r = repo;
        String d = digest;
        return session.query(
                "SELECT m.repository, m.digest FROM manifests m WHERE (m.repository, m.digest) > (?, ?)"
                        + " AND m.pushed_at < ? AND" + UNREACHABLE + " ORDER BY m.repository, m.digest LIMIT ?",
                ps -> {
                    ps.setString(1, r);
                    ps.setString(2, d);
                    ps.setLong(3, cutoff);
                    ps.setInt(4, limit);
                },
                rs -> new ManifestKey(RepositoryName.of(rs.getString(1)), Digest.parse(rs.getString(2))));
    }

    @Override
    public Optional<BlobRecord> blobUnlinkedSince(Digest blob, long cutoff) {
        return session.queryOne(
                "SELECT b.digest, b.size FROM blobs b WHERE b.digest = ? AND b.created_at < ?"
                        + " AND NOT EXISTS (SELECT 1 FROM repository_blobs rb WHERE rb.digest = b.digest AND rb.linked_at >= ?)",
                ps -> {
                    ps.setString(1, blob.toString());
                    ps.setLong(2, cutoff);
                    ps.setLong(3, cutoff);
                },
                rs -> new BlobRecord(Digest.parse(rs.getString(1)), rs.getLong(2)));
    }

    private static GcRunRecord gcRun(ResultSet rs) throws SQLException {
        return new GcRunRecord(
                rs.getString(1),
                rs.getString(2),
                rs.getInt(3) != 0,
                rs.getInt(4) != 0,
                rs.getLong(5),
                rs.getLong(6),
                rs.getString(7),
                rs.getString(8),
                rs.getLong(9),
                rs.getLong(10),
                optionalLong(rs, 11),
                rs.getLong(12),
                rs.getLong(13),
                rs.getLong(14),
                rs.getLong(15),
                rs.getString(16));
    }

    @Override
    public Optional<GcRunRecord> run(String id) {
        return session.queryOne(GC_COLUMNS + " WHERE id = ?", ps -> ps.setString(1, id), SqlGc::gcRun);
    }

    @Override
    public Optional<GcRunRecord> latestRun() {
        return session.queryOne(GC_COLUMNS + " ORDER BY started_at DESC, id DESC LIMIT 1", ps -> {}, SqlGc::gcRun);
    }

    @Override
    public void putRun(GcRunRecord g) {
        session.update(
                "INSERT INTO gc_runs (id, state, dry_run, delete_untagged, grace_ms, cutoff_at, phase, cursor,"
                        + " started_at, updated_at, finished_at, manifests_deleted, blobs_examined, blobs_deleted, bytes_freed,"
                        + " error) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET"
                        + " state = excluded.state, phase = excluded.phase, cursor = excluded.cursor,"
                        + " updated_at = excluded.updated_at, finished_at = excluded.finished_at,"
                        + " manifests_deleted = excluded.manifests_deleted, blobs_examined = excluded.blobs_examined,"
                        + " blobs_deleted = excluded.blobs_deleted, bytes_freed = excluded.bytes_freed, error = excluded.error",
                ps -> {
                    ps.setString(1, g.id());
                    ps.setString(2, g.state());
                    ps.setInt(3, g.dryRun() ? 1 : 0);
                    ps.setInt(4, g.deleteUntagged() ? 1 : 0);
                    ps.setLong(5, g.graceMillis());
                    ps.setLong(6, g.cutoffAt());
                    ps.setString(7, g.phase());
                    ps.setString(8, g.cursor());
                    ps.setLong(9, g.startedAt());
                    ps.setLong(10, g.updatedAt());
                    if (g.finishedAt().isPresent()) {
                        ps.setLong(11, g.finishedAt().getAsLong());
                    } else {
                        ps.setNull(11, Types.BIGINT);
                    }
                    ps.setLong(12, g.manifestsDeleted());
                    ps.setLong(13, g.blobsExamined());
                    ps.setLong(14, g.blobsDeleted());
                    ps.setLong(15, g.bytesFreed());
                    ps.setString(16, g.error());
                });
    }

    @Override
    public List<Digest> deletions() {
        return session.query(
                "SELECT digest FROM blob_deletions ORDER BY digest", ps -> {}, rs -> Digest.parse(rs.getString(1)));
    }

    private boolean exists(String sql, String digest) {
        return session.queryOne(sql, ps -> ps.setString(1, digest), rs -> true).isPresent();
    }

    @Override
    public boolean reserve(Digest digest, String holder, long staleBefore) {
        String d = digest.toString();
        session.update("DELETE FROM blob_deletions WHERE digest = ? AND started_at < ?", ps -> {
            ps.setString(1, d);
            ps.setLong(2, staleBefore);
        });
        if (exists("SELECT 1 FROM blob_deletions WHERE digest = ?", d)) {
            return false;
        }
        session.update(
                "INSERT INTO blob_reservations (digest, holder, created_at) VALUES (?, ?, ?)"
                        + " ON CONFLICT (digest, holder) DO NOTHING",
                ps -> {
                    ps.setString(1, d);
                    ps.setString(2, holder);
                    ps.setLong(3, session.now());
                });
        return true;
    }

    @Override
    public void release(Digest digest, String holder) {
        session.update("DELETE FROM blob_reservations WHERE digest = ? AND holder = ?", ps -> {
            ps.setString(1, digest.toString());
            ps.setString(2, holder);
        });
    }

    @Override
    public boolean reservedBy(Digest digest, String holder) {
        return session.queryOne(
                        "SELECT 1 FROM blob_reservations WHERE digest = ? AND holder = ?",
                        ps -> {
                            ps.setString(1, digest.toString());
                            ps.setString(2, holder);
                        },
                        rs -> true)
                .isPresent();
    }

    @Override
    public int releaseBefore(long before) {
        return session.update("DELETE FROM blob_reservations WHERE created_at < ?", ps -> ps.setLong(1, before));
    }

    @Override
    public boolean claimDeletion(Digest digest, String run, long requireUnlinkedSince) {
        String d = digest.toString();
        if (exists("SELECT 1 FROM blob_reservations WHERE digest = ?", d)
                || exists("SELECT 1 FROM blob_deletions WHERE digest = ?", d)
                || exists("SELECT 1 FROM manifest_blobs WHERE blob_digest = ? LIMIT 1", d)) {
            return false;
        }
        if (requireUnlinkedSince == Long.MAX_VALUE) {
            if (exists("SELECT 1 FROM blobs WHERE digest = ?", d)) {
                return false; // recorded meanwhile: not an orphan file any more
            }
        } else {
            boolean recent = session.queryOne(
                                    "SELECT 1 FROM blobs WHERE digest = ? AND created_at >= ?",
                                    ps -> {
                                        ps.setString(1, d);
                                        ps.setLong(2, requireUnlinkedSince);
                                    },
                                    rs -> true)
                            .isPresent()
                    || session.queryOne(
                                    "SELECT 1 FROM repository_blobs WHERE digest = ? AND linked_at >= ?" + " LIMIT 1",
                                    ps -> {
                                        ps.setString(1, d);
                                        ps.setLong(2, requireUnlinkedSince);
                                    },
                                    rs -> true)
                            .isPresent();
            if (recent) {
                return false;
            }
        }
        session.update("DELETE FROM repository_blobs WHERE digest = ?", ps -> ps.setString(1, d));
        session.update("DELETE FROM blobs WHERE digest = ?", ps -> ps.setString(1, d));
        session.update("INSERT INTO blob_deletions (digest, run, started_at) VALUES (?, ?, ?)", ps -> {
            ps.setString(1, d);
            ps.setString(2, run);
            ps.setLong(3, session.now());
        });
        return true;
    }

    @Override
    public void endDeletion(Digest digest) {
        session.update("DELETE FROM blob_deletions WHERE digest = ?", ps -> ps.setString(1, digest.toString()));
    }
}
