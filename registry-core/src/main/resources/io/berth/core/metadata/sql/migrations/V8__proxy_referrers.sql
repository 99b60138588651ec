-- Pull-through caches (docs/proxy.md): the upstream's referrers answer for a subject (exact bytes, so
-- signature and SBOM digests hold), per artifactType filter ('' for none), whether the upstream applied
-- the filter, and when it was fetched, which decides revalidation and stale serving as for a tag.
CREATE TABLE proxy_referrers (
    repository    VARCHAR(255) NOT NULL,
    subject       VARCHAR(160) NOT NULL,
    artifact_type VARCHAR(255) NOT NULL,
    payload       BYTEA        NOT NULL,
    filtered      INTEGER      NOT NULL,
    validated_at  BIGINT       NOT NULL,
    PRIMARY KEY (repository, subject, artifact_type)
);
