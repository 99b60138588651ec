package io.berth.core.metadata;

import io.berth.core.model.ChangeOrigin;
import io.berth.core.model.Digest;
import io.berth.core.model.RepositoryName;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Types;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * The SQL of {@link AdminReads} and {@link AdminWrites}; portable as the rest (row-value comparisons
 * for keyset paging work in SQLite 3.15+ and PostgreSQL).
 */
abstract class SqlAdmin extends SqlBase implements AdminReads, AdminWrites {

    SqlAdmin(Connection connection, long now) {
        super(connection, now);
    }

    abstract List<String> tagsOfRepository(RepositoryName repository);

    /** The next value of a named counter (the transaction's {@code nextSequence}). */
    abstract long nextPosition(String counter);

    abstract boolean deleteTag(RepositoryName repository, String tag, ChangeOrigin origin);

    // ---- repositories

    @Override
    public List<String> repositories(String prefix, String after, int limit) {
        String p = prefix == null ? "" : prefix;
        // names (ASCII) starting with the prefix are those >= prefix and < prefix + U+FFFF
        return query("SELECT name FROM repositories WHERE name >= ? AND name < ? AND name > ? ORDER BY name LIMIT ?",
                ps -> {
                    ps.setString(1, p);
                    ps.setString(2, p + "\uffff");
                    ps.setString(3, after == null ? "" : after);
                    ps.setInt(4, limit);
                }, rs -> rs.getString(1));
    }

    @Override
    public RepositoryStats repositoryStats(RepositoryName repository) {
        String r = repository.value();
        long tags = tagCount(repository);
        record M(long count, long size, OptionalLong pushed, OptionalLong pulled) {
        }
        M m = queryOne("SELECT COUNT(*), COALESCE(SUM(size), 0), MAX(pushed_at), MAX(last_pulled_at) FROM manifests"
                + " WHERE repository = ?", ps -> ps.setString(1, r),
                rs -> new M(rs.getLong(1), rs.getLong(2), optionalLong(rs, 3), optionalLong(rs, 4))).orElseThrow();
        long blobs = queryOne("SELECT COALESCE(SUM(b.size), 0) FROM repository_blobs rb JOIN blobs b"
                + " ON b.digest = rb.digest WHERE rb.repository = ?", ps -> ps.setString(1, r), rs -> rs.getLong(1))
                .orElse(0L);
        long unique = queryOne("SELECT COALESCE(SUM(b.size), 0) FROM repository_blobs rb JOIN blobs b"
                + " ON b.digest = rb.digest WHERE rb.repository = ? AND NOT EXISTS (SELECT 1 FROM repository_blobs o"
                + " WHERE o.digest = rb.digest AND o.repository <> rb.repository)", ps -> ps.setString(1, r),
                rs -> rs.getLong(1)).orElse(0L);
        OptionalLong tagPushed = queryOne("SELECT MAX(pushed_at) FROM tags WHERE repository = ?",
                ps -> ps.setString(1, r), rs -> optionalLong(rs, 1)).orElse(OptionalLong.empty());
        OptionalLong lastPush = m.pushed().isPresent() && tagPushed.isPresent()
                ? OptionalLong.of(Math.max(m.pushed().getAsLong(), tagPushed.getAsLong()))
                : m.pushed().isPresent() ? m.pushed() : tagPushed;
        return new RepositoryStats(tags, m.count(), blobs + m.size(), unique + m.size(), lastPush, m.pulled());
    }

    @Override
    public boolean deleteRepository(RepositoryName repository, ChangeOrigin origin) {
        String r = repository.value();
        boolean existed = queryOne("SELECT 1 FROM repositories WHERE name = ?", ps -> ps.setString(1, r),
                rs -> true).isPresent();
        for (String tag : tagsOfRepository(repository)) {
            deleteTag(repository, tag, origin);
        }
        for (String table : List.of("manifest_blobs", "manifest_children", "manifests", "repository_blobs",
                "upload_sessions")) {
            update("DELETE FROM " + table + " WHERE repository = ?", ps -> ps.setString(1, r));
        }
        update("DELETE FROM repositories WHERE name = ?", ps -> ps.setString(1, r));
        return existed;
    }

    // ---- tags and manifests

    private static final String TAG_COLUMNS = "SELECT t.name, t.manifest_digest, m.media_type, m.size, t.pushed_at,"
            + " m.last_pulled_at FROM tags t JOIN manifests m ON m.repository = t.repository"
            + " AND m.digest = t.manifest_digest";

    private static TagRecord tagRecord(ResultSet rs) throws SQLException {
        return new TagRecord(rs.getString(1), Digest.parse(rs.getString(2)), rs.getString(3), rs.getLong(4),
                rs.getLong(5), optionalLong(rs, 6));
    }

    @Override
    public List<TagRecord> tagRecords(RepositoryName repository, String after, int limit) {
        return query(TAG_COLUMNS + " WHERE t.repository = ? AND t.name > ? ORDER BY t.name LIMIT ?", ps -> {
            ps.setString(1, repository.value());
            ps.setString(2, after == null ? "" : after);
            ps.setInt(3, limit);
        }, SqlAdmin::tagRecord);
    }

    @Override
    public List<TagRecord> tagRecordsByPushed(RepositoryName repository, long afterPushedAt, String afterName,
                                              int limit) {
        // newest first; ties by name, descending too, so that one index serves the whole order
        String cursor = afterName == null ? "" : " AND (t.pushed_at, t.name) < (?, ?)";
        return query(TAG_COLUMNS + " WHERE t.repository = ?" + cursor
                + " ORDER BY t.pushed_at DESC, t.name DESC LIMIT ?", ps -> {
                    int i = 1;
                    ps.setString(i++, repository.value());
                    if (afterName != null) {
                        ps.setLong(i++, afterPushedAt);
                        ps.setString(i++, afterName);
                    }
                    ps.setInt(i, limit);
                }, SqlAdmin::tagRecord);
    }

    @Override
    public Optional<TagRecord> tagRecord(RepositoryName repository, String tag) {
        return queryOne(TAG_COLUMNS + " WHERE t.repository = ? AND t.name = ?", ps -> {
            ps.setString(1, repository.value());
            ps.setString(2, tag);
        }, SqlAdmin::tagRecord);
    }

    @Override
    public long tagCount(RepositoryName repository) {
        return queryOne("SELECT COUNT(*) FROM tags WHERE repository = ?", ps -> ps.setString(1, repository.value()),
                rs -> rs.getLong(1)).orElse(0L);
    }

    @Override
    public List<ManifestSummary> manifestSummaries(RepositoryName repository, String after, int limit,
                                                   boolean untaggedOnly) {
        String sql = "SELECT m.digest, m.media_type, m.artifact_type, m.subject_digest, m.size, m.pushed_at,"
                + " m.last_pulled_at FROM manifests m WHERE m.repository = ? AND m.digest > ?"
                + (untaggedOnly ? " AND NOT EXISTS (SELECT 1 FROM tags t WHERE t.repository = m.repository"
                + " AND t.manifest_digest = m.digest)" : "") + " ORDER BY m.digest LIMIT ?";
        return query(sql, ps -> {
            ps.setString(1, repository.value());
            ps.setString(2, after == null ? "" : after);
            ps.setInt(3, limit);
        }, rs -> new ManifestSummary(Digest.parse(rs.getString(1)), rs.getString(2), rs.getString(3),
                digest(rs.getString(4)), rs.getLong(5), rs.getLong(6), optionalLong(rs, 7)));
    }

    @Override
    public long referrerCount(RepositoryName repository, Digest subject) {
        return queryOne("SELECT COUNT(*) FROM manifests WHERE repository = ? AND subject_digest = ?", ps -> {
            ps.setString(1, repository.value());
            ps.setString(2, subject.toString());
        }, rs -> rs.getLong(1)).orElse(0L);
    }

    @Override
    public List<Digest> manifestDigestsStartingWith(RepositoryName repository, String beginning, int limit) {
        if (!beginning.matches("[a-z0-9]+:[0-9a-f]*")) {
            throw new IllegalArgumentException("not the beginning of a digest: " + beginning);
        }
        // LIKE, not a range: PostgreSQL's collation may order ':' apart from the hex digits
        return query("SELECT digest FROM manifests WHERE repository = ? AND digest LIKE ? ORDER BY digest LIMIT ?",
                ps -> {
                    ps.setString(1, repository.value());
                    ps.setString(2, beginning + "%");
                    ps.setInt(3, limit);
                }, rs -> Digest.parse(rs.getString(1)));
    }

    @Override
    public List<ChildEdge> childEdges(RepositoryName repository) {
        return query("SELECT manifest_digest, child_digest FROM manifest_children WHERE repository = ?",
                ps -> ps.setString(1, repository.value()),
                rs -> new ChildEdge(Digest.parse(rs.getString(1)), Digest.parse(rs.getString(2))));
    }

    // ---- immutability and retention

    @Override
    public List<ImmutabilityRuleRecord> immutabilityRules() {
        return query("SELECT id, repositories, tags, created_at FROM immutability_rules ORDER BY position",
                ps -> { }, rs -> new ImmutabilityRuleRecord(rs.getString(1), rs.getString(2), rs.getString(3),
                        rs.getLong(4)));
    }

    @Override
    public void insertImmutabilityRule(ImmutabilityRuleRecord rule) {
        long position = nextPosition("immutability-rules");
        update("INSERT INTO immutability_rules (id, position, repositories, tags, created_at) VALUES (?, ?, ?, ?, ?)",
                ps -> {
                    ps.setString(1, rule.id());
                    ps.setLong(2, position);
                    ps.setString(3, rule.repositories());
                    ps.setString(4, rule.tags());
                    ps.setLong(5, rule.createdAt());
                });
    }

    @Override
    public boolean deleteImmutabilityRule(String id) {
        return update("DELETE FROM immutability_rules WHERE id = ?", ps -> ps.setString(1, id)) > 0;
    }

    private static final String POLICY_COLUMNS = "SELECT name, spec, created_at, updated_at, last_run_at, last_run"
            + " FROM retention_policies";

    private static StoredRetentionPolicy policy(ResultSet rs) throws SQLException {
        return new StoredRetentionPolicy(rs.getString(1), rs.getString(2), rs.getLong(3), rs.getLong(4),
                optionalLong(rs, 5), rs.getString(6) == null ? "" : rs.getString(6));
    }

    @Override
    public List<StoredRetentionPolicy> retentionPolicies() {
        return query(POLICY_COLUMNS + " ORDER BY name", ps -> { }, SqlAdmin::policy);
    }

    @Override
    public Optional<StoredRetentionPolicy> retentionPolicy(String name) {
        return queryOne(POLICY_COLUMNS + " WHERE name = ?", ps -> ps.setString(1, name), SqlAdmin::policy);
    }

    @Override
    public boolean putRetentionPolicy(String name, String spec) {
        boolean existed = retentionPolicy(name).isPresent();
        update("INSERT INTO retention_policies (name, spec, created_at, updated_at) VALUES (?, ?, ?, ?)"
                + " ON CONFLICT (name) DO UPDATE SET spec = excluded.spec, updated_at = excluded.updated_at", ps -> {
                    ps.setString(1, name);
                    ps.setString(2, spec);
                    ps.setLong(3, now);
                    ps.setLong(4, now);
                });
        return !existed;
    }

    @Override
    public boolean deleteRetentionPolicy(String name) {
        return update("DELETE FROM retention_policies WHERE name = ?", ps -> ps.setString(1, name)) > 0;
    }

    @Override
    public void recordRetentionRun(String name, String summary) {
        update("UPDATE retention_policies SET last_run_at = ?, last_run = ? WHERE name = ?", ps -> {
            ps.setLong(1, now);
            ps.setString(2, summary);
            ps.setString(3, name);
        });
    }

    @Override
    public Optional<StoredRetentionPlan> retentionPlan(String id) {
        return queryOne("SELECT id, policy, created_at, items FROM retention_plans WHERE id = ?",
                ps -> ps.setString(1, id), rs -> new StoredRetentionPlan(rs.getString(1), rs.getString(2),
                        rs.getLong(3), rs.getString(4)));
    }

    @Override
    public void insertRetentionPlan(StoredRetentionPlan plan) {
        update("INSERT INTO retention_plans (id, policy, created_at, items) VALUES (?, ?, ?, ?)", ps -> {
            ps.setString(1, plan.id());
            ps.setString(2, plan.policy());
            ps.setLong(3, plan.createdAt());
            ps.setString(4, plan.items());
        });
    }

    @Override
    public int pruneRetentionPlans(long before) {
        return update("DELETE FROM retention_plans WHERE created_at < ?", ps -> ps.setLong(1, before));
    }

    // ---- garbage collection

    @Override
    public List<BlobRecord> unreferencedBlobs(String after, long cutoff, int limit) {
        return query("SELECT b.digest, b.size FROM blobs b WHERE b.digest > ? AND b.created_at < ?"
                + " AND NOT EXISTS (SELECT 1 FROM manifest_blobs mb WHERE mb.blob_digest = b.digest)"
                + " AND NOT EXISTS (SELECT 1 FROM repository_blobs rb WHERE rb.digest = b.digest AND rb.linked_at >= ?)"
                + " ORDER BY b.digest LIMIT ?", ps -> {
                    ps.setString(1, after == null ? "" : after);
                    ps.setLong(2, cutoff);
                    ps.setLong(3, cutoff);
                    ps.setInt(4, limit);
                }, rs -> new BlobRecord(Digest.parse(rs.getString(1)), rs.getLong(2)));
    }

    /** Untagged, listed by no index of its repository, not a referrer of a manifest its repository holds. */
    static final String UNREACHABLE = " NOT EXISTS (SELECT 1 FROM tags t WHERE t.repository = m.repository"
            + " AND t.manifest_digest = m.digest)"
            + " AND NOT EXISTS (SELECT 1 FROM manifest_children c WHERE c.repository = m.repository"
            + " AND c.child_digest = m.digest AND c.manifest_digest <> m.digest)"
            + " AND (m.subject_digest IS NULL OR NOT EXISTS (SELECT 1 FROM manifests s"
            + " WHERE s.repository = m.repository AND s.digest = m.subject_digest))";

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
        return query("SELECT m.repository, m.digest FROM manifests m WHERE (m.repository, m.digest) > (?, ?)"
                + " AND m.pushed_at < ? AND" + UNREACHABLE + " ORDER BY m.repository, m.digest LIMIT ?", ps -> {
                    ps.setString(1, r);
                    ps.setString(2, d);
                    ps.setLong(3, cutoff);
                    ps.setInt(4, limit);
                }, rs -> new ManifestKey(RepositoryName.of(rs.getString(1)), Digest.parse(rs.getString(2))));
    }

    @Override
    public List<Digest> manifestDependents(RepositoryName repository, Digest manifest) {
        return query("SELECT child_digest FROM manifest_children WHERE repository = ? AND manifest_digest = ?"
                + " AND child_digest <> manifest_digest UNION SELECT digest FROM manifests WHERE repository = ?"
                + " AND subject_digest = ? ORDER BY 1", ps -> {
                    ps.setString(1, repository.value());
                    ps.setString(2, manifest.toString());
                    ps.setString(3, repository.value());
                    ps.setString(4, manifest.toString());
                }, rs -> Digest.parse(rs.getString(1)));
    }

    @Override
    public List<Digest> indexesListing(RepositoryName repository, Digest child) {
        return query("SELECT manifest_digest FROM manifest_children WHERE repository = ? AND child_digest = ?"
                + " AND manifest_digest <> ? ORDER BY manifest_digest", ps -> {
                    ps.setString(1, repository.value());
                    ps.setString(2, child.toString());
                    ps.setString(3, child.toString());
                }, rs -> Digest.parse(rs.getString(1)));
    }

    @Override
    public List<Digest> blobsOf(RepositoryName repository, Digest manifest) {
        return query("SELECT blob_digest FROM manifest_blobs WHERE repository = ? AND manifest_digest = ?"
                + " ORDER BY blob_digest", ps -> {
                    ps.setString(1, repository.value());
                    ps.setString(2, manifest.toString());
                }, rs -> Digest.parse(rs.getString(1)));
    }

    @Override
    public List<ManifestKey> manifestsReferencingBlob(Digest blob) {
        return query("SELECT repository, manifest_digest FROM manifest_blobs WHERE blob_digest = ?"
                + " ORDER BY repository, manifest_digest", ps -> ps.setString(1, blob.toString()),
                rs -> new ManifestKey(RepositoryName.of(rs.getString(1)), Digest.parse(rs.getString(2))));
    }

    @Override
    public Optional<BlobRecord> blobUnlinkedSince(Digest blob, long cutoff) {
        return queryOne("SELECT b.digest, b.size FROM blobs b WHERE b.digest = ? AND b.created_at < ?"
                + " AND NOT EXISTS (SELECT 1 FROM repository_blobs rb WHERE rb.digest = b.digest AND rb.linked_at >= ?)",
                ps -> {
                    ps.setString(1, blob.toString());
                    ps.setLong(2, cutoff);
                    ps.setLong(3, cutoff);
                }, rs -> new BlobRecord(Digest.parse(rs.getString(1)), rs.getLong(2)));
    }

    private static final String GC_COLUMNS = "SELECT id, state, dry_run, delete_untagged, grace_ms, cutoff_at, phase,"
            + " cursor, started_at, updated_at, finished_at, manifests_deleted, blobs_examined, blobs_deleted,"
            + " bytes_freed, error FROM gc_runs";

    private static GcRunRecord gcRun(ResultSet rs) throws SQLException {
        return new GcRunRecord(rs.getString(1), rs.getString(2), rs.getInt(3) != 0, rs.getInt(4) != 0, rs.getLong(5),
                rs.getLong(6), rs.getString(7), rs.getString(8), rs.getLong(9), rs.getLong(10), optionalLong(rs, 11),
                rs.getLong(12), rs.getLong(13), rs.getLong(14), rs.getLong(15), rs.getString(16));
    }

    @Override
    public Optional<GcRunRecord> gcRun(String id) {
        return queryOne(GC_COLUMNS + " WHERE id = ?", ps -> ps.setString(1, id), SqlAdmin::gcRun);
    }

    @Override
    public Optional<GcRunRecord> latestGcRun() {
        return queryOne(GC_COLUMNS + " ORDER BY started_at DESC, id DESC LIMIT 1", ps -> { }, SqlAdmin::gcRun);
    }

    @Override
    public void putGcRun(GcRunRecord g) {
        update("INSERT INTO gc_runs (id, state, dry_run, delete_untagged, grace_ms, cutoff_at, phase, cursor,"
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
    public List<Digest> blobDeletions() {
        return query("SELECT digest FROM blob_deletions ORDER BY digest", ps -> { },
                rs -> Digest.parse(rs.getString(1)));
    }

    private boolean exists(String sql, String digest) {
        return queryOne(sql, ps -> ps.setString(1, digest), rs -> true).isPresent();
    }

    @Override
    public boolean reserveBlob(Digest digest, String holder, long staleBefore) {
        String d = digest.toString();
        update("DELETE FROM blob_deletions WHERE digest = ? AND started_at < ?", ps -> {
            ps.setString(1, d);
            ps.setLong(2, staleBefore);
        });
        if (exists("SELECT 1 FROM blob_deletions WHERE digest = ?", d)) {
            return false;
        }
        update("INSERT INTO blob_reservations (digest, holder, created_at) VALUES (?, ?, ?)"
                + " ON CONFLICT (digest, holder) DO NOTHING", ps -> {
                    ps.setString(1, d);
                    ps.setString(2, holder);
                    ps.setLong(3, now);
                });
        return true;
    }

    @Override
    public void releaseBlob(Digest digest, String holder) {
        update("DELETE FROM blob_reservations WHERE digest = ? AND holder = ?", ps -> {
            ps.setString(1, digest.toString());
            ps.setString(2, holder);
        });
    }

    @Override
    public boolean blobReservedBy(Digest digest, String holder) {
        return queryOne("SELECT 1 FROM blob_reservations WHERE digest = ? AND holder = ?", ps -> {
            ps.setString(1, digest.toString());
            ps.setString(2, holder);
        }, rs -> true).isPresent();
    }

    @Override
    public int releaseReservationsBefore(long before) {
        return update("DELETE FROM blob_reservations WHERE created_at < ?", ps -> ps.setLong(1, before));
    }

    @Override
    public boolean claimBlobDeletion(Digest digest, String run, long requireUnlinkedSince) {
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
            boolean recent = queryOne("SELECT 1 FROM blobs WHERE digest = ? AND created_at >= ?", ps -> {
                ps.setString(1, d);
                ps.setLong(2, requireUnlinkedSince);
            }, rs -> true).isPresent() || queryOne("SELECT 1 FROM repository_blobs WHERE digest = ? AND linked_at >= ?"
                    + " LIMIT 1", ps -> {
                        ps.setString(1, d);
                        ps.setLong(2, requireUnlinkedSince);
                    }, rs -> true).isPresent();
            if (recent) {
                return false;
            }
        }
        update("DELETE FROM repository_blobs WHERE digest = ?", ps -> ps.setString(1, d));
        update("DELETE FROM blobs WHERE digest = ?", ps -> ps.setString(1, d));
        update("INSERT INTO blob_deletions (digest, run, started_at) VALUES (?, ?, ?)", ps -> {
            ps.setString(1, d);
            ps.setString(2, run);
            ps.setLong(3, now);
        });
        return true;
    }

    @Override
    public void endBlobDeletion(Digest digest) {
        update("DELETE FROM blob_deletions WHERE digest = ?", ps -> ps.setString(1, digest.toString()));
    }

    // ---- robot accounts

    private static final String ROBOT_COLUMNS = "SELECT name, secret_hash, repositories, actions, description,"
            + " created_at, created_by FROM robots";

    private static RobotRecord robot(ResultSet rs) throws SQLException {
        return new RobotRecord(rs.getString(1), rs.getString(2), List.of(rs.getString(3).split("\n")),
                List.of(rs.getString(4).split(",")), rs.getString(5), rs.getLong(6), rs.getString(7));
    }

    @Override
    public List<RobotRecord> robots() {
        return query(ROBOT_COLUMNS + " ORDER BY name", ps -> { }, SqlAdmin::robot);
    }

    @Override
    public Optional<RobotRecord> robot(String name) {
        return queryOne(ROBOT_COLUMNS + " WHERE name = ?", ps -> ps.setString(1, name), SqlAdmin::robot);
    }

    @Override
    public boolean insertRobot(RobotRecord robot) {
        if (robot(robot.name()).isPresent()) {
            return false;
        }
        update("INSERT INTO robots (name, secret_hash, repositories, actions, description, created_at, created_by)"
                + " VALUES (?, ?, ?, ?, ?, ?, ?)", ps -> {
                    ps.setString(1, robot.name());
                    ps.setString(2, robot.secretHash());
                    ps.setString(3, String.join("\n", robot.repositories()));
                    ps.setString(4, String.join(",", robot.actions()));
                    ps.setString(5, robot.description());
                    ps.setLong(6, robot.createdAt());
                    ps.setString(7, robot.createdBy());
                });
        return true;
    }

    @Override
    public boolean deleteRobot(String name) {
        return update("DELETE FROM robots WHERE name = ?", ps -> ps.setString(1, name)) > 0;
    }
}
