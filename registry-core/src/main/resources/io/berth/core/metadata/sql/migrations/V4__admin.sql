-- Berth metadata schema, version 4: what the admin API needs.

-- Tag history becomes a ledger of who changed a tag: through which API (v2, admin, retention,
-- replication, gc), with which request id, by which actor (once access control names users).
-- Rows are never deleted: neither deleting a manifest nor garbage collection touches them.
ALTER TABLE tag_history ADD COLUMN via VARCHAR(16) NOT NULL DEFAULT 'v2';
ALTER TABLE tag_history ADD COLUMN request_id VARCHAR(64) NOT NULL DEFAULT '';
ALTER TABLE tag_history ADD COLUMN actor VARCHAR(255) NOT NULL DEFAULT '';

-- Listing tags by push time.
CREATE INDEX tags_by_pushed ON tags (repository, pushed_at, name);
-- Untagged manifests and pushes by time.
CREATE INDEX manifests_by_pushed ON manifests (pushed_at);

-- A matching tag, once pushed, cannot be moved or deleted.
CREATE TABLE immutability_rules (
    id            VARCHAR(36)  NOT NULL PRIMARY KEY,
    position      BIGINT       NOT NULL,
    repositories  VARCHAR(255) NOT NULL,
    tags          VARCHAR(255) NOT NULL,
    created_at    BIGINT       NOT NULL
);

-- Retention policies (the policy as JSON) and the plans their dry runs produced.
CREATE TABLE retention_policies (
    name          VARCHAR(128) NOT NULL PRIMARY KEY,
    spec          TEXT         NOT NULL,
    created_at    BIGINT       NOT NULL,
    updated_at    BIGINT       NOT NULL,
    last_run_at   BIGINT,
    last_run      TEXT
);

CREATE TABLE retention_plans (
    id            VARCHAR(36)  NOT NULL PRIMARY KEY,
    policy        VARCHAR(128) NOT NULL,
    created_at    BIGINT       NOT NULL,
    items         TEXT         NOT NULL
);
CREATE INDEX retention_plans_by_age ON retention_plans (created_at);

-- Garbage collection runs and where each one is, so a stopped run resumes.
CREATE TABLE gc_runs (
    id                 VARCHAR(36)  NOT NULL PRIMARY KEY,
    state              VARCHAR(16)  NOT NULL,
    dry_run            INTEGER      NOT NULL,
    delete_untagged    INTEGER      NOT NULL,
    grace_ms           BIGINT       NOT NULL,
    cutoff_at          BIGINT       NOT NULL,
    phase              VARCHAR(32)  NOT NULL,
    cursor             VARCHAR(300) NOT NULL,
    started_at         BIGINT       NOT NULL,
    updated_at         BIGINT       NOT NULL,
    finished_at        BIGINT,
    manifests_deleted  BIGINT       NOT NULL,
    blobs_examined     BIGINT       NOT NULL,
    blobs_deleted      BIGINT       NOT NULL,
    bytes_freed        BIGINT       NOT NULL,
    error              TEXT
);
CREATE INDEX gc_runs_by_start ON gc_runs (started_at);

-- The protocol between uploads and garbage collection on one digest. An upload reserves the digest
-- before it places the blob's file and releases it in the transaction that records the blob; GC
-- claims a digest (blob_deletions) only when nobody reserved it, and an upload waits while a claim
-- exists. So GC never deletes a file that a concurrent push is placing or has just placed.
CREATE TABLE blob_reservations (
    digest      VARCHAR(160) NOT NULL,
    holder      VARCHAR(36)  NOT NULL,
    created_at  BIGINT       NOT NULL,
    PRIMARY KEY (digest, holder)
);

CREATE TABLE blob_deletions (
    digest      VARCHAR(160) NOT NULL PRIMARY KEY,
    run         VARCHAR(36)  NOT NULL,
    started_at  BIGINT       NOT NULL
);
