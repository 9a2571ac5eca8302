/**
 * Schema migrations: an ordered list of `Migration`s applied once each, recorded in `schema_migrations`
 * with the SHA-256 of the SQL that ran. `migrate` is idempotent and runs in one transaction (all pending
 * steps or none). It refuses, with a StorageError and without changing anything:
 * - MIGRATION_MISMATCH: an applied id whose SQL (for this dialect) is now different;
 * - MIGRATION_ORDER: applied ids that are not a prefix of the list (a step was inserted before an
 *   applied one, or the list was reordered);
 * - MIGRATION_UNKNOWN: an applied id the list does not know (a newer release ran against this database).
 *
 * `component` keeps the records of several migration lists apart in one database (e.g. two services
 * sharing a SQLite file); the default is 'default'. Concurrent `migrate` calls are serialised by the
 * transaction (SQLite's write lock; a PostgreSQL advisory lock).
 */
import { createHash } from 'node:crypto';
import type { Database, Migration } from './database.ts';
import { StorageError } from './errors.ts';

export interface MigrateOptions {
  readonly component?: string;
  /** Clock for `applied_at` (default: system time). */
  readonly now?: () => Date;
}

const MIGRATION_ID = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,199}$/;
/** Key of the PostgreSQL advisory lock held while migrating ('OTSMMIGR'). */
const ADVISORY_LOCK_KEY = '5716300163290189650';

export function migrationSql(m: Migration, dialect: Database['dialect']): string {
  return typeof m.sql === 'string' ? m.sql : m.sql[dialect];
}

export function migrationChecksum(sql: string): string {
  return createHash('sha256').update(sql, 'utf8').digest('hex');
}

function validate(migrations: readonly Migration[]): void {
  if (!Array.isArray(migrations)) throw new TypeError('migrations must be an array');
  const seen = new Set<string>();
  for (const m of migrations) {
    if (typeof m?.id !== 'string' || !MIGRATION_ID.test(m.id)) throw new RangeError(`bad migration id ${JSON.stringify(m?.id)}`);
    if (seen.has(m.id)) throw new RangeError(`migration id ${m.id} appears twice`);
    seen.add(m.id);
    const ok =
      typeof m.sql === 'string'
        ? m.sql.trim().length > 0
        : typeof m.sql?.sqlite === 'string' && typeof m.sql?.postgres === 'string' && m.sql.sqlite.trim().length > 0 && m.sql.postgres.trim().length > 0;
    if (!ok) throw new TypeError(`migration ${m.id}: sql must be non-empty SQL (or { sqlite, postgres })`);
  }
}

const CREATE_TABLE = `CREATE TABLE IF NOT EXISTS schema_migrations (
  component TEXT NOT NULL,
  id TEXT NOT NULL,
  position INTEGER NOT NULL,
  checksum TEXT NOT NULL,
  applied_at TEXT NOT NULL,
  PRIMARY KEY (component, id)
)`;

interface AppliedRow {
  readonly id: string;
  readonly position: number;
  readonly checksum: string;
  [k: string]: string | number;
}

/** Apply the pending migrations; returns the ids applied now (empty when up to date). */
export async function migrate(db: Database, migrations: readonly Migration[], options: MigrateOptions = {}): Promise<string[]> {
  validate(migrations);
  const component = options.component ?? 'default';
  if (typeof component !== 'string' || component.length === 0) throw new TypeError('component must be a non-empty string');
  const now = options.now ?? (() => new Date());
  return db.transaction(async (tx) => {
    if (tx.dialect === 'postgres') await tx.query(`SELECT pg_advisory_xact_lock(${ADVISORY_LOCK_KEY})`);
    await tx.execute(CREATE_TABLE);
    const applied = await tx.query<AppliedRow>(
      'SELECT id, position, checksum FROM schema_migrations WHERE component = $1 ORDER BY position, id',
      [component],
    );
    const index = new Map(migrations.map((m, i) => [m.id, i]));
    applied.forEach((row, i) => {
      const at = index.get(row.id);
      if (at === undefined) {
        throw new StorageError('MIGRATION_UNKNOWN', `migration ${row.id} is applied to the database (${component}) but unknown to this release`);
      }
      if (at !== i || row.position !== i) {
        throw new StorageError(
          'MIGRATION_ORDER',
          `migration ${row.id} was applied as step ${row.position + 1} but is step ${at + 1} of the list (${component}): applied steps must be the start of the list`,
        );
      }
      const sum = migrationChecksum(migrationSql(migrations[at]!, tx.dialect));
      if (sum !== row.checksum) {
        throw new StorageError('MIGRATION_MISMATCH', `migration ${row.id} (${component}) was applied with different SQL; never edit a released migration, add a new one`);
      }
    });
    const done: string[] = [];
    for (let i = applied.length; i < migrations.length; i++) {
      const m = migrations[i]!;
      const sql = migrationSql(m, tx.dialect);
      try {
        if (tx.execScript !== undefined) await tx.execScript(sql);
        else await tx.execute(sql);
      } catch (e) {
        if (e instanceof StorageError) throw new StorageError(e.code, `migration ${m.id}: ${e.message}`, { cause: e });
        throw e;
      }
      await tx.execute('INSERT INTO schema_migrations (component, id, position, checksum, applied_at) VALUES ($1, $2, $3, $4, $5)', [
        component,
        m.id,
        i,
        migrationChecksum(sql),
        now().toISOString(),
      ]);
      done.push(m.id);
    }
    return done;
  });
}
