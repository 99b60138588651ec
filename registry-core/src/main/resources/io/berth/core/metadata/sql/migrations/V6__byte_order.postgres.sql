-- PostgreSQL: names and digests sort bytewise (COLLATE "C") whatever the database's locale, so that
-- paging by "name > ?" and "ORDER BY name" agree with the byte order docs/api.md promises. Also, a
-- manifest's artifactType is unbounded input: the column takes any length.
ALTER TABLE repositories ALTER COLUMN name TYPE VARCHAR(255) COLLATE "C";
ALTER TABLE blobs ALTER COLUMN digest TYPE VARCHAR(160) COLLATE "C";
ALTER TABLE repository_blobs ALTER COLUMN repository TYPE VARCHAR(255) COLLATE "C";
ALTER TABLE repository_blobs ALTER COLUMN digest TYPE VARCHAR(160) COLLATE "C";
ALTER TABLE manifests ALTER COLUMN repository TYPE VARCHAR(255) COLLATE "C";
ALTER TABLE manifests ALTER COLUMN digest TYPE VARCHAR(160) COLLATE "C";
ALTER TABLE manifests ALTER COLUMN artifact_type TYPE TEXT;
ALTER TABLE manifest_blobs ALTER COLUMN repository TYPE VARCHAR(255) COLLATE "C";
ALTER TABLE manifest_blobs ALTER COLUMN manifest_digest TYPE VARCHAR(160) COLLATE "C";
ALTER TABLE manifest_blobs ALTER COLUMN blob_digest TYPE VARCHAR(160) COLLATE "C";
ALTER TABLE manifest_children ALTER COLUMN repository TYPE VARCHAR(255) COLLATE "C";
ALTER TABLE manifest_children ALTER COLUMN manifest_digest TYPE VARCHAR(160) COLLATE "C";
ALTER TABLE manifest_children ALTER COLUMN child_digest TYPE VARCHAR(160) COLLATE "C";
ALTER TABLE tags ALTER COLUMN repository TYPE VARCHAR(255) COLLATE "C";
ALTER TABLE tags ALTER COLUMN name TYPE VARCHAR(128) COLLATE "C";
ALTER TABLE tag_history ALTER COLUMN repository TYPE VARCHAR(255) COLLATE "C";
ALTER TABLE tag_history ALTER COLUMN tag TYPE VARCHAR(128) COLLATE "C";
ALTER TABLE robots ALTER COLUMN name TYPE VARCHAR(64) COLLATE "C";
ALTER TABLE retention_policies ALTER COLUMN name TYPE VARCHAR(128) COLLATE "C";
