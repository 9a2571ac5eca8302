/** Migrations on both drivers: idempotent, atomic, refuse edited / reordered / unknown steps. */
import assert from 'node:assert/strict';
import type { Database, Migration } from '../../../src/platform/storage/database.ts';
import { StorageError } from '../../../src/platform/storage/errors.ts';
import { migrate, migrationChecksum } from '../../../src/platform/storage/migrate.ts';
import { forEachDatabase } from '../databases.ts';

const M1: Migration = { id: '0001_cards', sql: 'CREATE TABLE cards (id TEXT PRIMARY KEY, iccid TEXT NOT NULL UNIQUE)' };
const M2: Migration = {
  id: '0002_keys',
  sql: {
    sqlite: 'CREATE TABLE keys (card_id TEXT NOT NULL REFERENCES cards(id), blob BLOB NOT NULL); CREATE INDEX keys_card ON keys (card_id);',
    postgres: 'CREATE TABLE keys (card_id TEXT NOT NULL REFERENCES cards(id), blob BYTEA NOT NULL); CREATE INDEX keys_card ON keys (card_id);',
  },
};
const M3: Migration = { id: '0003_cards_eid', sql: 'ALTER TABLE cards ADD COLUMN eid TEXT' };
const M4: Migration = { id: '0004_notes', sql: 'CREATE TABLE notes (n TEXT)' };

const FIXED = new Date('2025-01-31T12:00:00.000Z');
const now = (): Date => FIXED;

async function records(db: Database) {
  return db.query('SELECT component, id, position, checksum, applied_at FROM schema_migrations ORDER BY component, position');
}

async function tables(db: Database): Promise<string[]> {
  const sql =
    db.dialect === 'sqlite'
      ? "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"
      : 'SELECT table_name AS name FROM information_schema.tables WHERE table_schema = current_schema() ORDER BY table_name';
  return (await db.query<{ name: string }>(sql)).map((r) => r.name);
}

async function refused(p: Promise<unknown>, code: StorageError['code']): Promise<void> {
  await assert.rejects(p, (e: unknown) => e instanceof StorageError && e.code === code);
}

forEachDatabase('migrate applies pending steps once and records the SQL checksum of the dialect', async ({ db, kind }) => {
  assert.deepEqual(await migrate(db, [M1, M2], { now }), ['0001_cards', '0002_keys']);
  assert.deepEqual(await migrate(db, [M1, M2], { now }), [], 'idempotent');
  assert.deepEqual(await migrate(db, [M1, M2, M3], { now }), ['0003_cards_eid']);
  const m2sql = typeof M2.sql === 'string' ? M2.sql : M2.sql[kind];
  assert.deepEqual(await records(db), [
    { component: 'default', id: '0001_cards', position: 0, checksum: migrationChecksum(M1.sql as string), applied_at: '2025-01-31T12:00:00.000Z' },
    { component: 'default', id: '0002_keys', position: 1, checksum: migrationChecksum(m2sql), applied_at: '2025-01-31T12:00:00.000Z' },
    { component: 'default', id: '0003_cards_eid', position: 2, checksum: migrationChecksum(M3.sql as string), applied_at: '2025-01-31T12:00:00.000Z' },
  ]);
  assert.equal(migrationChecksum('x'), '2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881');
  await db.execute('INSERT INTO cards (id, iccid, eid) VALUES ($1, $2, $3)', ['c1', '8944', 'E1']);
  await db.execute('INSERT INTO keys (card_id, blob) VALUES ($1, $2)', ['c1', new Uint8Array([1])]);
});

forEachDatabase('migrate refuses an edited, reordered or unknown step and changes nothing', async ({ db }) => {
  await migrate(db, [M1, M2], { now });
  const before = await records(db);
  const beforeTables = await tables(db);
  // edited SQL of an applied step (even with new steps pending: those stay unapplied)
  await refused(migrate(db, [{ id: M1.id, sql: `${M1.sql as string} ` }, M2, M3, M4], { now }), 'MIGRATION_MISMATCH');
  // a step inserted before applied ones
  await refused(migrate(db, [M1, M3, M2], { now }), 'MIGRATION_ORDER');
  await refused(migrate(db, [M2, M1], { now }), 'MIGRATION_ORDER');
  // the database knows a step this list does not (a newer release migrated it)
  await refused(migrate(db, [M1], { now }), 'MIGRATION_UNKNOWN');
  await refused(migrate(db, [M1, M3], { now }), 'MIGRATION_UNKNOWN');
  assert.deepEqual(await records(db), before);
  assert.deepEqual(await tables(db), beforeTables);
  // caller mistakes
  await assert.rejects(migrate(db, [M1, M1]), RangeError);
  await assert.rejects(migrate(db, [{ id: 'bad id', sql: 'SELECT 1' }]), RangeError);
  await assert.rejects(migrate(db, [{ id: '0009_empty', sql: '  ' }]), TypeError);
});

forEachDatabase('a failing step rolls back every step of the run', async ({ db }) => {
  await migrate(db, [M1], { now });
  const broken: Migration = { id: '0003_broken', sql: 'CREATE TABLE ok_table (x TEXT); CREATE TABLE cards (dup TEXT)' };
  await assert.rejects(migrate(db, [M1, M4, broken], { now }), (e: unknown) => e instanceof StorageError && e.message.includes('0003_broken'));
  assert.deepEqual(
    (await records(db)).map((r) => r.id),
    ['0001_cards'],
  );
  assert.deepEqual(await tables(db), ['cards', 'schema_migrations']);
});

forEachDatabase('components keep separate histories in one database', async ({ db }) => {
  assert.deepEqual(await migrate(db, [M1], { component: 'issuer', now }), ['0001_cards']);
  assert.deepEqual(await migrate(db, [M4], { component: 'provider', now }), ['0004_notes']);
  assert.deepEqual(await migrate(db, [M1], { component: 'issuer', now }), []);
  await refused(migrate(db, [M4], { component: 'issuer', now }), 'MIGRATION_UNKNOWN');
});

forEachDatabase('concurrent migrate calls from two handles apply each step exactly once', async (d) => {
  const other = await d.open();
  const results = await Promise.all([migrate(d.db, [M1, M2, M3], { now }), migrate(other, [M1, M2, M3], { now })]);
  assert.deepEqual(
    results.flat().sort(),
    ['0001_cards', '0002_keys', '0003_cards_eid'],
  );
  assert.equal((await records(d.db)).length, 3);
});
