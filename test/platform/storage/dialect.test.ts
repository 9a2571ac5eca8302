/** platform/storage/dialect.ts: one migration, both SQL dialects. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { both } from '../../../src/platform/storage/dialect.ts';
import { ISSUER_MIGRATIONS } from '../../../src/services/issuer/schema.ts';
import { PROVIDER_MIGRATIONS } from '../../../src/services/provider/schema.ts';
import { CA_MIGRATIONS } from '../../../src/services/ca/schema.ts';

test('both() renders BLOB for SQLite and BYTEA for PostgreSQL', () => {
  assert.deepEqual(both((t) => `CREATE TABLE x (k ${t.blob} NOT NULL)`), {
    sqlite: 'CREATE TABLE x (k BLOB NOT NULL)',
    postgres: 'CREATE TABLE x (k BYTEA NOT NULL)',
  });
});

test('the services\' migrations use it: no BYTEA in SQLite, no BLOB in PostgreSQL', () => {
  for (const m of [...ISSUER_MIGRATIONS, ...PROVIDER_MIGRATIONS, ...CA_MIGRATIONS]) {
    if (typeof m.sql === 'string') continue;
    assert.ok(!/\bBYTEA\b/.test(m.sql.sqlite), `${m.id} sqlite`);
    assert.ok(!/\bBLOB\b/.test(m.sql.postgres), `${m.id} postgres`);
  }
});
