/**
 * The storage contract every service uses: one schema, two drivers (node:sqlite embedded by default,
 * PostgreSQL through `pg` for more than one machine). SQL is written once with `$1, $2, …` placeholders
 * and portable types; a driver translates what its engine needs.
 *
 * Portable SQL, in short (both drivers are tested against the same statements):
 * - Types: TEXT for strings, ISO-8601 timestamps (`2025-01-31T12:00:00.000Z`, they sort as text) and JSON;
 *   INTEGER (SQLite) / BIGINT (PostgreSQL) — or INTEGER on both when values stay below 2^31 — for numbers,
 *   epoch milliseconds and flags stored as 0/1; bytes are BLOB in SQLite and BYTEA in PostgreSQL, so a
 *   table with bytes is a per-dialect `Migration` (`{ sqlite, postgres }`). Avoid BOOLEAN, TIMESTAMP, JSONB,
 *   SERIAL and AUTOINCREMENT in shared statements; generate ids in the service.
 * - Values read back: integers are `number` when they are safe integers and `bigint` beyond 2^53 (both
 *   drivers); bytes are plain `Uint8Array`; a boolean parameter is bound as 1/0; any other PostgreSQL type
 *   (NUMERIC, timestamps, JSON) comes back as its text form, never as a Date or object.
 * - Statements: `INSERT … ON CONFLICT (…) DO NOTHING/UPDATE`, `RETURNING`, `LIMIT/OFFSET`, `COALESCE`,
 *   `CASE` work on both. No `?` placeholders, no `ILIKE`, no `NOW()` (pass the time in as a parameter).
 * - A failed statement aborts a PostgreSQL transaction but not a SQLite one: to recover from an expected
 *   failure (e.g. a unique violation you turn into a 409) inside a transaction, run that statement in a
 *   nested `transaction` (a savepoint), which behaves the same on both.
 */

/** Values that cross the driver boundary. Bytes are BLOB/BYTEA; integers beyond 2^53 as bigint. */
export type SqlValue = string | number | bigint | boolean | Uint8Array | null;

export type Row = Record<string, SqlValue>;

export interface Database {
  readonly dialect: 'sqlite' | 'postgres';
  /** Run a statement that returns rows. */
  query<T extends Row = Row>(sql: string, params?: readonly SqlValue[]): Promise<T[]>;
  /** Run a statement for its effect; `rowCount` is the number of rows changed. */
  execute(sql: string, params?: readonly SqlValue[]): Promise<{ rowCount: number }>;
  /**
   * Run `fn` in one transaction (serialisable enough for the row counts the platform relies on):
   * committed when it resolves, rolled back when it throws. Nested calls join the outer transaction:
   * `tx.transaction(…)` — or `db.transaction(…)`/`db.query(…)` on the outer handle from inside `fn`,
   * found through the async context — run in it, a nested `transaction` as a SAVEPOINT whose failure
   * rolls back only its own work. SQLite transactions start with BEGIN IMMEDIATE (one writer at a time);
   * PostgreSQL runs READ COMMITTED on one pooled connection, so take row locks (`UPDATE … RETURNING`)
   * where you read-modify-write. Inside `fn` never use ANOTHER handle on the same database: it would
   * wait for this transaction's locks while this transaction waits for it.
   */
  transaction<T>(fn: (tx: Database) => Promise<T>): Promise<T>;
  /**
   * Run a script of several statements without parameters (migrations: DDL, triggers). Optional so that
   * a test double can omit it; both drivers implement it.
   */
  execScript?(sql: string): Promise<void>;
  close(): Promise<void>;
}

/** A schema step. `sql` is portable, or given per dialect where the engines differ. */
export interface Migration {
  /** Ordered, unique, never renamed once released: e.g. '0001_issuer_cards'. */
  readonly id: string;
  readonly sql: string | { readonly sqlite: string; readonly postgres: string };
}

export type DatabaseConfig =
  | {
      readonly driver: 'sqlite';
      readonly path: string /* ':memory:' for tests; parent folders are created */;
      /** How long to wait for another process's write lock (default 5000 ms). */
      readonly busyTimeoutMs?: number;
      /** Open an existing file read-only (e.g. `opentsm audit verify`); never creates it. */
      readonly readOnly?: boolean;
    }
  | { readonly driver: 'postgres'; readonly url: string; readonly schema?: string; readonly poolSize?: number };
