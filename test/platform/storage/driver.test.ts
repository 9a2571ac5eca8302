/** Both drivers, the same statements: values, placeholders, errors (src/platform/storage). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Database, Row } from '../../../src/platform/storage/database.ts';
import { StorageError } from '../../../src/platform/storage/errors.ts';
import { openDatabase, parseDatabaseUrl } from '../../../src/platform/storage/open.ts';
import { translatePlaceholders } from '../../../src/platform/storage/sqlite.ts';
import { forEachDatabase, type DatabaseKind } from '../databases.ts';

function valuesTable(kind: DatabaseKind): string {
  const [int, real, blob] = kind === 'sqlite' ? ['INTEGER', 'REAL', 'BLOB'] : ['BIGINT', 'DOUBLE PRECISION', 'BYTEA'];
  return `CREATE TABLE vals (id TEXT PRIMARY KEY, t TEXT, i ${int}, r ${real}, flag INTEGER, b ${blob})`;
}

async function storageError(p: Promise<unknown>, code: StorageError['code']): Promise<StorageError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof StorageError, `expected StorageError, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    return e;
  }
  assert.fail(`expected StorageError ${code}`);
}

forEachDatabase('every SqlValue type round-trips with its exact value', async ({ db, kind }) => {
  await db.execute(valuesTable(kind));
  const big = 2n ** 62n + 12345n;
  const backing = new Uint8Array([0xee, 0x00, 0x01, 0xff, 0x00, 0xee]);
  const rows: [string, string | null, number | bigint | boolean | null, number | null, boolean | number | null, Uint8Array | null][] = [
    ['a', "it's \u00e9t\u00e9 \u{1F600} $1 ?", 42, 1.5, true, new Uint8Array([0, 1, 2, 0xff])],
    ['b', '', -7, -0.25, false, new Uint8Array(0)],
    ['c', null, Number.MAX_SAFE_INTEGER, null, 0, backing.subarray(1, 5)],
    ['d', '5', big, 3, 1, null],
    ['e', null, -(2n ** 63n), 1e300, null, null],
    ['f', null, null, null, null, null],
  ];
  for (const r of rows) {
    const { rowCount } = await db.execute('INSERT INTO vals (id, t, i, r, flag, b) VALUES ($1, $2, $3, $4, $5, $6)', r);
    assert.equal(rowCount, 1);
  }
  const got = await db.query('SELECT id, t, i, r, flag, b FROM vals ORDER BY id');
  assert.deepEqual(got, [
    { id: 'a', t: "it's \u00e9t\u00e9 \u{1F600} $1 ?", i: 42, r: 1.5, flag: 1, b: new Uint8Array([0, 1, 2, 0xff]) },
    { id: 'b', t: '', i: -7, r: -0.25, flag: 0, b: new Uint8Array(0) },
    { id: 'c', t: null, i: Number.MAX_SAFE_INTEGER, r: null, flag: 0, b: new Uint8Array([0x00, 0x01, 0xff, 0x00]) },
    { id: 'd', t: '5', i: big, r: 3, flag: 1, b: null },
    { id: 'e', t: null, i: -(2n ** 63n), r: 1e300, flag: null, b: null },
    { id: 'f', t: null, i: null, r: null, flag: null, b: null },
  ]);
  for (const row of got) {
    assert.equal(Object.getPrototypeOf(row), Object.prototype, 'rows are plain objects');
    if (row.b !== null) assert.equal(Object.getPrototypeOf(row.b), Uint8Array.prototype, 'bytes are plain Uint8Array, not Buffer');
  }
  // an integral number into a TEXT column is stored as '5' on both engines (not '5.0')
  await db.execute('UPDATE vals SET t = $1 WHERE id = $2', [5, 'f']);
  assert.deepEqual(await db.query('SELECT t FROM vals WHERE id = $1', ['f']), [{ t: '5' }]);
  // a bigint parameter compares with an integer column
  assert.deepEqual(await db.query('SELECT id FROM vals WHERE i = $1', [big]), [{ id: 'd' }]);
  assert.deepEqual(await db.query('SELECT id FROM vals WHERE i = $1', [42n]), [{ id: 'a' }]);
});

forEachDatabase('placeholders: reused, out of order, inside literals untouched; counts checked', async ({ db }) => {
  await db.execute('CREATE TABLE p (k TEXT PRIMARY KEY, v TEXT NOT NULL)');
  await db.execute('INSERT INTO p (k, v) VALUES ($2, $1)', ['value', 'key']);
  assert.deepEqual(await db.query(`SELECT k, v, '$1 ''$2''' AS lit FROM p WHERE k = $1 OR v = $1 -- $2 in a comment`, ['key']), [
    { k: 'key', v: 'value', lit: "$1 '$2'" },
  ]);
  await storageError(db.query('SELECT k FROM p WHERE k = $1', []), 'QUERY');
  await storageError(db.query('SELECT k FROM p WHERE k = $1', ['a', 'b']), 'QUERY');
  await storageError(db.query('SELECT nope FROM p'), 'QUERY');
  await assert.rejects(db.query('SELECT k FROM p WHERE k = $1', [Number.NaN]), RangeError);
  await assert.rejects(db.query('SELECT k FROM p WHERE k = $1', [{} as never]), TypeError);
  assert.deepEqual(await db.query('SELECT k FROM p'), [{ k: 'key' }], 'nothing changed');
});

forEachDatabase('execute reports the changed row count', async ({ db }) => {
  await db.execute('CREATE TABLE c (k INTEGER PRIMARY KEY, v TEXT)');
  for (let k = 1; k <= 3; k++) await db.execute('INSERT INTO c (k, v) VALUES ($1, $2)', [k, 'x']);
  assert.deepEqual(await db.execute('UPDATE c SET v = $1 WHERE k >= $2', ['y', 2]), { rowCount: 2 });
  assert.deepEqual(await db.execute('DELETE FROM c WHERE k = $1', [9]), { rowCount: 0 });
  assert.deepEqual(await db.query('INSERT INTO c (k, v) VALUES ($1, $2) RETURNING k, v', [4, 'z']), [{ k: 4, v: 'z' }]);
});

forEachDatabase('constraint errors map to stable codes and change nothing', async ({ db }) => {
  await db.execScript!(`CREATE TABLE parent (id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE, n INTEGER CHECK (n >= 0));
    CREATE TABLE child (id TEXT PRIMARY KEY, parent_id TEXT NOT NULL REFERENCES parent(id))`);
  await db.execute('INSERT INTO parent (id, name, n) VALUES ($1, $2, $3)', ['p1', 'one', 1]);
  const dupKey = await storageError(db.execute('INSERT INTO parent (id, name, n) VALUES ($1, $2, $3)', ['p1', 'two', 1]), 'UNIQUE_VIOLATION');
  assert.ok(dupKey.constraint !== undefined && dupKey.constraint.length > 0);
  await storageError(db.execute('INSERT INTO parent (id, name, n) VALUES ($1, $2, $3)', ['p2', 'one', 1]), 'UNIQUE_VIOLATION');
  await storageError(db.execute('INSERT INTO parent (id, name, n) VALUES ($1, $2, $3)', ['p3', null, 1]), 'NOT_NULL_VIOLATION');
  await storageError(db.execute('INSERT INTO parent (id, name, n) VALUES ($1, $2, $3)', ['p4', 'four', -1]), 'CHECK_VIOLATION');
  await storageError(db.execute('INSERT INTO child (id, parent_id) VALUES ($1, $2)', ['c1', 'nobody']), 'FOREIGN_KEY_VIOLATION');
  assert.deepEqual(await db.query('SELECT id, name, n FROM parent'), [{ id: 'p1', name: 'one', n: 1 }]);
  assert.deepEqual(await db.query('SELECT id FROM child'), []);
});

test('translatePlaceholders leaves quotes and comments alone', () => {
  assert.deepEqual(translatePlaceholders(`SELECT $1, "a$2", 'b$3''$4', /* $5 */ $10 -- $6\n, $2`), {
    sql: `SELECT ?1, "a$2", 'b$3''$4', /* $5 */ ?10 -- $6\n, ?2`,
    arity: 10,
  });
  assert.throws(() => translatePlaceholders('SELECT $0'), RangeError);
});

test('parseDatabaseUrl', () => {
  assert.deepEqual(parseDatabaseUrl('sqlite:/tmp/x.db'), { driver: 'sqlite', path: '/tmp/x.db' });
  assert.deepEqual(parseDatabaseUrl('data/x.db'), { driver: 'sqlite', path: 'data/x.db' });
  assert.deepEqual(parseDatabaseUrl('postgres://u@h:5/db?schema=s1'), { driver: 'postgres', url: 'postgres://u@h:5/db', schema: 's1' });
  assert.deepEqual(parseDatabaseUrl('postgresql://u@h/db'), { driver: 'postgres', url: 'postgresql://u@h/db' });
  assert.throws(() => parseDatabaseUrl('sqlite:'), RangeError);
});

test('opening: unreachable PostgreSQL → CONNECTION; bad schema → RangeError; read-only missing file → CONNECTION', async () => {
  await storageError(openDatabase({ driver: 'postgres', url: 'postgres://postgres@127.0.0.1:1/none' }), 'CONNECTION');
  await assert.rejects(openDatabase({ driver: 'postgres', url: 'postgres://x@127.0.0.1:1/none', schema: 'Bad-Name' }), RangeError);
  await storageError(openDatabase({ driver: 'sqlite', path: '/nonexistent-dir-opentsm/x.db', readOnly: true }), 'CONNECTION');
});

forEachDatabase('a second handle sees committed data; a closed handle refuses work', async (d) => {
  await d.db.execute('CREATE TABLE s (k TEXT PRIMARY KEY)');
  await d.db.execute('INSERT INTO s (k) VALUES ($1)', ['x']);
  const other: Database = await d.open();
  assert.deepEqual(await other.query<Row>('SELECT k FROM s'), [{ k: 'x' }]);
  await other.close();
  await storageError(other.query('SELECT k FROM s'), 'CONNECTION');
});
