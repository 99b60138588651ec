-- Berth metadata schema, version 3: the event outbox. An event row is written in the same
-- transaction as the change it describes; the relay publishes pending rows in seq order and marks
-- them sent only after the broker acknowledged them.
CREATE TABLE event_outbox (
    seq         BIGINT       NOT NULL PRIMARY KEY,
    id          VARCHAR(36)  NOT NULL,
    repository  VARCHAR(255) NOT NULL,
    repo_seq    BIGINT       NOT NULL,
    type        VARCHAR(64)  NOT NULL,
    payload     TEXT         NOT NULL,
    created_at  BIGINT       NOT NULL,
    sent_at     BIGINT
);
CREATE INDEX event_outbox_by_sent ON event_outbox (sent_at, seq);

-- Monotonic counters: 'outbox' numbers all events, 'repo:<name>' the events of one repository.
CREATE TABLE sequences (
    name   VARCHAR(300) NOT NULL PRIMARY KEY,
    value  BIGINT       NOT NULL
);

-- Which relay may publish now (one at a time keeps per-repository order): a renewable lease.
CREATE TABLE leases (
    name        VARCHAR(64)  NOT NULL PRIMARY KEY,
    owner       VARCHAR(128) NOT NULL,
    expires_at  BIGINT       NOT NULL
);
