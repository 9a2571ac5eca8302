/** `opentsm audit verify` (src/cli/audit.ts runAudit) on both drivers. */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { test } from 'node:test';
import { runAudit } from '../../../src/cli/audit.ts';
import { toHex } from '../../../src/core/bytes.ts';
import { UsageError } from '../../../src/cli/errors.ts';
import { AuditLog } from '../../../src/platform/audit/log.ts';
import { AUDIT_MIGRATIONS } from '../../../src/platform/audit/schema.ts';
import type { DatabaseConfig } from '../../../src/platform/storage/database.ts';
import { migrate } from '../../../src/platform/storage/migrate.ts';
import { forEachDatabase } from '../databases.ts';

async function run(...argv: string[]): Promise<{ code: number; stdout: string }> {
  let stdout = '';
  const write = process.stdout.write;
  process.stdout.write = ((chunk: string | Uint8Array) => {
    stdout += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
    return true;
  }) as typeof process.stdout.write;
  try {
    return { code: await runAudit(argv), stdout };
  } finally {
    process.stdout.write = write;
  }
}

function dbArg(config: DatabaseConfig): string {
  return config.driver === 'sqlite' ? `sqlite:${config.path}` : `${config.url}${config.url.includes('?') ? '&' : '?'}schema=${config.schema}`;
}

forEachDatabase('audit verify: intact → exit 0; tampered → exit 1 with the record', async (d) => {
  await migrate(d.db, AUDIT_MIGRATIONS);
  const log = new AuditLog(d.db, { now: () => new Date('2025-05-05T00:00:00.000Z') });
  for (let i = 0; i < 3; i++) await log.append({ actor: 'issuer', action: 'ssd.create', subject: `card:${i}`, details: { i } });
  const head = await log.head();
  const headText = `${head.seq}:${toHex(head.hash)}`;
  if (d.kind === 'sqlite') await d.db.close(); // a file not held open by the service (WAL checkpointed)

  const ok = await run('verify', '--db', dbArg(d.config));
  assert.deepEqual(ok, { code: 0, stdout: `audit log intact: 3 record(s), head ${headText}\n` });
  const json = await run('verify', '--db', dbArg(d.config), '--json', '--anchor', headText);
  assert.equal(json.code, 0);
  assert.deepEqual(JSON.parse(json.stdout), { ok: true, count: 3, head: { seq: 3, hash: headText.slice(2) } });

  const db = d.kind === 'sqlite' ? await d.open() : d.db;
  if (db.dialect === 'sqlite') await db.execute('DROP TRIGGER audit_log_no_update');
  else await db.execute('DROP TRIGGER audit_log_no_change ON audit_log');
  await db.execute(`UPDATE audit_log SET subject = 'card:x' WHERE seq = 2`);
  const broken = await run('verify', '--db', dbArg(d.config), '--json');
  assert.equal(broken.code, 1);
  const v = JSON.parse(broken.stdout);
  assert.equal(v.ok, false);
  assert.equal(v.firstBadSeq, 2);
  assert.equal(v.count, 1);
  const text = await run('verify', '--db', dbArg(d.config));
  assert.equal(text.code, 1);
  assert.match(text.stdout, /^audit log BROKEN at record 2: hash does not match the record\n1 record\(s\) intact before it/);
});

test('audit verify: usage errors, and a missing SQLite file is not created', async () => {
  await assert.rejects(run('verify'), UsageError);
  await assert.rejects(run('verify', '--db', 'sqlite:/tmp/opentsm-no-such-dir/none.db'), UsageError);
  assert.equal(existsSync('/tmp/opentsm-no-such-dir/none.db'), false);
  await assert.rejects(run('verify', '--db', 'sqlite:/tmp/x.db', '--anchor', '3:zz'), UsageError);
  await assert.rejects(run('frobnicate'), UsageError);
  assert.equal((await run('--help')).code, 0);
});
