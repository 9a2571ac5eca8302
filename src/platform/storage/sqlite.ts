/**
 * The embedded driver: `node:sqlite` (DatabaseSync) on one file, WAL journal, foreign keys on, a busy
 * timeout for other processes. One connection per `Database`: statements run synchronously, and an
 * async mutex keeps a transaction's connection to itself while its callback awaits (a statement outside
 * the transaction waits for it; one inside it — found through the async context — joins it).
 *
 * Translation: `$n` placeholders become `?n` (outside quotes and comments); booleans bind as 1/0;
 * integral numbers and bigints bind as 64-bit integers (so a TEXT column stores '5', not '5.0');
 * Uint8Array binds as BLOB. Integers read back are numbers when safe, bigints beyond 2^53; BLOBs are
 * plain Uint8Arrays. Transactions start with BEGIN IMMEDIATE (the write lock up front, so two writers
 * never deadlock on a lock upgrade); nested ones are SAVEPOINTs.
 */
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { DatabaseSync, type SQLInputValue, type StatementSync } from 'node:sqlite';
import type { Database, Row, SqlValue } from './database.ts';
import { StorageError, fromSqliteError } from './errors.ts';
import { WalSync } from './wal-sync.ts';
import { Mutex, TransactionScope, activeHandle, newFrameStorage, type FrameStorage } from './transaction-scope.ts';

export interface SqliteOptions {
  /** File path, or ':memory:'. Parent folders are created (mode 0700) unless `readOnly`. */
  readonly path: string;
  /** Wait this long for another process's lock before failing with BUSY (default 5000 ms). */
  readonly busyTimeoutMs?: number;
  /** Open an existing file read-only. */
  readonly readOnly?: boolean;
  /**
   * `full` (default): every commit is on disk when `transaction` resolves — on a file, by group commit
   * (wal-sync.ts: SQLite's NORMAL plus one fsync of the WAL per group of commits, off the event loop).
   * `normal`: WAL commits may be lost on power failure (never on a process crash) — throw-away data only.
   */
  readonly synchronous?: 'full' | 'normal';
}

const MAX_CACHED_STATEMENTS = 256;

/** Per-file write locks shared by the handles of this process. */
const writeLocks = new Map<string, { readonly mutex: Mutex; refs: number }>();

function acquireWriteLock(key: string | undefined): { mutex: Mutex; release: () => void } {
  if (key === undefined) return { mutex: new Mutex(), release: () => {} };
  let entry = writeLocks.get(key);
  if (entry === undefined) {
    entry = { mutex: new Mutex(), refs: 0 };
    writeLocks.set(key, entry);
  }
  entry.refs++;
  const e = entry;
  let released = false;
  return {
    mutex: e.mutex,
    release: () => {
      if (released) return;
      released = true;
      if (--e.refs === 0) writeLocks.delete(key);
    },
  };
}

/** A statement that only reads: starts with SELECT or VALUES after blanks and comments. */
export function isReadOnlyStatement(sql: string): boolean {
  const body = sql.replace(/^(?:\s+|--[^\n]*(?:\n|$)|\/\*[\s\S]*?\*\/)*/, '');
  return /^(?:SELECT|VALUES)\b/i.test(body);
}

interface Prepared {
  readonly stmt: StatementSync;
  /** Highest `$n` in the statement: the number of parameters it needs. */
  readonly arity: number;
}

/**
 * `$1` → `?1` outside string literals, quoted identifiers and comments. Returns the SQL and the
 * highest placeholder number.
 */
export function translatePlaceholders(sql: string): { sql: string; arity: number } {
  let out = '';
  let arity = 0;
  let i = 0;
  const n = sql.length;
  while (i < n) {
    const c = sql[i]!;
    if (c === "'" || c === '"' || c === '`') {
      const end = closingQuote(sql, i, c);
      out += sql.slice(i, end);
      i = end;
    } else if (c === '-' && sql[i + 1] === '-') {
      const nl = sql.indexOf('\n', i);
      const end = nl < 0 ? n : nl;
      out += sql.slice(i, end);
      i = end;
    } else if (c === '/' && sql[i + 1] === '*') {
      const close = sql.indexOf('*/', i + 2);
      const end = close < 0 ? n : close + 2;
      out += sql.slice(i, end);
      i = end;
    } else if (c === '$' && i + 1 < n && sql[i + 1]! >= '0' && sql[i + 1]! <= '9') {
      let j = i + 1;
      while (j < n && sql[j]! >= '0' && sql[j]! <= '9') j++;
      const index = Number(sql.slice(i + 1, j));
      if (index < 1) throw new RangeError(`placeholder $${sql.slice(i + 1, j)} must be $1 or higher`);
      arity = Math.max(arity, index);
      out += `?${index}`;
      i = j;
    } else {
      out += c;
      i++;
    }
  }
  return { sql: out, arity };
}

function closingQuote(sql: string, start: number, q: string): number {
  let i = start + 1;
  while (i < sql.length) {
    if (sql[i] === q) {
      if (sql[i + 1] === q) {
        i += 2; // doubled quote inside the literal
        continue;
      }
      return i + 1;
    }
    i++;
  }
  return sql.length;
}

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

function bindValue(v: SqlValue, index: number): SQLInputValue {
  switch (typeof v) {
    case 'string':
      return v;
    case 'boolean':
      return v ? 1n : 0n;
    case 'number':
      if (!Number.isFinite(v)) throw new RangeError(`parameter $${index + 1} is ${v}: not storable`);
      return Number.isSafeInteger(v) ? BigInt(v) : v;
    case 'bigint':
      if (v < INT64_MIN || v > INT64_MAX) throw new RangeError(`parameter $${index + 1} is outside the 64-bit integer range`);
      return v;
    case 'object':
      if (v === null) return null;
      if (v instanceof Uint8Array) return v;
      break;
  }
  throw new TypeError(`parameter $${index + 1} is not a SqlValue (${Object.prototype.toString.call(v)})`);
}

function readValue(v: unknown): SqlValue {
  if (typeof v === 'bigint') {
    return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
  }
  if (v instanceof Uint8Array && v.constructor !== Uint8Array) return new Uint8Array(v);
  return v as SqlValue;
}

/** The one connection and its statements; every method is synchronous. */
class SqliteConnection {
  readonly raw: DatabaseSync;
  readonly #cache = new Map<string, Prepared>();
  closed = false;

  constructor(raw: DatabaseSync) {
    this.raw = raw;
  }

  #prepare(sql: string, params: readonly SqlValue[]): { stmt: StatementSync; args: SQLInputValue[] } {
    if (this.closed) throw new StorageError('CONNECTION', 'sqlite: the database is closed');
    let p = this.#cache.get(sql);
    if (p === undefined) {
      const t = translatePlaceholders(sql);
      let stmt: StatementSync;
      try {
        stmt = this.raw.prepare(t.sql);
      } catch (e) {
        throw fromSqliteError(e);
      }
      stmt.setReadBigInts(true);
      p = { stmt, arity: t.arity };
      if (this.#cache.size >= MAX_CACHED_STATEMENTS) this.#cache.clear();
      this.#cache.set(sql, p);
    }
    if (params.length !== p.arity) {
      throw new StorageError('QUERY', `sqlite: the statement takes ${p.arity} parameter(s), ${params.length} given`);
    }
    return { stmt: p.stmt, args: params.map(bindValue) };
  }

  query(sql: string, params: readonly SqlValue[]): Row[] {
    const { stmt, args } = this.#prepare(sql, params);
    let raw: Record<string, unknown>[];
    try {
      raw = stmt.all(...args) as Record<string, unknown>[];
    } catch (e) {
      throw fromSqliteError(e);
    }
    return raw.map((r) => {
      const row: Row = {};
      for (const k of Object.keys(r)) row[k] = readValue(r[k]);
      return row;
    });
  }

  execute(sql: string, params: readonly SqlValue[]): { rowCount: number } {
    const { stmt, args } = this.#prepare(sql, params);
    try {
      return { rowCount: Number(stmt.run(...args).changes) };
    } catch (e) {
      throw fromSqliteError(e);
    }
  }

  exec(sql: string): void {
    if (this.closed) throw new StorageError('CONNECTION', 'sqlite: the database is closed');
    try {
      this.raw.exec(sql);
    } catch (e) {
      throw fromSqliteError(e);
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.#cache.clear();
    this.raw.close();
  }
}

/** The handle a transaction callback receives; valid until the transaction ends. */
class SqliteTransaction implements Database {
  readonly dialect = 'sqlite' as const;
  readonly scope: TransactionScope<SqliteTransaction>;
  readonly #conn: SqliteConnection;

  constructor(conn: SqliteConnection, frames: FrameStorage) {
    this.#conn = conn;
    this.scope = new TransactionScope<SqliteTransaction>(this, async (sql) => conn.exec(sql), frames);
  }

  async query<T extends Row = Row>(sql: string, params: readonly SqlValue[] = []): Promise<T[]> {
    this.scope.assertOpen();
    return this.#conn.query(sql, params) as T[];
  }

  async execute(sql: string, params: readonly SqlValue[] = []): Promise<{ rowCount: number }> {
    this.scope.assertOpen();
    return this.#conn.execute(sql, params);
  }

  async execScript(sql: string): Promise<void> {
    this.scope.assertOpen();
    this.#conn.exec(sql);
  }

  transaction<T>(fn: (tx: Database) => Promise<T>): Promise<T> {
    return this.scope.savepoint(() => fn(this));
  }

  async close(): Promise<void> {
    throw new TypeError('close the database, not a transaction');
  }
}

class SqliteDatabase implements Database {
  readonly dialect = 'sqlite' as const;
  readonly #conn: SqliteConnection;
  /** This connection, to one caller at a time. */
  readonly #lock = new Mutex();
  /** The file's write lock, shared with the other handles of this process on the same file. */
  readonly #write: { mutex: Mutex; release: () => void };
  readonly #frames = newFrameStorage();
  /** Group commit (a durable file database), or undefined: COMMIT itself is as durable as it gets. */
  readonly #wal: WalSync | undefined;

  constructor(conn: SqliteConnection, fileKey: string | undefined, wal: WalSync | undefined) {
    this.#conn = conn;
    this.#write = acquireWriteLock(fileKey);
    this.#wal = wal;
  }

  /** Commit number `n` on disk (group commit), then `value`. */
  async #durable<T>(r: { value: T; n: number }): Promise<T> {
    await this.#wal?.durable(r.n);
    return r.value;
  }

  /** A write outside a transaction (autocommit): numbered, and resolved once on disk. */
  #write1<T>(fn: () => T): Promise<T> {
    return this.#exclusive(false, () => ({ value: fn(), n: this.#wal?.committed() ?? 0 })).then((r) => this.#durable(r));
  }

  /** A read outside a transaction sees only what is on disk (nobody acts on a commit not yet durable). */
  async #read<T>(fn: () => T): Promise<T> {
    if (this.#wal?.dirty) await this.#wal.durable(this.#wal.latest);
    return this.#exclusive(true, fn);
  }

  /** Run `fn` holding the connection, and the file's write lock unless `read`. */
  #exclusive<T>(read: boolean, fn: () => Promise<T> | T): Promise<T> {
    if (read) return this.#lock.run(fn);
    return this.#write.mutex.run(() => this.#lock.run(fn));
  }

  #joined(): SqliteTransaction | undefined {
    return activeHandle<SqliteTransaction>(this.#frames);
  }

  query<T extends Row = Row>(sql: string, params: readonly SqlValue[] = []): Promise<T[]> {
    const tx = this.#joined();
    if (tx !== undefined) return tx.query<T>(sql, params);
    if (isReadOnlyStatement(sql)) return this.#read(() => this.#conn.query(sql, params) as T[]);
    return this.#write1(() => this.#conn.query(sql, params) as T[]);
  }

  execute(sql: string, params: readonly SqlValue[] = []): Promise<{ rowCount: number }> {
    const tx = this.#joined();
    if (tx !== undefined) return tx.execute(sql, params);
    return this.#write1(() => this.#conn.execute(sql, params));
  }

  execScript(sql: string): Promise<void> {
    const tx = this.#joined();
    if (tx !== undefined) return tx.execScript(sql);
    return this.#write1(() => this.#conn.exec(sql));
  }

  transaction<T>(fn: (tx: Database) => Promise<T>): Promise<T> {
    const joined = this.#joined();
    if (joined !== undefined) return joined.transaction(fn);
    return this.#exclusive(false, async () => {
      const conn = this.#conn;
      conn.exec('BEGIN IMMEDIATE');
      const tx = new SqliteTransaction(conn, this.#frames);
      let result: T;
      try {
        result = await tx.scope.runTopLevel(() => fn(tx));
      } catch (e) {
        tx.scope.finish();
        try {
          if (conn.raw.isTransaction) conn.exec('ROLLBACK');
        } catch {
          // the error that made us roll back is the one to report
        }
        throw e;
      }
      tx.scope.finish();
      try {
        conn.exec('COMMIT');
      } catch (e) {
        try {
          if (conn.raw.isTransaction) conn.exec('ROLLBACK');
        } catch {
          // report the COMMIT failure
        }
        throw e;
      }
      return { value: result, n: this.#wal?.committed() ?? 0 };
    }).then((r) => this.#durable(r));
  }

  close(): Promise<void> {
    return this.#exclusive(false, async () => {
      await this.#wal?.close();
      this.#conn.close();
      this.#write.release();
    });
  }
}

export function openSqlite(options: SqliteOptions): Database {
  const { path } = options;
  if (typeof path !== 'string' || path.length === 0) throw new TypeError('sqlite path must be a non-empty string');
  const memory = path === ':memory:';
  const readOnly = options.readOnly === true;
  let groupCommit = false;
  if (!memory && !readOnly) mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  let raw: DatabaseSync;
  try {
    raw = new DatabaseSync(path, {
      readOnly,
      enableForeignKeyConstraints: true,
      timeout: options.busyTimeoutMs ?? 5000,
    });
  } catch (e) {
    const mapped = fromSqliteError(e);
    throw mapped instanceof StorageError ? mapped : new StorageError('CONNECTION', `sqlite: cannot open ${path}: ${(e as Error).message}`, { cause: e });
  }
  try {
    if (!memory && !readOnly) {
      const mode = (raw.prepare('PRAGMA journal_mode = WAL').get() as { journal_mode?: string } | undefined)?.journal_mode;
      // Group commit needs the WAL; without it (a file system that refuses WAL) every COMMIT syncs (FULL).
      groupCommit = mode === 'wal' && options.synchronous !== 'normal';
    }
    // Durable on a file: SQLite's NORMAL (no fsync inside COMMIT) plus group commit (wal-sync.ts).
    raw.exec(`PRAGMA synchronous = ${options.synchronous === 'normal' || groupCommit ? 'NORMAL' : 'FULL'}`);
    raw.exec('PRAGMA foreign_keys = ON');
  } catch (e) {
    raw.close();
    throw fromSqliteError(e);
  }
  return new SqliteDatabase(new SqliteConnection(raw), memory ? undefined : resolve(path), groupCommit ? new WalSync(resolve(path)) : undefined);
}
