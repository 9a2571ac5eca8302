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

forEachDatabase('issue 8 §4: the tail cut off AND the head row rewritten — the chain alone verifies, the signed checkpoints do not', async (d) => {
  const { mkdtemp, rm, readFile, writeFile } = await import('node:fs/promises');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const { FileKeyStore } = await import('../../../src/platform/keystore/file-kek.ts');
  const { AuditCheckpointer, verifyCheckpoints } = await import('../../../src/platform/audit/checkpoint.ts');
  const dir = await mkdtemp(join(tmpdir(), 'opentsm-checkpoints-'));
  const kek = join(dir, 'kek.key');
  const file = join(dir, 'audit', 'issuer.checkpoints');
  const keystore = await FileKeyStore.open(kek);
  try {
    await migrate(d.db, AUDIT_MIGRATIONS);
    const log = new AuditLog(d.db, { now: () => new Date('2025-05-05T00:00:00.000Z') });
    const checkpointer = new AuditCheckpointer({ log, keystore, path: file, name: 'issuer', now: () => new Date('2025-05-05T00:01:00.000Z') });
    for (let i = 1; i <= 3; i++) await log.append({ actor: 'issuer', action: 'ssd.create', subject: `card:${i}`, details: { i } });
    assert.equal((await checkpointer.checkpoint())?.seq, 3);
    for (let i = 4; i <= 5; i++) await log.append({ actor: 'issuer', action: 'ssd.create', subject: `card:${i}`, details: { i } });
    assert.equal((await checkpointer.checkpoint())?.seq, 5);
    assert.equal(await checkpointer.checkpoint(), undefined, 'no new checkpoint while the head stands still');
    const intact = await verifyCheckpoints(d.db, file, 'issuer', keystore);
    assert.deepEqual([intact.ok, intact.count, intact.checkpoints, intact.signed], [true, 5, 2, true]);

    // The attacker cuts records 4 and 5 and rewrites the head row to record 3: the chain alone is intact.
    const [third] = await d.db.query<{ hash: Uint8Array }>('SELECT hash FROM audit_log WHERE seq = 3');
    if (d.db.dialect === 'sqlite') await d.db.execute('DROP TRIGGER audit_log_no_delete');
    else await d.db.execute('DROP TRIGGER audit_log_no_change ON audit_log');
    await d.db.execute('DELETE FROM audit_log WHERE seq > 3');
    await d.db.execute('UPDATE audit_head SET seq = 3, hash = $1 WHERE id = 1', [third!.hash]);
    assert.equal((await log.verify()).ok, true, 'the truncation is invisible to the chain alone');

    const cut = await verifyCheckpoints(d.db, file, 'issuer', keystore);
    assert.equal(cut.ok, false);
    assert.equal(cut.firstBadSeq, 4);
    assert.equal(cut.reason, 'checkpoint 2 (seq 5, 2025-05-05T00:01:00.000Z): the log ends at 3 — records 4..5 were cut off the end');
    if (d.kind === 'sqlite') await d.db.close();
    const text = await run('verify', '--db', dbArg(d.config), '--checkpoints', file, '--kek', kek);
    assert.equal(text.code, 1);
    assert.equal(
      text.stdout.split('\n')[0],
      'audit log BROKEN at record 4: checkpoint 2 (seq 5, 2025-05-05T00:01:00.000Z): the log ends at 3 — records 4..5 were cut off the end',
    );
    // A forged checkpoint (the attacker edits the file to match the cut log) fails its signature.
    const lines = (await readFile(file, 'utf8')).trim().split('\n');
    const forged = { ...(JSON.parse(lines[2]!) as Record<string, unknown>), seq: 3, hash: toHex(third!.hash).toLowerCase() };
    await writeFile(file, [lines[0], lines[1], JSON.stringify(forged)].join('\n') + '\n');
    const db2 = d.kind === 'sqlite' ? await d.open() : d.db;
    const bad = await verifyCheckpoints(db2, file, 'issuer', keystore);
    assert.deepEqual([bad.ok, bad.reason], [false, 'checkpoint 2 (seq 3, 2025-05-05T00:01:00.000Z): its signature does not verify']);
  } finally {
    keystore.close();
    await rm(dir, { recursive: true, force: true });
  }
});
