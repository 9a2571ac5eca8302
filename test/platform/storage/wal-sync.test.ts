/**
 * storage/wal-sync.ts (issue 8 §6): group commit — one fsync covers every commit numbered before it began,
 * commits made while an fsync runs share the next one, and a failed fsync fails the commits it covered.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WalSync } from '../../../src/platform/storage/wal-sync.ts';
import { openSqlite } from '../../../src/platform/storage/sqlite.ts';

test('one fsync for the commits before it; commits during it share the next', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'walsync-'));
  try {
    await writeFile(join(dir, 'db-wal'), 'frames');
    const w = new WalSync(join(dir, 'db'));
    const a = w.committed();
    const b = w.committed();
    const c = w.committed();
    assert.equal(w.dirty, true);
    await Promise.all([w.durable(a), w.durable(b), w.durable(c)]);
    assert.equal(w.syncs, 1);
    assert.equal(w.dirty, false);
    // d is committed while the fsync for it runs; e and f arrive during that fsync and share the next one.
    const d = w.committed();
    const pd = w.durable(d);
    const e = w.committed();
    const f = w.committed();
    await Promise.all([pd, w.durable(e), w.durable(f)]);
    const syncs = w.syncs as number;
    assert.ok(syncs === 2 || syncs === 3, `syncs ${syncs}`);
    assert.equal(w.dirty, false);
    await w.durable(f); // already on disk: no fsync
    assert.ok(w.syncs <= 3);
    await w.close();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('a failed fsync fails the commits it covers and leaves them dirty', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'walsync-'));
  try {
    const w = new WalSync(join(dir, 'missing'));
    const n = w.committed();
    await assert.rejects(w.durable(n), { code: 'ENOENT' });
    assert.equal(w.dirty, true);
    assert.equal(w.syncs, 0);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('the SQLite driver on a file: concurrent transactions resolve durable, reads see them', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'walsync-'));
  try {
    const db = openSqlite({ path: join(dir, 'x.db') });
    await db.execute('CREATE TABLE t (n INTEGER PRIMARY KEY)');
    await Promise.all(Array.from({ length: 20 }, (_, i) => db.transaction(async (tx) => void (await tx.execute('INSERT INTO t (n) VALUES ($1)', [i])))));
    assert.deepEqual(await db.query('SELECT count(*) AS c FROM t'), [{ c: 20 }]);
    assert.deepEqual(await db.query('PRAGMA synchronous'), [{ synchronous: 1 }], 'NORMAL inside SQLite; the WAL fsync is ours');
    await db.close();
    const again = openSqlite({ path: join(dir, 'x.db') });
    assert.deepEqual(await again.query('SELECT count(*) AS c FROM t'), [{ c: 20 }]);
    await again.close();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
