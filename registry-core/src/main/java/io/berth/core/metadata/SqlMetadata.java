package io.berth.core.metadata;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.berth.core.model.ChangeOrigin;
import io.berth.core.model.Digest;
import io.berth.core.model.RepositoryName;
import io.berth.core.model.UploadId;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Types;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;

/**
 * The SQL behind {@link MetadataTransaction}, on one JDBC connection. Only portable SQL
 * (SQLite 3.24+ and PostgreSQL 9.5+): {@code INSERT … ON CONFLICT}, no vendor functions.
 * Public for store implementations in other modules (metadata-postgres), not for callers of a store.
 */
public final class SqlMetadata extends SqlAdmin implements MetadataTransaction {
    private final List<Runnable> afterCommit = new ArrayList<>();

    /** For store implementations: the transaction's SQL on {@code connection}, stamped {@code now}. */
    public SqlMetadata(Connection connection, long now) {
        super(connection, now);
    }

    /** The actions registered with {@link #afterCommit}, for the store to run once committed. */
    List<Runnable> afterCommitActions() {
        return afterCommit;
    }

    /** Runs the after-commit actions once the transaction committed; a failing one is logged, not thrown. */
    public void runAfterCommit() {
        for (Runnable action : afterCommit) {
            try {
                action.run();
            } catch (RuntimeException e) {
                System.getLogger(SqlMetadata.class.getName()).log(System.Logger.Level.WARNING,
                        "after-commit action failed: " + e);
            }
        }
    }

    // ---- reads

    @Override
    public boolean repositoryExists(RepositoryName repository) {
        return queryOne("SELECT 1 FROM repositories WHERE name = ?", ps -> ps.setString(1, repository.value()),
                rs -> true).isPresent();
    }

    @Override
    public long repositoryCount() {
        return queryOne("SELECT COUNT(*) FROM repositories", ps -> { }, rs -> rs.getLong(1)).orElse(0L);
    }

    @Override
    public List<String> repositories(String after, int limit) {
        return query("SELECT name FROM repositories WHERE name > ? ORDER BY name LIMIT ?", ps -> {
            ps.setString(1, after == null ? "" : after);
            ps.setInt(2, limit);
        }, rs -> rs.getString(1));
    }

    @Override
    public OptionalLong blobSize(Digest digest) {
        return queryOne("SELECT size FROM blobs WHERE digest = ?", ps -> ps.setString(1, digest.toString()),
                rs -> rs.getLong(1)).map(OptionalLong::of).orElse(OptionalLong.empty());
    }

    @Override
    public boolean blobLinked(RepositoryName repository, Digest digest) {
        return queryOne("SELECT 1 FROM repository_blobs WHERE repository = ? AND digest = ?", ps -> {
            ps.setString(1, repository.value());
            ps.setString(2, digest.toString());
        }, rs -> true).isPresent();
    }

    @Override
    public OptionalLong linkedBlobSize(RepositoryName repository, Digest digest) {
        return queryOne("SELECT b.size FROM repository_blobs rb JOIN blobs b ON b.digest = rb.digest"
                + " WHERE rb.repository = ? AND rb.digest = ?", ps -> {
                    ps.setString(1, repository.value());
                    ps.setString(2, digest.toString());
                }, rs -> rs.getLong(1)).map(OptionalLong::of).orElse(OptionalLong.empty());
    }

    @Override
    public boolean blobLinkedAnywhere(Digest digest) {
        return queryOne("SELECT 1 FROM repository_blobs WHERE digest = ? LIMIT 1",
                ps -> ps.setString(1, digest.toString()), rs -> true).isPresent();
    }

    @Override
    public Optional<ManifestRecord> manifest(RepositoryName repository, Digest digest) {
        return queryOne("SELECT media_type, artifact_type, subject_digest, annotations, payload, pushed_at"
                + " FROM manifests WHERE repository = ? AND digest = ?", ps -> {
                    ps.setString(1, repository.value());
                    ps.setString(2, digest.toString());
                }, rs -> new ManifestRecord(repository, digest, rs.getString(1), rs.getString(2),
                        digest(rs.getString(3)), annotations(rs.getString(4)), rs.getBytes(5), rs.getLong(6)));
    }

    @Override
    public Optional<Digest> manifestReferencingBlob(RepositoryName repository, Digest blob) {
        return queryOne("SELECT manifest_digest FROM manifest_blobs WHERE repository = ? AND blob_digest = ?"
                + " ORDER BY manifest_digest LIMIT 1", ps -> {
                    ps.setString(1, repository.value());
                    ps.setString(2, blob.toString());
                }, rs -> Digest.parse(rs.getString(1)));
    }

    @Override
    public Optional<Digest> indexReferencingManifest(RepositoryName repository, Digest child) {
        return queryOne("SELECT manifest_digest FROM manifest_children WHERE repository = ? AND child_digest = ?"
                + " AND manifest_digest <> ? ORDER BY manifest_digest LIMIT 1", ps -> {
                    ps.setString(1, repository.value());
                    ps.setString(2, child.toString());
                    ps.setString(3, child.toString());
                }, rs -> Digest.parse(rs.getString(1)));
    }

    @Override
    public boolean manifestExists(RepositoryName repository, Digest digest) {
        return queryOne("SELECT 1 FROM manifests WHERE repository = ? AND digest = ?", ps -> {
            ps.setString(1, repository.value());
            ps.setString(2, digest.toString());
        }, rs -> true).isPresent();
    }

    @Override
    public Optional<Digest> tag(RepositoryName repository, String tag) {
        return queryOne("SELECT manifest_digest FROM tags WHERE repository = ? AND name = ?", ps -> {
            ps.setString(1, repository.value());
            ps.setString(2, tag);
        }, rs -> Digest.parse(rs.getString(1)));
    }

    @Override
    public List<String> tags(RepositoryName repository, String after, int limit) {
        return query("SELECT name FROM tags WHERE repository = ? AND name > ? ORDER BY name LIMIT ?", ps -> {
            ps.setString(1, repository.value());
            ps.setString(2, after == null ? "" : after);
            ps.setInt(3, limit);
        }, rs -> rs.getString(1));
    }

    @Override
    public List<String> tagsOf(RepositoryName repository, Digest manifest) {
        return query("SELECT name FROM tags WHERE repository = ? AND manifest_digest = ? ORDER BY name", ps -> {
            ps.setString(1, repository.value());
            ps.setString(2, manifest.toString());
        }, rs -> rs.getString(1));
    }

    @Override
    long nextPosition(String counter) {
        return nextSequence(counter);
    }

    @Override
    List<String> tagsOfRepository(RepositoryName repository) {
        return query("SELECT name FROM tags WHERE repository = ? ORDER BY name", ps -> ps.setString(1, repository.value()),
                rs -> rs.getString(1));
    }

    @Override
    public List<TagChange> tagHistory(RepositoryName repository, String tag) {
        return query("SELECT version, action, manifest_digest, previous_digest, changed_at, via, request_id, actor"
                + " FROM tag_history WHERE repository = ? AND tag = ? ORDER BY version", ps -> {
                    ps.setString(1, repository.value());
                    ps.setString(2, tag);
                }, rs -> new TagChange(tag, rs.getLong(1), TagChange.Action.valueOf(rs.getString(2)),
                        digest(rs.getString(3)), digest(rs.getString(4)), rs.getLong(5),
                        new ChangeOrigin(rs.getString(6), rs.getString(7), rs.getString(8))));
    }

    @Override
    public List<ReferrerRecord> referrers(RepositoryName repository, Digest subject, String artifactType, String after,
                                          int limit) {
        String sql = "SELECT digest, media_type, size, artifact_type, annotations FROM manifests"
                + " WHERE repository = ? AND subject_digest = ? AND digest > ?"
                + (artifactType == null ? "" : " AND artifact_type = ?") + " ORDER BY digest LIMIT ?";
        return query(sql, ps -> {
            ps.setString(1, repository.value());
            ps.setString(2, subject.toString());
            ps.setString(3, after == null ? "" : after);
            int i = 4;
            if (artifactType != null) {
                ps.setString(i++, artifactType);
            }
            ps.setInt(i, limit);
        }, rs -> new ReferrerRecord(Digest.parse(rs.getString(1)), rs.getString(2), rs.getLong(3),
                rs.getString(4), annotations(rs.getString(5))));
    }

    @Override
    public OptionalLong blobLastPulled(RepositoryName repository, Digest digest) {
        return lastPulled("repository_blobs", repository, digest);
    }

    @Override
    public OptionalLong manifestLastPulled(RepositoryName repository, Digest digest) {
        return lastPulled("manifests", repository, digest);
    }

    private OptionalLong lastPulled(String table, RepositoryName repository, Digest digest) {
        return queryOne("SELECT last_pulled_at FROM " + table + " WHERE repository = ? AND digest = ?", ps -> {
            ps.setString(1, repository.value());
            ps.setString(2, digest.toString());
        }, rs -> {
            long v = rs.getLong(1);
            return rs.wasNull() ? OptionalLong.empty() : OptionalLong.of(v);
        }).orElse(OptionalLong.empty());
    }

    @Override
    public Optional<UploadSession> upload(UploadId id) {
        return queryOne("SELECT repository, size, started_at, updated_at, client FROM upload_sessions WHERE id = ?",
                ps -> ps.setString(1, id.value()),
                rs -> new UploadSession(id, RepositoryName.of(rs.getString(1)), rs.getLong(2), rs.getLong(3),
                        rs.getLong(4), rs.getString(5)));
    }

    @Override
    public List<UploadSession> uploadsIdleSince(long before) {
        return query("SELECT id, repository, size, started_at, updated_at, client FROM upload_sessions"
                + " WHERE updated_at < ?", ps -> ps.setLong(1, before),
                rs -> new UploadSession(new UploadId(rs.getString(1)), RepositoryName.of(rs.getString(2)),
                        rs.getLong(3), rs.getLong(4), rs.getLong(5), rs.getString(6)));
    }

    @Override
    public long uploadsOfClient(String client) {
        return queryOne("SELECT COUNT(*) FROM upload_sessions WHERE client = ?", ps -> ps.setString(1, client),
                rs -> rs.getLong(1)).orElse(0L);
    }

    @Override
    public List<OutboxEvent> pendingEvents(int limit) {
        return query("SELECT seq, id, repository, repo_seq, type, payload, created_at FROM event_outbox"
                + " WHERE sent_at IS NULL ORDER BY seq LIMIT ?", ps -> ps.setInt(1, limit),
                rs -> new OutboxEvent(rs.getLong(1), rs.getString(2), rs.getString(3), rs.getLong(4), rs.getString(5),
                        rs.getString(6), rs.getLong(7)));
    }

    @Override
    public OutboxStats outboxStats() {
        return queryOne("SELECT COUNT(*), MIN(created_at) FROM event_outbox WHERE sent_at IS NULL", ps -> { },
                rs -> new OutboxStats(rs.getLong(1), rs.getLong(2))).orElse(new OutboxStats(0, 0));
    }

    @Override
    public boolean uploadExists(UploadId id) {
        return queryOne("SELECT 1 FROM upload_sessions WHERE id = ?", ps -> ps.setString(1, id.value()),
                rs -> true).isPresent();
    }

    // ---- writes

    @Override
    public long now() {
        return now;
    }

    @Override
    public void ensureRepository(RepositoryName repository) {
        update("INSERT INTO repositories (name, created_at) VALUES (?, ?) ON CONFLICT (name) DO NOTHING", ps -> {
            ps.setString(1, repository.value());
            ps.setLong(2, now);
        });
    }

    @Override
    public void putBlob(Digest digest, long size) {
        update("INSERT INTO blobs (digest, size, created_at) VALUES (?, ?, ?) ON CONFLICT (digest) DO NOTHING", ps -> {
            ps.setString(1, digest.toString());
            ps.setLong(2, size);
            ps.setLong(3, now);
        });
    }

    @Override
    public void linkBlob(RepositoryName repository, Digest digest) {
        update("INSERT INTO repository_blobs (repository, digest, linked_at) VALUES (?, ?, ?)"
                + " ON CONFLICT (repository, digest) DO UPDATE SET linked_at = excluded.linked_at", ps -> {
                    ps.setString(1, repository.value());
                    ps.setString(2, digest.toString());
                    ps.setLong(3, now);
                });
    }

    @Override
    public boolean unlinkBlob(RepositoryName repository, Digest digest) {
        return update("DELETE FROM repository_blobs WHERE repository = ? AND digest = ?", ps -> {
            ps.setString(1, repository.value());
            ps.setString(2, digest.toString());
        }) > 0;
    }

    @Override
    public void putManifest(ManifestRecord m, ManifestReferences references) {
        String repo = m.repository().value();
        String digest = m.digest().toString();
        update("INSERT INTO manifests (repository, digest, media_type, artifact_type, subject_digest, annotations,"
                + " size, payload, pushed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
                + " ON CONFLICT (repository, digest) DO UPDATE SET media_type = excluded.media_type,"
                + " artifact_type = excluded.artifact_type, subject_digest = excluded.subject_digest,"
                + " annotations = excluded.annotations, size = excluded.size, payload = excluded.payload,"
                + " pushed_at = excluded.pushed_at", ps -> {
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
        insertReferences("INSERT INTO manifest_blobs (repository, manifest_digest, blob_digest) VALUES (?, ?, ?)",
                repo, digest, references.blobs());
        insertReferences("INSERT INTO manifest_children (repository, manifest_digest, child_digest) VALUES (?, ?, ?)",
                repo, digest, references.children());
    }

    /** One prepared statement, batched: a manifest may reference thousands of blobs. */
    private void insertReferences(String sql, String repo, String manifest, Set<Digest> targets) {
        if (targets.isEmpty()) {
            return;
        }
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
    }

    private void deleteReferences(String repo, String digest) {
        Binder b = ps -> {
            ps.setString(1, repo);
            ps.setString(2, digest);
        };
        update("DELETE FROM manifest_blobs WHERE repository = ? AND manifest_digest = ?", b);
        update("DELETE FROM manifest_children WHERE repository = ? AND manifest_digest = ?", b);
    }

    @Override
    public boolean deleteManifest(RepositoryName repository, Digest digest, ChangeOrigin origin) {
        for (String tag : tagsOf(repository, digest)) {
            deleteTag(repository, tag, origin);
        }
        deleteReferences(repository.value(), digest.toString());
        return update("DELETE FROM manifests WHERE repository = ? AND digest = ?", ps -> {
            ps.setString(1, repository.value());
            ps.setString(2, digest.toString());
        }) > 0;
    }

    @Override
    public Optional<Digest> setTag(RepositoryName repository, String tag, Digest manifest, ChangeOrigin origin) {
        Optional<Digest> previous = tag(repository, tag);
        if (previous.isPresent() && previous.get().equals(manifest)) {
            update("UPDATE tags SET pushed_at = ? WHERE repository = ? AND name = ?", ps -> {
                ps.setLong(1, now);
                ps.setString(2, repository.value());
                ps.setString(3, tag);
            });
            return previous;
        }
        update("INSERT INTO tags (repository, name, manifest_digest, pushed_at) VALUES (?, ?, ?, ?)"
                + " ON CONFLICT (repository, name) DO UPDATE SET manifest_digest = excluded.manifest_digest,"
                + " pushed_at = excluded.pushed_at", ps -> {
                    ps.setString(1, repository.value());
                    ps.setString(2, tag);
                    ps.setString(3, manifest.toString());
                    ps.setLong(4, now);
                });
        appendHistory(repository, tag, previous.isPresent() ? TagChange.Action.MOVED : TagChange.Action.CREATED,
                manifest, previous.orElse(null), origin);
        return previous;
    }

    @Override
    public boolean deleteTag(RepositoryName repository, String tag, ChangeOrigin origin) {
        Optional<Digest> previous = tag(repository, tag);
        if (previous.isEmpty()) {
            return false;
        }
        update("DELETE FROM tags WHERE repository = ? AND name = ?", ps -> {
            ps.setString(1, repository.value());
            ps.setString(2, tag);
        });
        appendHistory(repository, tag, TagChange.Action.DELETED, null, previous.get(), origin);
        return true;
    }

    private void appendHistory(RepositoryName repository, String tag, TagChange.Action action, Digest digest,
                               Digest previous, ChangeOrigin origin) {
        long version = queryOne("SELECT MAX(version) FROM tag_history WHERE repository = ? AND tag = ?", ps -> {
            ps.setString(1, repository.value());
            ps.setString(2, tag);
        }, rs -> rs.getLong(1)).orElse(0L) + 1;
        update("INSERT INTO tag_history (repository, tag, version, action, manifest_digest, previous_digest,"
                + " changed_at, via, request_id, actor) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", ps -> {
                    ps.setString(1, repository.value());
                    ps.setString(2, tag);
                    ps.setLong(3, version);
                    ps.setString(4, action.name());
                    ps.setString(5, digest == null ? null : digest.toString());
                    ps.setString(6, previous == null ? null : previous.toString());
                    ps.setLong(7, now);
                    ps.setString(8, origin.via());
                    ps.setString(9, origin.requestId());
                    ps.setString(10, origin.actor());
                });
    }

    @Override
    public void createUpload(UploadSession s) {
        update("INSERT INTO upload_sessions (id, repository, size, started_at, updated_at, client)"
                + " VALUES (?, ?, ?, ?, ?, ?)", ps -> {
                    ps.setString(1, s.id().value());
                    ps.setString(2, s.repository().value());
                    ps.setLong(3, s.size());
                    ps.setLong(4, s.startedAt());
                    ps.setLong(5, s.updatedAt());
                    ps.setString(6, s.client());
                });
    }

    @Override
    public boolean advanceUpload(UploadId id, long expectedSize, long newSize) {
        return update("UPDATE upload_sessions SET size = ?, updated_at = ? WHERE id = ? AND size = ?", ps -> {
            ps.setLong(1, newSize);
            ps.setLong(2, now);
            ps.setString(3, id.value());
            ps.setLong(4, expectedSize);
        }) > 0;
    }

    @Override
    public boolean deleteUpload(UploadId id) {
        return update("DELETE FROM upload_sessions WHERE id = ?", ps -> ps.setString(1, id.value())) > 0;
    }

    @Override
    public void recordManifestPull(RepositoryName repository, Digest digest, long at) {
        update("UPDATE manifests SET last_pulled_at = ? WHERE repository = ? AND digest = ?"
                + " AND (last_pulled_at IS NULL OR last_pulled_at < ?)", ps -> {
                    ps.setLong(1, at);
                    ps.setString(2, repository.value());
                    ps.setString(3, digest.toString());
                    ps.setLong(4, at);
                });
    }

    @Override
    public long nextSequence(String name) {
        update("INSERT INTO sequences (name, value) VALUES (?, 1) ON CONFLICT (name) DO UPDATE SET value = sequences.value + 1",
                ps -> ps.setString(1, name));
        return queryOne("SELECT value FROM sequences WHERE name = ?", ps -> ps.setString(1, name), rs -> rs.getLong(1))
                .orElseThrow();
    }

    @Override
    public void insertEvent(OutboxEvent e) {
        update("INSERT INTO event_outbox (seq, id, repository, repo_seq, type, payload, created_at)"
                + " VALUES (?, ?, ?, ?, ?, ?, ?)", ps -> {
                    ps.setLong(1, e.seq());
                    ps.setString(2, e.id());
                    ps.setString(3, e.repository());
                    ps.setLong(4, e.repoSeq());
                    ps.setString(5, e.type());
                    ps.setString(6, e.payload());
                    ps.setLong(7, e.createdAt());
                });
    }

    @Override
    public int markEventsSent(List<Long> seqs, long at) {
        int n = 0;
        try (PreparedStatement ps = c.prepareStatement("UPDATE event_outbox SET sent_at = ? WHERE seq = ? AND sent_at IS NULL")) {
            for (long seq : seqs) {
                ps.setLong(1, at);
                ps.setLong(2, seq);
                ps.addBatch();
            }
            for (int r : ps.executeBatch()) {
                n += Math.max(0, r);
            }
        } catch (SQLException e) {
            throw new MetadataException("update failed: mark events sent", e);
        }
        return n;
    }

    @Override
    public int pruneSentEvents(long before) {
        return update("DELETE FROM event_outbox WHERE sent_at IS NOT NULL AND sent_at < ?", ps -> ps.setLong(1, before));
    }

    @Override
    public boolean acquireLease(String name, String owner, long until) {
        update("INSERT INTO leases (name, owner, expires_at) VALUES (?, ?, ?) ON CONFLICT (name) DO UPDATE"
                + " SET owner = excluded.owner, expires_at = excluded.expires_at"
                + " WHERE leases.owner = excluded.owner OR leases.expires_at < ?", ps -> {
                    ps.setString(1, name);
                    ps.setString(2, owner);
                    ps.setLong(3, until);
                    ps.setLong(4, now);
                });
        return queryOne("SELECT owner FROM leases WHERE name = ?", ps -> ps.setString(1, name), rs -> rs.getString(1))
                .map(owner::equals).orElse(false);
    }

    @Override
    public void afterCommit(Runnable action) {
        afterCommit.add(action);
    }

    @Override
    public void recordBlobPull(RepositoryName repository, Digest digest, long at) {
        update("UPDATE repository_blobs SET last_pulled_at = ? WHERE repository = ? AND digest = ?"
                + " AND (last_pulled_at IS NULL OR last_pulled_at < ?)", ps -> {
                    ps.setLong(1, at);
                    ps.setString(2, repository.value());
                    ps.setString(3, digest.toString());
                    ps.setLong(4, at);
                });
    }
}
