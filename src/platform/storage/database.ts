/**
 * The storage contract every service uses: one schema, two drivers (node:sqlite embedded by default,
 * PostgreSQL through `pg` for more than one machine). SQL is written once with `$1, $2, …` placeholders
 * and portable types; a driver translates what its engine needs.
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
   * committed when it resolves, rolled back when it throws. Nested calls join the outer transaction.
   */
  transaction<T>(fn: (tx: Database) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/** A schema step. `sql` is portable, or given per dialect where the engines differ. */
export interface Migration {
  /** Ordered, unique, never renamed once released: e.g. '0001_issuer_cards'. */
  readonly id: string;
  readonly sql: string | { readonly sqlite: string; readonly postgres: string };
}

export type DatabaseConfig =
  | { readonly driver: 'sqlite'; readonly path: string /* ':memory:' for tests */ }
  | { readonly driver: 'postgres'; readonly url: string; readonly schema?: string; readonly poolSize?: number };
