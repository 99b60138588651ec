-- Berth metadata schema, version 2: upload sessions remember the client address that opened them,
-- so that one client cannot open an unbounded number of sessions (uploads.max-sessions-per-client).
ALTER TABLE upload_sessions ADD COLUMN client VARCHAR(64) NOT NULL DEFAULT '';
CREATE INDEX upload_sessions_by_client ON upload_sessions (client);
