-- Pull-through caches (docs/proxy.md): as V7__proxy_cache.sql, with names sorting bytewise (COLLATE
-- "C", as V6__byte_order.postgres.sql gives every other name column).
CREATE TABLE proxy_repositories (
    repository VARCHAR(255) COLLATE "C" NOT NULL PRIMARY KEY,
    upstream   VARCHAR(64)  COLLATE "C" NOT NULL,
    remote     VARCHAR(255) COLLATE "C" NOT NULL,
    created_at BIGINT       NOT NULL
);
CREATE TABLE proxy_tags (
    repository   VARCHAR(255) COLLATE "C" NOT NULL,
    tag          VARCHAR(128) COLLATE "C" NOT NULL,
    validated_at BIGINT       NOT NULL,
    PRIMARY KEY (repository, tag)
);
