/** Transactions on both drivers: commit, rollback, savepoint nesting, joining, isolation, concurrency. */
import assert from 'node:assert/strict';
import type { Database } from '../../../src/platform/storage/database.ts';
import { StorageError } from '../../../src/platform/storage/errors.ts';
import { forEachDatabase } from '../databases.ts';

async function setup(db: Database): Promise<void> {
  await db.execute('CREATE TABLE t (k TEXT PRIMARY KEY, v INTEGER NOT NULL)');
}

async function keys(db: Database): Promise<string[]> {
  return (await db.query<{ k: string }>('SELECT k FROM t ORDER BY k')).map((r) => r.k);
}

class Boom extends Error {}

forEachDatabase('commit makes the work visible; a throw rolls all of it back and rethrows the same error', async ({ db }) => {
  await setup(db);
  const r = await db.transaction(async (tx) => {
    await tx.execute('INSERT INTO t (k, v) VALUES ($1, $2)', ['a', 1]);
    await tx.execute('INSERT INTO t (k, v) VALUES ($1, $2)', ['b', 2]);
    return 'done';
  });
  assert.equal(r, 'done');
  assert.deepEqual(await keys(db), ['a', 'b']);
  const boom = new Boom('no');
  await assert.rejects(
    db.transaction(async (tx) => {
      await tx.execute('INSERT INTO t (k, v) VALUES ($1, $2)', ['c', 3]);
      await tx.execute('UPDATE t SET v = 99');
      throw boom;
    }),
    (e) => e === boom,
  );
  assert.deepEqual(await db.query('SELECT k, v FROM t ORDER BY k'), [
    { k: 'a', v: 1 },
    { k: 'b', v: 2 },
  ]);
});

forEachDatabase('nested transactions are savepoints: an inner failure rolls back only the inner work', async ({ db }) => {
  await setup(db);
  await db.transaction(async (tx) => {
    await tx.execute('INSERT INTO t (k, v) VALUES ($1, $2)', ['outer', 1]);
    await assert.rejects(
      tx.transaction(async (inner) => {
        await inner.execute('INSERT INTO t (k, v) VALUES ($1, $2)', ['inner', 2]);
        throw new Boom('inner');
      }),
      Boom,
    );
    const deep = await tx.transaction(async (inner) => {
      await inner.execute('INSERT INTO t (k, v) VALUES ($1, $2)', ['kept', 3]);
      return inner.transaction(async (innermost) => {
        await innermost.execute('INSERT INTO t (k, v) VALUES ($1, $2)', ['deep', 4]);
        return 'deep ok';
      });
    });
    assert.equal(deep, 'deep ok');
  });
  assert.deepEqual(await keys(db), ['deep', 'kept', 'outer']);
  // inner success + outer failure → nothing at all
  await assert.rejects(
    db.transaction(async (tx) => {
      await tx.transaction((inner) => inner.execute('INSERT INTO t (k, v) VALUES ($1, $2)', ['lost', 5]));
      throw new Boom('outer');
    }),
    Boom,
  );
  assert.deepEqual(await keys(db), ['deep', 'kept', 'outer']);
});

forEachDatabase('an expected unique violation caught in a nested transaction leaves the outer one usable', async ({ db }) => {
  await setup(db);
  await db.execute('INSERT INTO t (k, v) VALUES ($1, $2)', ['dup', 0]);
  const outcome = await db.transaction(async (tx) => {
    await tx.execute('INSERT INTO t (k, v) VALUES ($1, $2)', ['new', 1]);
    try {
      await tx.transaction((s) => s.execute('INSERT INTO t (k, v) VALUES ($1, $2)', ['dup', 1]));
      return 'inserted';
    } catch (e) {
      assert.ok(e instanceof StorageError && e.code === 'UNIQUE_VIOLATION');
      await tx.execute('UPDATE t SET v = v + 10 WHERE k = $1', ['dup']);
      return 'conflict';
    }
  });
  assert.equal(outcome, 'conflict');
  assert.deepEqual(await db.query('SELECT k, v FROM t ORDER BY k'), [
    { k: 'dup', v: 10 },
    { k: 'new', v: 1 },
  ]);
});

forEachDatabase('PostgreSQL: a failure swallowed outside a savepoint is reported at COMMIT, not silently lost', async ({ db }) => {
  await setup(db);
  await db.execute('INSERT INTO t (k, v) VALUES ($1, $2)', ['dup', 0]);
  const err = await db
    .transaction(async (tx) => {
      await tx.execute('INSERT INTO t (k, v) VALUES ($1, $2)', ['x', 1]);
      await tx.execute('INSERT INTO t (k, v) VALUES ($1, $2)', ['dup', 1]).catch(() => {});
    })
    .then(
      () => undefined,
      (e: unknown) => e,
    );
  assert.ok(err instanceof StorageError && err.code === 'QUERY', String(err));
  assert.deepEqual(await keys(db), ['dup']);
}, { only: 'postgres' });

forEachDatabase('calls on the outer handle from inside the callback join the transaction', async ({ db }) => {
  await setup(db);
  await assert.rejects(
    db.transaction(async () => {
      await db.execute('INSERT INTO t (k, v) VALUES ($1, $2)', ['joined', 1]);
      assert.deepEqual(await db.query('SELECT k FROM t'), [{ k: 'joined' }], 'sees its own uncommitted row');
      await db.transaction(async () => {
        await db.execute('INSERT INTO t (k, v) VALUES ($1, $2)', ['nested', 2]);
      });
      throw new Boom('roll back both');
    }),
    Boom,
  );
  assert.deepEqual(await keys(db), []);
});

forEachDatabase('uncommitted work is invisible to another connection; a finished tx handle is refused', async (d) => {
  await setup(d.db);
  const other = await d.open();
  let leaked: Database | undefined;
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  let inserted!: () => void;
  const didInsert = new Promise<void>((r) => (inserted = r));
  const tx = d.db.transaction(async (t) => {
    leaked = t;
    await t.execute('INSERT INTO t (k, v) VALUES ($1, $2)', ['pending', 1]);
    inserted();
    await gate;
  });
  await didInsert;
  assert.deepEqual(await keys(other), [], 'not visible before commit');
  release();
  await tx;
  assert.deepEqual(await keys(other), ['pending']);
  await assert.rejects(leaked!.query('SELECT 1 AS one'), TypeError);
  await assert.rejects(leaked!.transaction(async () => 1), TypeError);
});

forEachDatabase('concurrent transactions with UPDATE … RETURNING never lose an update', async (d) => {
  await d.db.execute('CREATE TABLE counter (id INTEGER PRIMARY KEY, n INTEGER NOT NULL)');
  await d.db.execute('INSERT INTO counter (id, n) VALUES (1, 0)');
  await d.db.execute('CREATE TABLE seen (n INTEGER PRIMARY KEY)');
  const second = await d.open();
  const handles = [d.db, second];
  const seen = await Promise.all(
    Array.from({ length: 40 }, (_, i) =>
      handles[i % 2]!.transaction(async (tx) => {
        const [row] = await tx.query<{ n: number }>('UPDATE counter SET n = n + 1 WHERE id = 1 RETURNING n');
        await tx.execute('INSERT INTO seen (n) VALUES ($1)', [row!.n]);
        return row!.n;
      }),
    ),
  );
  assert.deepEqual(
    [...seen].sort((a, b) => a - b),
    Array.from({ length: 40 }, (_, i) => i + 1),
  );
  assert.deepEqual(await d.db.query('SELECT n FROM counter'), [{ n: 40 }]);
}, { timeout: 120_000 });

forEachDatabase('sibling nested transactions started in parallel run one after the other', async ({ db }) => {
  await setup(db);
  await db.transaction(async (tx) => {
    const results = await Promise.allSettled(
      ['s1', 's2', 's3'].map((k) =>
        tx.transaction(async (s) => {
          await s.execute('INSERT INTO t (k, v) VALUES ($1, $2)', [k, 1]);
          if (k === 's2') throw new Boom(k);
          return k;
        }),
      ),
    );
    assert.deepEqual(
      results.map((r) => r.status),
      ['fulfilled', 'rejected', 'fulfilled'],
    );
  });
  assert.deepEqual(await keys(db), ['s1', 's3']);
});
