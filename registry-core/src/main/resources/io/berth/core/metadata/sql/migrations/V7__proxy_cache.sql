-- Pull-through caches (docs/proxy.md): which local repositories are cached from which upstream (its
-- configured name) and under which name there; and when the upstream last confirmed each cached tag
-- (the tag itself is a row of tags like any other), which decides revalidation and stale serving.
CREATE TABLE proxy_repositories (
    repository VARCHAR(255) NOT NULL PRIMARY KEY,
    upstream   VARCHAR(64)  NOT NULL,
    remote     VARCHAR(255) NOT NULL,
    created_at BIGINT       NOT NULL
);
CREATE TABLE proxy_tags (
    repository   VARCHAR(255) NOT NULL,
    tag          VARCHAR(128) NOT NULL,
    validated_at BIGINT       NOT NULL,
    PRIMARY KEY (repository, tag)
);
