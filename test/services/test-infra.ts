/**
 * Storage and sealing for flow tests. Temporary: a minimal node:sqlite Database and an AES-GCM sealer,
 * until the platform drivers and keystore are wired in (then this file re-exports those).
 */
import { DatabaseSync } from 'node:sqlite';
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { Database, Migration, SqlValue } from '../../src/platform/storage/database.ts';
import type { Sealer } from '../../src/services/common/deps.ts';

function toSqlite(sql: string): string {
  return sql.replace(/\$(\d+)/g, '?$1');
}

export async function openTestDatabase(migrations: readonly Migration[]): Promise<Database> {
  const raw = new DatabaseSync(':memory:');
  const conv = (params: readonly SqlValue[] = []) => params.map((p) => (typeof p === 'boolean' ? (p ? 1 : 0) : p)) as never[];
  const db: Database = {
    dialect: 'sqlite',
    async query(sql, params) {
      return raw.prepare(toSqlite(sql)).all(...conv(params)) as never;
    },
    async execute(sql, params) {
      const r = raw.prepare(toSqlite(sql)).run(...conv(params));
      return { rowCount: Number(r.changes) };
    },
    async transaction(fn) {
      return fn(db);
    },
    async close() {
      raw.close();
    },
  };
  for (const m of migrations) raw.exec(typeof m.sql === 'string' ? m.sql : m.sql.sqlite);
  return db;
}

export function testSealer(): Sealer {
  const kek = randomBytes(32);
  return {
    async wrap(plain, context) {
      const iv = randomBytes(12);
      const c = createCipheriv('aes-256-gcm', kek, iv);
      c.setAAD(Buffer.from(context));
      const body = Buffer.concat([c.update(plain), c.final()]);
      return Uint8Array.from(Buffer.concat([iv, c.getAuthTag(), body]));
    },
    async unwrap(blob, context) {
      const d = createDecipheriv('aes-256-gcm', kek, blob.subarray(0, 12));
      d.setAAD(Buffer.from(context));
      d.setAuthTag(blob.subarray(12, 28));
      return Uint8Array.from(Buffer.concat([d.update(blob.subarray(28)), d.final()]));
    },
  };
}
