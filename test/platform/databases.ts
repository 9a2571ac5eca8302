/**
 * Test helper: run a test body against BOTH drivers — SQLite (a temp file) and PostgreSQL (a private
 * cluster started with scripts/postgres.sh, one fresh schema per test, dropped afterwards).
 *
 *   forEachDatabase('unique violation maps to UNIQUE_VIOLATION', async ({ db, kind }) => { … });
 *
 * PostgreSQL comes from OPENTSM_TEST_POSTGRES_URL when set (CI service container), otherwise from
 * `scripts/postgres.sh start` (installs the Debian package when missing, reuses a running cluster).
 * When it cannot be started the PostgreSQL variant is SKIPPED with the reason — or FAILS when
 * OPENTSM_REQUIRE_POSTGRES=1 (CI sets it).
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test, type TestContext } from 'node:test';
import type { Database, DatabaseConfig } from '../../src/platform/storage/database.ts';
import { openDatabase } from '../../src/platform/storage/open.ts';

export type DatabaseKind = 'sqlite' | 'postgres';
export const DATABASE_KINDS: readonly DatabaseKind[] = ['sqlite', 'postgres'];

export const REQUIRE_POSTGRES = process.env.OPENTSM_REQUIRE_POSTGRES === '1';

const SCRIPT = fileURLToPath(new URL('../../scripts/postgres.sh', import.meta.url));

export interface TestDatabase {
  readonly kind: DatabaseKind;
  /** Configuration of this test's database (another `openDatabase(config)` sees the same tables). */
  readonly config: DatabaseConfig;
  /** Opened for the test; closed (and its data removed) by `dispose`. */
  readonly db: Database;
  /** Another handle on the same database (a second pool / connection), closed by `dispose`. */
  open(): Promise<Database>;
  dispose(): Promise<void>;
}

type PostgresForTests = { readonly url: string } | { readonly unavailable: string };
let postgresUrl: Promise<PostgresForTests> | undefined;

/** The URL of a running PostgreSQL for tests, starting the private cluster once per process. */
export function postgresForTests(): Promise<PostgresForTests> {
  postgresUrl ??= (async (): Promise<PostgresForTests> => {
    const given = process.env.OPENTSM_TEST_POSTGRES_URL;
    if (given !== undefined && given.length > 0) return { url: given };
    return new Promise<PostgresForTests>((resolve) => {
      execFile('bash', [SCRIPT, 'start'], { timeout: 600_000 }, (error, stdout, stderr) => {
        const lines = stdout.trim().split('\n');
        const last = lines[lines.length - 1] ?? '';
        if (error === null && last.startsWith('postgres://')) resolve({ url: last });
        else resolve({ unavailable: `scripts/postgres.sh start failed: ${(stderr || error?.message || stdout).trim().split('\n').slice(-3).join(' | ')}` });
      });
    });
  })();
  return postgresUrl;
}

let counter = 0;

function schemaName(): string {
  const file = basename(process.argv[1] ?? 'test').replace(/\.test\.ts$|\.ts$/, '');
  const slug = file.toLowerCase().replace(/[^a-z0-9]+/g, '_').slice(0, 24);
  return `t_${slug}_${process.pid}_${++counter}`;
}

/** A fresh, empty database of `kind`, or why PostgreSQL is not available. */
export async function createTestDatabase(kind: DatabaseKind): Promise<TestDatabase | { unavailable: string }> {
  const handles: Database[] = [];
  if (kind === 'sqlite') {
    const dir = await mkdtemp(join(tmpdir(), 'opentsm-db-'));
    const config: DatabaseConfig = { driver: 'sqlite', path: join(dir, 'test.db') };
    const db = await openDatabase(config);
    handles.push(db);
    return {
      kind,
      config,
      db,
      async open() {
        const other = await openDatabase(config);
        handles.push(other);
        return other;
      },
      async dispose() {
        for (const h of handles) await h.close().catch(() => {});
        await rm(dir, { recursive: true, force: true });
      },
    };
  }
  const pg = await postgresForTests();
  if ('unavailable' in pg) return pg;
  const schema = schemaName();
  const config: DatabaseConfig = { driver: 'postgres', url: pg.url, schema, poolSize: 5 };
  const db = await openDatabase(config);
  handles.push(db);
  return {
    kind,
    config,
    db,
    async open() {
      const other = await openDatabase(config);
      handles.push(other);
      return other;
    },
    async dispose() {
      for (const h of handles) await h.close().catch(() => {});
      const admin = await openDatabase({ driver: 'postgres', url: pg.url, poolSize: 1 });
      try {
        await admin.execute(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      } finally {
        await admin.close();
      }
    },
  };
}

/**
 * Register `name [sqlite]` and `name [postgres]`; each gets a fresh database, disposed afterwards.
 */
export function forEachDatabase(
  name: string,
  fn: (d: TestDatabase, t: TestContext) => Promise<void>,
  options: { readonly timeout?: number; readonly only?: DatabaseKind } = {},
): void {
  for (const kind of DATABASE_KINDS) {
    if (options.only !== undefined && options.only !== kind) continue;
    test(`${name} [${kind}]`, { timeout: options.timeout ?? 60_000 }, async (t) => {
      const d = await createTestDatabase(kind);
      if ('unavailable' in d) {
        if (REQUIRE_POSTGRES) throw new Error(`OPENTSM_REQUIRE_POSTGRES=1 but PostgreSQL is unavailable: ${d.unavailable}`);
        t.skip(d.unavailable);
        return;
      }
      try {
        await fn(d, t);
      } finally {
        await d.dispose();
      }
    });
  }
}
