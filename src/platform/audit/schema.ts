/**
 * The audit tables. Include AUDIT_MIGRATIONS in every service's migration list (once per database).
 *
 * audit_log  — one row per record: seq (1, 2, …), at (ISO-8601), actor, action, subject, details_json
 *              (canonical JSON), prev_hash and hash (SHA-256, 32 bytes). UPDATE, DELETE (and TRUNCATE on
 *              PostgreSQL) are refused by triggers: the table is append-only for the application.
 * audit_head — exactly one row (id = 1) with the last seq and hash: the lock row that serialises appends
 *              (UPDATE … RETURNING takes its row lock) and the anchor that reveals a deleted tail.
 */
import type { Migration } from '../storage/database.ts';

const ZERO_HASH_HEX = '00'.repeat(32);

export const AUDIT_MIGRATION: Migration = {
  id: 'platform_audit_0001',
  sql: {
    sqlite: `CREATE TABLE audit_log (
  seq INTEGER PRIMARY KEY,
  at TEXT NOT NULL,
  actor TEXT NOT NULL,
  action TEXT NOT NULL,
  subject TEXT NOT NULL,
  details_json TEXT NOT NULL,
  prev_hash BLOB NOT NULL,
  hash BLOB NOT NULL
);
CREATE TABLE audit_head (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  seq INTEGER NOT NULL,
  hash BLOB NOT NULL
);
INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, X'${ZERO_HASH_HEX}');
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
`,
    postgres: `CREATE TABLE audit_log (
  seq BIGINT PRIMARY KEY,
  at TEXT NOT NULL,
  actor TEXT NOT NULL,
  action TEXT NOT NULL,
  subject TEXT NOT NULL,
  details_json TEXT NOT NULL,
  prev_hash BYTEA NOT NULL,
  hash BYTEA NOT NULL
);
CREATE TABLE audit_head (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  seq BIGINT NOT NULL,
  hash BYTEA NOT NULL
);
INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, decode('${ZERO_HASH_HEX}', 'hex'));
CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit_log is append-only';
END
$$;
CREATE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE ON audit_log FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();
`,
  },
};

export const AUDIT_MIGRATIONS: readonly Migration[] = [AUDIT_MIGRATION];
