/**
 * Storage, sealing and audit for flow tests: the platform's own SQLite driver (in memory), a file KEK in a
 * temporary folder, and the hash-chained audit log — the same parts the services run on.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import { openDatabase, migrate, type Database, type Migration } from '../../src/platform/storage/index.ts';
import { FileKeyStore } from '../../src/platform/keystore/index.ts';
import { AuditLog, AUDIT_MIGRATIONS, type AuditDetails } from '../../src/platform/audit/index.ts';
import type { Auditor, Sealer } from '../../src/services/common/deps.ts';

export async function openTestDatabase(migrations: readonly Migration[], component = 'service'): Promise<Database> {
  const db = await openDatabase({ driver: 'sqlite', path: ':memory:' });
  await migrate(db, migrations, { component });
  await migrate(db, AUDIT_MIGRATIONS, { component: 'audit' });
  return db;
}

/** One temporary folder per test file for the KEK files, removed when the file's tests end. */
const kekDir = mkdtempSync(join(tmpdir(), 'opentsm-kek-'));
after(() => rmSync(kekDir, { recursive: true, force: true }));
let keks = 0;

export async function testSealer(): Promise<Sealer> {
  return FileKeyStore.open(join(kekDir, `kek-${++keks}.key`));
}

/** The real audit log of `db`, also recording each entry in `seen` for assertions. */
export function testAuditor(db: Database, seen: { actor: string; action: string; subject: string; details: Record<string, unknown> }[]): Auditor {
  const log = new AuditLog(db);
  return async (tx, record) => {
    seen.push(record as never);
    await log.append({ ...record, details: record.details as AuditDetails }, tx);
  };
}
