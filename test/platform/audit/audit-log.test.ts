/** The hash-chained audit log on both drivers: format, tamper detection, key-material guard, concurrency. */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { toHex } from '../../../src/core/bytes.ts';
import { AuditError } from '../../../src/platform/audit/errors.ts';
import { AuditLog, auditRecordHash, verifyAuditLog, ZERO_HASH, type AuditDetails } from '../../../src/platform/audit/log.ts';
import { AUDIT_MIGRATIONS } from '../../../src/platform/audit/schema.ts';
import { findForbiddenField, fieldWords } from '../../../src/platform/audit/sensitive-fields.ts';
import { canonicalJson } from '../../../src/platform/audit/canonical-json.ts';
import type { Database } from '../../../src/platform/storage/database.ts';
import { StorageError } from '../../../src/platform/storage/errors.ts';
import { migrate } from '../../../src/platform/storage/migrate.ts';
import { forEachDatabase } from '../databases.ts';

function clock(): () => Date {
  let t = Date.parse('2025-03-01T10:00:00.000Z');
  return () => new Date((t += 1000));
}

async function setupLog(db: Database, records = 0): Promise<AuditLog> {
  await migrate(db, AUDIT_MIGRATIONS);
  const log = new AuditLog(db, { now: clock() });
  for (let i = 1; i <= records; i++) {
    await log.append({ actor: 'issuer', action: 'ssd.create', subject: `card:${i}`, details: { aid: `A00000015153504${i}`, kvn: 0x30 + i, keyKcvs: ['1A2B3C'] } });
  }
  return log;
}

/** What an attacker with SQL access does first. */
async function dropGuards(db: Database): Promise<void> {
  if (db.dialect === 'sqlite') await db.execScript!('DROP TRIGGER audit_log_no_update; DROP TRIGGER audit_log_no_delete;');
  else await db.execScript!('DROP TRIGGER audit_log_no_change ON audit_log; DROP TRIGGER audit_log_no_truncate ON audit_log;');
}

const sha256 = (...parts: Uint8Array[]): Uint8Array => {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return new Uint8Array(h.digest());
};

forEachDatabase('records are stored exactly as documented and chained with SHA-256', async ({ db }) => {
  const log = await setupLog(db);
  const r1 = await log.append({ actor: 'issuer', action: 'ssd.create', subject: 'card:1', details: { z: 1, aid: 'A0000001515350', nested: { b: [true, null], a: 'é' } } });
  const r2 = await log.append({ actor: 'provider:acme', action: 'keys.rotate', subject: '' });
  const json1 = '{"action":"ssd.create","actor":"issuer","at":"2025-03-01T10:00:01.000Z","details":{"aid":"A0000001515350","nested":{"a":"é","b":[true,null]},"z":1},"seq":1,"subject":"card:1"}';
  const h1 = sha256(ZERO_HASH, new TextEncoder().encode(json1));
  const json2 = '{"action":"keys.rotate","actor":"provider:acme","at":"2025-03-01T10:00:02.000Z","details":{},"seq":2,"subject":""}';
  const h2 = sha256(h1, new TextEncoder().encode(json2));
  assert.equal(toHex(r1.hash), toHex(h1));
  assert.equal(toHex(r2.hash), toHex(h2));
  assert.deepEqual(await db.query('SELECT seq, at, actor, action, subject, details_json, prev_hash, hash FROM audit_log ORDER BY seq'), [
    { seq: 1, at: '2025-03-01T10:00:01.000Z', actor: 'issuer', action: 'ssd.create', subject: 'card:1', details_json: '{"aid":"A0000001515350","nested":{"a":"é","b":[true,null]},"z":1}', prev_hash: ZERO_HASH, hash: h1 },
    { seq: 2, at: '2025-03-01T10:00:02.000Z', actor: 'provider:acme', action: 'keys.rotate', subject: '', details_json: '{}', prev_hash: h1, hash: h2 },
  ]);
  assert.deepEqual(await db.query('SELECT id, seq, hash FROM audit_head'), [{ id: 1, seq: 2, hash: h2 }]);
  assert.deepEqual(await log.verify(), { ok: true, count: 2, head: { seq: 2, hash: toHex(h2) } });
  assert.deepEqual((await log.read(1)).map((r) => [r.seq, r.action, r.details]), [[2, 'keys.rotate', {}]]);
  assert.deepEqual(await verifyAuditLog(db), { ok: true, count: 2, head: { seq: 2, hash: toHex(h2) } });
});

forEachDatabase('an empty log verifies; the triggers refuse UPDATE and DELETE', async ({ db }) => {
  const log = await setupLog(db);
  assert.deepEqual(await log.verify(), { ok: true, count: 0, head: { seq: 0, hash: toHex(ZERO_HASH) } });
  await log.append({ actor: 'a', action: 'b', subject: 'c' });
  await assert.rejects(db.execute('UPDATE audit_log SET actor = $1', ['mallory']), StorageError);
  await assert.rejects(db.execute('DELETE FROM audit_log'), StorageError);
  assert.deepEqual(await db.query('SELECT seq, actor FROM audit_log'), [{ seq: 1, actor: 'a' }]);
  assert.equal((await log.verify()).ok, true);
});

interface Tamper {
  readonly name: string;
  readonly apply: (db: Database) => Promise<void>;
  readonly firstBadSeq: number;
  readonly count: number;
}

/** Recompute a row's hash the way an attacker who knows the algorithm would. */
async function forgeRow(db: Database, seq: number, prev: Uint8Array, fields: { actor: string; details: AuditDetails }): Promise<Uint8Array> {
  const at = '2025-03-01T11:00:00.000Z';
  const hash = auditRecordHash(prev, { seq, at, actor: fields.actor, action: 'ssd.create', subject: `card:${seq}`, details: fields.details });
  await db.execute('INSERT INTO audit_log (seq, at, actor, action, subject, details_json, prev_hash, hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)', [
    seq, at, fields.actor, 'ssd.create', `card:${seq}`, canonicalJson(fields.details), prev, hash,
  ]);
  return hash;
}

async function hashOf(db: Database, seq: number): Promise<Uint8Array> {
  const [r] = await db.query<{ hash: Uint8Array }>('SELECT hash FROM audit_log WHERE seq = $1', [seq]);
  return r!.hash;
}

const TAMPERS: readonly Tamper[] = [
  { name: 'edited details', apply: (db) => db.execute(`UPDATE audit_log SET details_json = '{"aid":"A0","keyKcvs":["1A2B3C"],"kvn":50}' WHERE seq = 2`).then(() => {}), firstBadSeq: 2, count: 1 },
  { name: 'edited actor', apply: (db) => db.execute(`UPDATE audit_log SET actor = 'mallory' WHERE seq = 3`).then(() => {}), firstBadSeq: 3, count: 2 },
  { name: 'edited timestamp', apply: (db) => db.execute(`UPDATE audit_log SET at = '2020-01-01T00:00:00.000Z' WHERE seq = 1`).then(() => {}), firstBadSeq: 1, count: 0 },
  { name: 'non-canonical but equivalent JSON', apply: (db) => db.execute(`UPDATE audit_log SET details_json = '{"kvn":52, "aid":"A000000151535042","keyKcvs":["1A2B3C"]}' WHERE seq = 2`).then(() => {}), firstBadSeq: 2, count: 1 },
  { name: 'deleted middle record', apply: (db) => db.execute('DELETE FROM audit_log WHERE seq = 2').then(() => {}), firstBadSeq: 2, count: 1 },
  { name: 'deleted first record', apply: (db) => db.execute('DELETE FROM audit_log WHERE seq = 1').then(() => {}), firstBadSeq: 1, count: 0 },
  { name: 'deleted tail', apply: (db) => db.execute('DELETE FROM audit_log WHERE seq >= 4').then(() => {}), firstBadSeq: 4, count: 3 },
  {
    name: 'reordered records (seq swapped)',
    apply: async (db) => {
      await db.execute('UPDATE audit_log SET seq = 100 WHERE seq = 2');
      await db.execute('UPDATE audit_log SET seq = 2 WHERE seq = 3');
      await db.execute('UPDATE audit_log SET seq = 3 WHERE seq = 100');
    },
    firstBadSeq: 2,
    count: 1,
  },
  {
    name: 'record appended outside the log with a valid hash',
    apply: async (db) => {
      await forgeRow(db, 6, await hashOf(db, 5), { actor: 'mallory', details: {} });
    },
    firstBadSeq: 6,
    count: 5,
  },
  {
    name: 'record inserted in the middle with a valid hash',
    apply: async (db) => {
      for (const seq of [5, 4, 3]) await db.execute('UPDATE audit_log SET seq = $1 WHERE seq = $2', [seq + 1, seq]);
      await forgeRow(db, 3, await hashOf(db, 2), { actor: 'mallory', details: {} });
    },
    firstBadSeq: 4,
    count: 3,
  },
  { name: 'prev_hash altered', apply: (db) => db.execute('UPDATE audit_log SET prev_hash = $1 WHERE seq = 4', [new Uint8Array(32).fill(9)]).then(() => {}), firstBadSeq: 4, count: 3 },
  { name: 'head hash altered', apply: (db) => db.execute('UPDATE audit_head SET hash = $1', [new Uint8Array(32).fill(7)]).then(() => {}), firstBadSeq: 5, count: 4 },
];

forEachDatabase('verify detects every kind of tampering at the right record', async (d) => {
  for (const [i, tamper] of TAMPERS.entries()) {
    await d.db.execScript!('DROP TABLE IF EXISTS audit_log; DROP TABLE IF EXISTS audit_head; DROP TABLE IF EXISTS schema_migrations;');
    if (d.db.dialect === 'postgres') await d.db.execute('DROP FUNCTION IF EXISTS audit_log_append_only()');
    const log = await setupLog(d.db, 5);
    assert.equal((await log.verify()).ok, true, tamper.name);
    await dropGuards(d.db);
    await tamper.apply(d.db);
    const v = await verifyAuditLog(d.db);
    assert.equal(v.ok, false, `${i}: ${tamper.name}`);
    assert.equal(v.firstBadSeq, tamper.firstBadSeq, `${tamper.name}: ${v.reason}`);
    assert.equal(v.count, tamper.count, `${tamper.name}: ${v.reason}`);
    assert.equal(v.head.seq, tamper.count);
    assert.equal(v.head.hash, tamper.count === 0 ? toHex(ZERO_HASH) : toHex(await hashOf(d.db, tamper.count)), tamper.name);
  }
}, { timeout: 120_000 });

forEachDatabase('a rewritten chain passes alone but fails against an anchor kept elsewhere', async ({ db }) => {
  const log = await setupLog(db, 5);
  const anchorHead = await log.head();
  await dropGuards(db);
  await db.execute('DELETE FROM audit_log WHERE seq >= 2');
  let prev = await hashOf(db, 1);
  for (let seq = 2; seq <= 5; seq++) prev = await forgeRow(db, seq, prev, { actor: 'mallory', details: { seq } });
  await db.execute('UPDATE audit_head SET hash = $1', [prev]);
  assert.equal((await log.verify()).ok, true, 'undetectable from inside the database');
  const v = await log.verify({ anchor: anchorHead });
  assert.equal(v.ok, false);
  assert.equal(v.firstBadSeq, 5);
  // an anchor beyond the end (the tail and head were cut together)
  const cut = await verifyAuditLog(db, { anchor: { seq: 9, hash: anchorHead.hash } });
  assert.equal(cut.ok, false);
  assert.equal(cut.firstBadSeq, 6);
});

forEachDatabase('key material is refused before anything is written', async ({ db }) => {
  const log = await setupLog(db, 1);
  const refused: AuditDetails[] = [
    { keys: ['404142434445464748494a4b4c4d4e4f'] },
    { newKey: 'x' },
    { isdKeys: { enc: '00' } },
    { nested: [{ ok: 1 }, { sessionKey: 'x' }] },
    { secret: 's' },
    { plaintext: 'p' },
    { pin: '1234' },
    { keyKcv: '404142434445464748494a4b4c4d4e4f' },
    { kcv: 'not hex' },
    { SCP03_KEY_DATA: 'x' },
  ];
  for (const details of refused) {
    await assert.rejects(log.append({ actor: 'a', action: 'b', subject: 'c', details }), (e: unknown) => e instanceof AuditError && e.code === 'FORBIDDEN_FIELD', JSON.stringify(details));
  }
  await assert.rejects(log.append({ actor: '', action: 'b', subject: 'c' }), (e: unknown) => e instanceof AuditError && e.code === 'BAD_ENTRY');
  await assert.rejects(log.append({ actor: 'a', action: 'b', subject: 'c', details: { n: Number.NaN } }), (e: unknown) => e instanceof AuditError && e.code === 'BAD_ENTRY');
  await assert.rejects(log.append({ actor: 'a', action: 'b', subject: 'c', details: { b: new Uint8Array(1) as never } }), (e: unknown) => e instanceof AuditError && e.code === 'BAD_ENTRY');
  assert.deepEqual(await db.query('SELECT seq FROM audit_head'), [{ seq: 1 }]);
  assert.deepEqual(await db.query('SELECT count(*) AS n FROM audit_log'), [{ n: 1 }]);
  const allowed = await log.append({
    actor: 'issuer',
    action: 'keys.put',
    subject: 'card:1',
    details: { kvn: 0x31, keyVersion: 2, keyKcvs: ['1A2B3C', 'ABCDEF'], newKeyKcv: 'A1B2C3', kekId: 'file:00', keyType: 'AES', pinTries: 3, aid: 'A000000151000000' },
  });
  assert.equal(allowed.seq, 2);
});

test('field-name words and the key-material rule', () => {
  assert.deepEqual(fieldWords('newKeyKCVs'), ['new', 'key', 'kcvs']);
  assert.deepEqual(fieldWords('ssdAIDs'), ['ssd', 'aids']);
  assert.deepEqual(fieldWords('isdKeys'), ['isd', 'keys']);
  assert.deepEqual(fieldWords('ISDKeys'), ['isd', 'keys']);
  assert.deepEqual(fieldWords('scp03_key-data'), ['scp', '03', 'key', 'data']);
  assert.deepEqual(findForbiddenField({ a: { b: [{ c: 1 }, { sessionKeys: [] }] } }), { path: 'details.a.b[1].sessionKeys', reason: 'the name says key material; log KCVs, key versions or ids instead' });
  assert.equal(findForbiddenField({ kvn: 1, keyVersion: 1, kcv: 'ABCDEF', kcvs: ['AB', null], kekId: 'x', aid: 'A0' }), undefined);
  // A key set's KCVs as an object: roles as member names, KCVs as values, an integer kvn.
  assert.equal(findForbiddenField({ isdKcvs: { kvn: 48, enc: '8A737F', mac: 'DE0C54', dek: '77393E' } }), undefined);
  assert.equal(findForbiddenField({ to: { kcvs: [{ kvn: 1, enc: 'AABBCC' }] } }), undefined);
  const smuggled = { path: 'details.kcvs', reason: 'a KCV field must hold a KCV (hex, 1..8 bytes)' };
  assert.deepEqual(findForbiddenField({ kcvs: { kvn: 48, enc: '404142434445464748494A4B4C4D4E4F' } }), smuggled);
  assert.deepEqual(findForbiddenField({ kcvs: { kvn: 'x', enc: 'AABBCC' } }), smuggled);
  assert.deepEqual(findForbiddenField({ kcvs: { nested: { enc: 'AABBCC' } } }), smuggled);
});

forEachDatabase('appends join the caller transaction: rolled back with it, no gap left', async ({ db }) => {
  const log = await setupLog(db);
  await assert.rejects(
    db.transaction(async (tx) => {
      await log.append({ actor: 'a', action: 'first', subject: '' }, tx);
      throw new Error('card said 6A80');
    }),
    /6A80/,
  );
  await db.transaction(async (tx) => {
    await log.append({ actor: 'a', action: 'second', subject: '' }, tx);
    await log.append({ actor: 'a', action: 'third', subject: '' }); // joins through the async context
  });
  assert.deepEqual(await db.query('SELECT seq, action FROM audit_log ORDER BY seq'), [
    { seq: 1, action: 'second' },
    { seq: 2, action: 'third' },
  ]);
  assert.equal((await log.verify()).ok, true);
});

forEachDatabase('parallel appends from several handles form one chain', async (d) => {
  await setupLog(d.db);
  const handles = [d.db, await d.open(), await d.open()];
  const logs = handles.map((h) => new AuditLog(h));
  const verifying = (async () => {
    const results = [];
    for (let i = 0; i < 5; i++) results.push(await verifyAuditLog(handles[2]!));
    return results;
  })();
  const records = await Promise.all(
    Array.from({ length: 60 }, (_, i) => {
      const h = handles[i % 3]!;
      const entry = { actor: `worker${i % 3}`, action: 'ssd.create', subject: `card:${i}`, details: { i } };
      return i % 2 === 0
        ? logs[i % 3]!.append(entry)
        : h.transaction(async (tx) => {
            await tx.query('SELECT 1 AS one');
            return logs[i % 3]!.append(entry, tx);
          });
    }),
  );
  assert.deepEqual(
    records.map((r) => r.seq).sort((a, b) => a - b),
    Array.from({ length: 60 }, (_, i) => i + 1),
  );
  for (const v of await verifying) assert.equal(v.ok, true, v.reason);
  const v = await verifyAuditLog(d.db);
  assert.equal(v.ok, true, v.reason);
  assert.equal(v.count, 60);
}, { timeout: 120_000 });

forEachDatabase('without the migration: NOT_INITIALISED', async ({ db }) => {
  const log = new AuditLog(db);
  await assert.rejects(log.append({ actor: 'a', action: 'b', subject: '' }), (e: unknown) => e instanceof AuditError && e.code === 'NOT_INITIALISED');
  await assert.rejects(verifyAuditLog(db), (e: unknown) => e instanceof AuditError && e.code === 'NOT_INITIALISED');
});
