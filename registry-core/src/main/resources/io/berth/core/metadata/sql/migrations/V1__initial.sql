-- Berth metadata schema, version 1.
-- Portable between SQLite and PostgreSQL: no auto-increment keys, no engine-specific types
-- (BYTEA is a plain BLOB to SQLite), natural keys throughout, times as epoch milliseconds.

CREATE TABLE repositories (
    name        VARCHAR(255) NOT NULL PRIMARY KEY,
    created_at  BIGINT       NOT NULL
);

-- Content the BlobStore holds, committed only after its digest was verified.
CREATE TABLE blobs (
    digest      VARCHAR(160) NOT NULL PRIMARY KEY,
    size        BIGINT       NOT NULL,
    created_at  BIGINT       NOT NULL
);

-- Which repository may serve which blob (push, mount), and when it was last pulled there.
CREATE TABLE repository_blobs (
    repository      VARCHAR(255) NOT NULL,
    digest          VARCHAR(160) NOT NULL,
    linked_at       BIGINT       NOT NULL,
    last_pulled_at  BIGINT,
    PRIMARY KEY (repository, digest)
);
CREATE INDEX repository_blobs_by_digest ON repository_blobs (digest);

CREATE TABLE manifests (
    repository      VARCHAR(255) NOT NULL,
    digest          VARCHAR(160) NOT NULL,
    media_type      VARCHAR(255) NOT NULL,
    artifact_type   VARCHAR(255),
    subject_digest  VARCHAR(160),
    annotations     TEXT,
    size            BIGINT       NOT NULL,
    payload         BYTEA        NOT NULL,
    pushed_at       BIGINT       NOT NULL,
    last_pulled_at  BIGINT,
    PRIMARY KEY (repository, digest)
);
CREATE INDEX manifests_by_subject ON manifests (repository, subject_digest);

-- manifest -> blob (config, layers) and manifest -> manifest (index children) references:
-- the reachability graph for garbage collection and delete protection.
CREATE TABLE manifest_blobs (
    repository       VARCHAR(255) NOT NULL,
    manifest_digest  VARCHAR(160) NOT NULL,
    blob_digest      VARCHAR(160) NOT NULL,
    PRIMARY KEY (repository, manifest_digest, blob_digest)
);
CREATE INDEX manifest_blobs_by_blob ON manifest_blobs (blob_digest);

CREATE TABLE manifest_children (
    repository       VARCHAR(255) NOT NULL,
    manifest_digest  VARCHAR(160) NOT NULL,
    child_digest     VARCHAR(160) NOT NULL,
    PRIMARY KEY (repository, manifest_digest, child_digest)
);
CREATE INDEX manifest_children_by_child ON manifest_children (repository, child_digest);

CREATE TABLE tags (
    repository       VARCHAR(255) NOT NULL,
    name             VARCHAR(128) NOT NULL,
    manifest_digest  VARCHAR(160) NOT NULL,
    pushed_at        BIGINT       NOT NULL,
    PRIMARY KEY (repository, name)
);
CREATE INDEX tags_by_manifest ON tags (repository, manifest_digest);

-- Every change of a tag, in order ("versions"): created, moved, deleted.
CREATE TABLE tag_history (
    repository       VARCHAR(255) NOT NULL,
    tag              VARCHAR(128) NOT NULL,
    version          BIGINT       NOT NULL,
    action           VARCHAR(16)  NOT NULL,
    manifest_digest  VARCHAR(160),
    previous_digest  VARCHAR(160),
    changed_at       BIGINT       NOT NULL,
    PRIMARY KEY (repository, tag, version)
);

CREATE TABLE upload_sessions (
    id          VARCHAR(36)  NOT NULL PRIMARY KEY,
    repository  VARCHAR(255) NOT NULL,
    size        BIGINT       NOT NULL,
    started_at  BIGINT       NOT NULL,
    updated_at  BIGINT       NOT NULL
);
CREATE INDEX upload_sessions_by_age ON upload_sessions (updated_at);
