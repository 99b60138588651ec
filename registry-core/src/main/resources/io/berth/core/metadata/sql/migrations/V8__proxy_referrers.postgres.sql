-- Pull-through caches (docs/proxy.md): as V8__proxy_referrers.sql, with names sorting bytewise (COLLATE
-- "C", as V6__byte_order.postgres.sql gives every other name column).
CREATE TABLE proxy_referrers (
    repository    VARCHAR(255) COLLATE "C" NOT NULL,
    subject       VARCHAR(160) COLLATE "C" NOT NULL,
    artifact_type VARCHAR(255) COLLATE "C" NOT NULL,
    payload       BYTEA        NOT NULL,
    filtered      INTEGER      NOT NULL,
    validated_at  BIGINT       NOT NULL,
    PRIMARY KEY (repository, subject, artifact_type)
);
