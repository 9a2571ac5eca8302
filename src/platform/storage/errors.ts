/**
 * Typed storage errors. Both drivers map their engine's errors to one `StorageError` with a stable
 * `code`, so that a service can turn `UNIQUE_VIOLATION` into a 409 problem without knowing whether
 * SQLite or PostgreSQL answered. The engine's own error stays in `cause` (it may quote row values:
 * log the `code` and `constraint`, not the cause).
 */
import { OpentsmError } from '../../core/errors.ts';

export type StorageErrorCode =
  | 'UNIQUE_VIOLATION'
  | 'FOREIGN_KEY_VIOLATION'
  | 'NOT_NULL_VIOLATION'
  | 'CHECK_VIOLATION'
  /** A row the caller required does not exist (raised by services and helpers, not by drivers). */
  | 'NOT_FOUND'
  /** Serialisation failure or deadlock: the transaction was rolled back and may be retried. */
  | 'SERIALIZATION_FAILURE'
  /** The database is locked by another connection beyond the busy timeout. */
  | 'BUSY'
  | 'CONNECTION'
  | 'READ_ONLY'
  /** A statement the engine refused for another reason (syntax, unknown table, type mismatch …). */
  | 'QUERY'
  | 'MIGRATION_MISMATCH'
  | 'MIGRATION_ORDER'
  | 'MIGRATION_UNKNOWN';

export class StorageError extends OpentsmError {
  declare readonly code: StorageErrorCode;
  /** Name of the violated constraint (PostgreSQL) or `table.column` list (SQLite), when known. */
  readonly constraint: string | undefined;
  constructor(code: StorageErrorCode, message: string, options?: { cause?: unknown; constraint?: string }) {
    super(code, message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.constraint = options?.constraint;
  }
}

/** SQLite (node:sqlite) error → StorageError. `errcode` is SQLite's extended result code. */
export function fromSqliteError(e: unknown): unknown {
  if (e instanceof StorageError || !(e instanceof Error)) return e;
  const errcode = (e as { errcode?: unknown }).errcode;
  if (typeof errcode !== 'number') {
    if ((e as NodeJS.ErrnoException).code === 'ERR_INVALID_STATE') return new StorageError('CONNECTION', `sqlite: ${e.message}`, { cause: e });
    return e;
  }
  const msg = e.message;
  const after = (prefix: string): string | undefined => {
    const i = msg.indexOf(prefix);
    return i < 0 ? undefined : msg.slice(i + prefix.length).trim();
  };
  switch (errcode) {
    case 2067: // SQLITE_CONSTRAINT_UNIQUE
    case 1555: // SQLITE_CONSTRAINT_PRIMARYKEY
      return new StorageError('UNIQUE_VIOLATION', `sqlite: ${msg}`, { cause: e, constraint: after('failed:') });
    case 787: // SQLITE_CONSTRAINT_FOREIGNKEY
      return new StorageError('FOREIGN_KEY_VIOLATION', `sqlite: ${msg}`, { cause: e });
    case 1299: // SQLITE_CONSTRAINT_NOTNULL
      return new StorageError('NOT_NULL_VIOLATION', `sqlite: ${msg}`, { cause: e, constraint: after('failed:') });
    case 275: // SQLITE_CONSTRAINT_CHECK
      return new StorageError('CHECK_VIOLATION', `sqlite: ${msg}`, { cause: e, constraint: after('failed:') });
  }
  switch (errcode & 0xff) {
    case 5: // SQLITE_BUSY
    case 6: // SQLITE_LOCKED
      return new StorageError('BUSY', `sqlite: ${msg}`, { cause: e });
    case 8: // SQLITE_READONLY
      return new StorageError('READ_ONLY', `sqlite: ${msg}`, { cause: e });
    case 10: // SQLITE_IOERR
    case 11: // SQLITE_CORRUPT
    case 14: // SQLITE_CANTOPEN
    case 26: // SQLITE_NOTADB
      return new StorageError('CONNECTION', `sqlite: ${msg}`, { cause: e });
    default:
      return new StorageError('QUERY', `sqlite: ${msg}`, { cause: e });
  }
}

const CONNECTION_ERRNOS = new Set(['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'EAI_AGAIN']);

/** PostgreSQL (pg) error → StorageError, by SQLSTATE. */
export function fromPostgresError(e: unknown): unknown {
  if (e instanceof StorageError || !(e instanceof Error)) return e;
  const code = (e as { code?: unknown }).code;
  const constraint = (e as { constraint?: unknown }).constraint;
  const c = typeof constraint === 'string' ? constraint : undefined;
  if (typeof code !== 'string') {
    if (/Connection terminated|not queryable|Client was closed|connection timeout/i.test(e.message)) {
      return new StorageError('CONNECTION', `postgres: ${e.message}`, { cause: e });
    }
    return e;
  }
  if (CONNECTION_ERRNOS.has(code)) return new StorageError('CONNECTION', `postgres: ${e.message || code}`, { cause: e });
  const m = `postgres: ${e.message} (${code})`;
  switch (code) {
    case '23505':
      return new StorageError('UNIQUE_VIOLATION', m, { cause: e, ...(c ? { constraint: c } : {}) });
    case '23503':
      return new StorageError('FOREIGN_KEY_VIOLATION', m, { cause: e, ...(c ? { constraint: c } : {}) });
    case '23502':
      return new StorageError('NOT_NULL_VIOLATION', m, { cause: e, ...(c ? { constraint: c } : {}) });
    case '23514':
      return new StorageError('CHECK_VIOLATION', m, { cause: e, ...(c ? { constraint: c } : {}) });
    case '40001':
    case '40P01':
      return new StorageError('SERIALIZATION_FAILURE', m, { cause: e });
    case '55P03':
      return new StorageError('BUSY', m, { cause: e });
    case '25006':
      return new StorageError('READ_ONLY', m, { cause: e });
    case '08P01': // protocol violation: e.g. a wrong number of parameters — the statement's fault
      return new StorageError('QUERY', m, { cause: e });
  }
  if (code.startsWith('08') || code === '57P01' || code === '57P02' || code === '57P03' || code === '53300' || code === '28000' || code === '28P01' || code === '3D000') {
    return new StorageError('CONNECTION', m, { cause: e });
  }
  return new StorageError('QUERY', m, { cause: e });
}
