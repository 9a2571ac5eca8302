/**
 * The PostgreSQL driver: a `pg` Pool. A statement outside a transaction takes any pooled connection;
 * a transaction holds one connection from BEGIN to COMMIT/ROLLBACK (READ COMMITTED), and code inside
 * it that calls the outer handle joins it through the async context.
 *
 * Value policy (explicit, per pool — the global `pg.types` is left alone):
 * - BIGINT/INT8 → number when it is a safe integer, bigint beyond ±2^53 (same as the SQLite driver);
 *   INT2/INT4/OID → number; REAL/DOUBLE → number; BOOLEAN → boolean; BYTEA → plain Uint8Array (a copy,
 *   not a Buffer); every other type (NUMERIC, timestamps, JSON, arrays) → its text form.
 * - Parameters: Uint8Array → BYTEA; bigint → its decimal text; boolean → 1/0 (accepted by INTEGER and
 *   BOOLEAN columns alike); non-finite numbers are refused.
 * - `schema` (tests, or several services in one database): created when missing and set as the
 *   search_path of every pooled connection, so unqualified table names land there.
 */
import pg from 'pg';
import type { Database, Row, SqlValue } from './database.ts';
import { StorageError, fromPostgresError } from './errors.ts';
import { TransactionScope, activeHandle, newFrameStorage, type FrameStorage } from './transaction-scope.ts';

export interface PostgresOptions {
  readonly url: string;
  /** A schema for this handle's tables: `[a-z_][a-z0-9_]*`, at most 63 characters. */
  readonly schema?: string;
  /** Pool size (default 10). */
  readonly poolSize?: number;
  /** Time to wait for a connection (default 10 000 ms). */
  readonly connectTimeoutMs?: number;
}

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

function parseInt8(text: string): number | bigint {
  const n = Number(text);
  return Number.isSafeInteger(n) ? n : BigInt(text);
}

const byteaParser = pg.types.getTypeParser(17, 'text') as (text: string) => Buffer;

function parseBytea(text: string): Uint8Array {
  const b = byteaParser(text);
  return new Uint8Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
}

const identity = (text: string): string => text;

/** The type parsers of this driver's pools (text format; the driver never asks for binary results). */
export const POSTGRES_TYPES = {
  getTypeParser(oid: number): (text: string) => SqlValue {
    switch (oid) {
      case 16: // bool
        return (t) => t === 't';
      case 17: // bytea
        return parseBytea;
      case 20: // int8
        return parseInt8;
      case 21: // int2
      case 23: // int4
      case 26: // oid
        return (t) => Number(t);
      case 700: // float4
      case 701: // float8
        return (t) => Number(t);
      default:
        return identity;
    }
  },
};

function bindValue(v: SqlValue, index: number): unknown {
  switch (typeof v) {
    case 'string':
      return v;
    case 'boolean':
      return v ? 1 : 0;
    case 'number':
      if (!Number.isFinite(v)) throw new RangeError(`parameter $${index + 1} is ${v}: not storable`);
      return v;
    case 'bigint':
      return v.toString();
    case 'object':
      if (v === null) return null;
      if (v instanceof Uint8Array) return Buffer.from(v.buffer, v.byteOffset, v.byteLength);
      break;
  }
  throw new TypeError(`parameter $${index + 1} is not a SqlValue (${Object.prototype.toString.call(v)})`);
}

type Queryable = pg.Pool | pg.PoolClient;

async function run(on: Queryable, sql: string, params: readonly SqlValue[]): Promise<pg.QueryResult<Row>> {
  const values = params.map(bindValue);
  try {
    return await on.query<Row>({ text: sql, values });
  } catch (e) {
    throw fromPostgresError(e);
  }
}

async function runScript(on: Queryable, sql: string): Promise<void> {
  try {
    await on.query(sql); // no parameters: the simple query protocol, several statements allowed
  } catch (e) {
    throw fromPostgresError(e);
  }
}

class PostgresTransaction implements Database {
  readonly dialect = 'postgres' as const;
  readonly scope: TransactionScope<PostgresTransaction>;
  readonly #client: pg.PoolClient;

  constructor(client: pg.PoolClient, frames: FrameStorage) {
    this.#client = client;
    this.scope = new TransactionScope<PostgresTransaction>(this, (sql) => runScript(client, sql), frames);
  }

  async query<T extends Row = Row>(sql: string, params: readonly SqlValue[] = []): Promise<T[]> {
    this.scope.assertOpen();
    return (await run(this.#client, sql, params)).rows as T[];
  }

  async execute(sql: string, params: readonly SqlValue[] = []): Promise<{ rowCount: number }> {
    this.scope.assertOpen();
    return { rowCount: (await run(this.#client, sql, params)).rowCount ?? 0 };
  }

  async execScript(sql: string): Promise<void> {
    this.scope.assertOpen();
    await runScript(this.#client, sql);
  }

  transaction<T>(fn: (tx: Database) => Promise<T>): Promise<T> {
    return this.scope.savepoint(() => fn(this));
  }

  async close(): Promise<void> {
    throw new TypeError('close the database, not a transaction');
  }
}

class PostgresDatabase implements Database {
  readonly dialect = 'postgres' as const;
  readonly #pool: pg.Pool;
  readonly #frames = newFrameStorage();
  #closed = false;

  constructor(pool: pg.Pool) {
    this.#pool = pool;
  }

  #joined(): PostgresTransaction | undefined {
    return activeHandle<PostgresTransaction>(this.#frames);
  }

  #assertOpen(): void {
    if (this.#closed) throw new StorageError('CONNECTION', 'postgres: the database is closed');
  }

  async query<T extends Row = Row>(sql: string, params: readonly SqlValue[] = []): Promise<T[]> {
    const tx = this.#joined();
    if (tx !== undefined) return tx.query<T>(sql, params);
    this.#assertOpen();
    return (await run(this.#pool, sql, params)).rows as T[];
  }

  async execute(sql: string, params: readonly SqlValue[] = []): Promise<{ rowCount: number }> {
    const tx = this.#joined();
    if (tx !== undefined) return tx.execute(sql, params);
    this.#assertOpen();
    return { rowCount: (await run(this.#pool, sql, params)).rowCount ?? 0 };
  }

  async execScript(sql: string): Promise<void> {
    const tx = this.#joined();
    if (tx !== undefined) return tx.execScript(sql);
    this.#assertOpen();
    await runScript(this.#pool, sql);
  }

  async transaction<T>(fn: (tx: Database) => Promise<T>): Promise<T> {
    const joined = this.#joined();
    if (joined !== undefined) return joined.transaction(fn);
    this.#assertOpen();
    let client: pg.PoolClient;
    try {
      client = await this.#pool.connect();
    } catch (e) {
      throw asConnectionError(e);
    }
    try {
      await client.query('BEGIN');
    } catch (e) {
      client.release(e as Error);
      throw fromPostgresError(e);
    }
    const tx = new PostgresTransaction(client, this.#frames);
    let result: T;
    try {
      result = await tx.scope.runTopLevel(() => fn(tx));
    } catch (e) {
      tx.scope.finish();
      try {
        await client.query('ROLLBACK');
        client.release();
      } catch (rollbackError) {
        client.release(rollbackError as Error); // a broken connection leaves the pool
      }
      throw e;
    }
    tx.scope.finish();
    let commit: pg.QueryResult;
    try {
      commit = await client.query('COMMIT');
    } catch (e) {
      client.release(e as Error);
      throw fromPostgresError(e);
    }
    client.release();
    if (commit.command === 'ROLLBACK') {
      // PostgreSQL answers COMMIT of a transaction aborted by an earlier failed statement with ROLLBACK.
      throw new StorageError('QUERY', 'postgres: the transaction was rolled back: a statement in it failed (catch expected failures in a nested transaction)');
    }
    return result;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#pool.end();
  }
}

function asConnectionError(e: unknown): unknown {
  const mapped = fromPostgresError(e);
  if (mapped instanceof StorageError) return mapped;
  return new StorageError('CONNECTION', `postgres: ${(e as Error)?.message ?? String(e)}`, { cause: e });
}

/** Open a pool, check that the server answers, create `schema` when given. */
export async function openPostgres(options: PostgresOptions): Promise<Database> {
  const { url, schema } = options;
  if (typeof url !== 'string' || url.length === 0) throw new TypeError('postgres url must be a non-empty string');
  if (schema !== undefined && !SCHEMA_NAME.test(schema)) {
    throw new RangeError(`postgres schema ${JSON.stringify(schema)} must match ${SCHEMA_NAME}`);
  }
  const poolSize = options.poolSize ?? 10;
  if (!Number.isInteger(poolSize) || poolSize < 1 || poolSize > 1000) throw new RangeError('poolSize must be 1..1000');
  const pool = new pg.Pool({
    connectionString: url,
    max: poolSize,
    connectionTimeoutMillis: options.connectTimeoutMs ?? 10_000,
    types: POSTGRES_TYPES as unknown as pg.CustomTypesConfig,
    ...(schema !== undefined ? { options: `-c search_path=${schema}` } : {}),
  });
  // An idle connection that dies (server restart) must not crash the process: the next query reports it.
  pool.on('error', () => {});
  try {
    if (schema !== undefined) {
      try {
        await pool.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
      } catch (e) {
        // two processes creating the same schema at once: the loser sees a unique violation
        if ((e as { code?: string }).code !== '23505') throw e;
      }
    } else {
      await pool.query('SELECT 1');
    }
  } catch (e) {
    await pool.end().catch(() => {});
    throw asConnectionError(e);
  }
  return new PostgresDatabase(pool);
}
