/**
 * One migration written once for both SQL dialects of the platform (docs/architecture.md §5: node:sqlite and
 * PostgreSQL run the same schema): `both((t) => sql)` renders it with each dialect's names for the column
 * types that differ (`t.blob`: BLOB in SQLite, BYTEA in PostgreSQL).
 */
import type { Migration } from './database.ts';

/** The column types that differ between the dialects. */
export interface DialectTypes {
  readonly blob: string;
}

export const SQLITE_TYPES: DialectTypes = Object.freeze({ blob: 'BLOB' });
export const POSTGRES_TYPES: DialectTypes = Object.freeze({ blob: 'BYTEA' });

export function both(f: (t: DialectTypes) => string): Migration['sql'] {
  return { sqlite: f(SQLITE_TYPES), postgres: f(POSTGRES_TYPES) };
}
