/** The idempotency table: one row per (caller, Idempotency-Key); the first response is kept for replay. */
import type { Migration } from '../storage/database.ts';

export const IDEMPOTENCY_TABLE = 'platform_idempotency';

export const idempotencyMigrations: readonly Migration[] = Object.freeze([
  {
    id: '0001_platform_idempotency',
    sql: {
      sqlite: `CREATE TABLE platform_idempotency (
  scope TEXT NOT NULL,
  idem_key TEXT NOT NULL,
  request_hash TEXT NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('in_flight', 'done')),
  status INTEGER,
  headers TEXT,
  body BLOB,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (scope, idem_key)
)`,
      postgres: `CREATE TABLE platform_idempotency (
  scope TEXT NOT NULL,
  idem_key TEXT NOT NULL,
  request_hash TEXT NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('in_flight', 'done')),
  status INTEGER,
  headers TEXT,
  body BYTEA,
  created_at BIGINT NOT NULL,
  PRIMARY KEY (scope, idem_key)
)`,
    },
  },
  {
    id: '0002_platform_idempotency_created',
    sql: 'CREATE INDEX platform_idempotency_created ON platform_idempotency (created_at)',
  },
]);
