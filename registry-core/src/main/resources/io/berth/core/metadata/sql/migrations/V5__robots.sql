-- Robot accounts (access control): a name, the SHA-256 of its secret (a random 256-bit value shown
-- once at creation; never stored in clear), and what it may do: repository globs (one per line) and
-- actions (comma-separated). Revoking deletes the row.
CREATE TABLE robots (
    name         VARCHAR(64)   NOT NULL PRIMARY KEY,
    secret_hash  VARCHAR(64)   NOT NULL,
    repositories TEXT          NOT NULL,
    actions      VARCHAR(100)  NOT NULL,
    description  TEXT          NOT NULL,
    created_at   BIGINT        NOT NULL,
    created_by   VARCHAR(200)  NOT NULL
);
