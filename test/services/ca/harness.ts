/**
 * In-process harness for the CA service: a database (any DatabaseConfig) with the CA, idempotency and audit
 * tables, a file KEK, the real audit log, and the app with test-only peer identification by header.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance, FastifyRequest, LightMyRequestResponse } from 'fastify';
import { AuditLog } from '../../../src/platform/audit/log.ts';
import { AUDIT_MIGRATIONS } from '../../../src/platform/audit/schema.ts';
import { IdempotencyStore } from '../../../src/platform/idempotency/store.ts';
import { idempotencyMigrations } from '../../../src/platform/idempotency/migration.ts';
import { FileKeyStore } from '../../../src/platform/keystore/file-kek.ts';
import type { Database } from '../../../src/platform/storage/database.ts';
import { migrate } from '../../../src/platform/storage/migrate.ts';
import type { PeerIdentity } from '../../../src/platform/tls/peer.ts';
import { auditLogAuditor } from '../../../src/services/common/auditor.ts';
import { keyStoreSealer } from '../../../src/services/common/sealer.ts';
import { buildCaApp } from '../../../src/services/ca/app.ts';
import type { CaDeps } from '../../../src/services/ca/authority.ts';
import { CA_MIGRATIONS } from '../../../src/services/ca/schema.ts';

export const PEER_HEADER = 'x-test-peer';
export const NOW = new Date('2026-03-15T10:00:00.000Z');
export const CARD_ID = '8988211000000000017F';
export const SD_AID = 'A0000001515350415344';

export function headerPeer(request: FastifyRequest): PeerIdentity | null {
  const cn = request.headers[PEER_HEADER];
  return typeof cn === 'string' ? { commonName: cn, fingerprint256: '', serialNumber: '' } : null;
}

export interface CaHarness {
  readonly db: Database;
  readonly deps: CaDeps;
  readonly keystore: FileKeyStore;
  readonly app: FastifyInstance;
  readonly auditLog: AuditLog;
  call(peer: string | null, method: 'GET' | 'POST', url: string, body?: unknown, idempotencyKey?: string): Promise<LightMyRequestResponse>;
  /** Every row of the CA tables and the audit log, for before/after comparisons. */
  snapshot(): Promise<unknown>;
  close(): Promise<void>;
}

export async function makeCaHarness(db: Database, options: { now?: () => Date } = {}): Promise<CaHarness> {
  const dir = await mkdtemp(join(tmpdir(), 'opentsm-ca-'));
  await migrate(db, CA_MIGRATIONS, { component: 'ca' });
  await migrate(db, idempotencyMigrations, { component: 'idempotency' });
  await migrate(db, AUDIT_MIGRATIONS, { component: 'audit' });
  const keystore = await FileKeyStore.open(join(dir, 'kek.key'));
  const auditLog = new AuditLog(db);
  const deps: CaDeps = { db, sealer: keyStoreSealer(keystore, 'ca'), audit: auditLogAuditor(auditLog), actor: 'ca', now: options.now ?? (() => NOW) };
  const app = await buildCaApp({ deps, idempotency: new IdempotencyStore(db), identify: headerPeer, logger: false });
  return {
    db,
    deps,
    keystore,
    app,
    auditLog,
    call(peer, method, url, body, idempotencyKey) {
      const headers: Record<string, string> = {};
      if (peer !== null) headers[PEER_HEADER] = peer;
      if (idempotencyKey !== undefined) headers['idempotency-key'] = idempotencyKey;
      return app.inject({ method, url, headers, ...(body !== undefined ? { payload: body as object } : {}) });
    },
    async snapshot() {
      return {
        cas: await db.query('SELECT * FROM cas ORDER BY ca_id'),
        certificates: await db.query('SELECT * FROM ca_certificates ORDER BY serial'),
        oceCertificates: await db.query('SELECT * FROM ca_oce_certificates ORDER BY serial'),
        serials: await db.query('SELECT * FROM ca_serials ORDER BY serial'),
        audit: await db.query('SELECT seq, action, subject, details_json FROM audit_log ORDER BY seq'),
      };
    },
    async close() {
      await app.close();
      keystore.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Does `needle` occur anywhere in `haystack` (bytes, or any row value as bytes/hex/text)? */
export function containsBytes(haystack: Uint8Array, needle: Uint8Array): boolean {
  return Buffer.from(haystack).indexOf(Buffer.from(needle)) >= 0;
}

/** All values of all rows of `tables`, each as bytes and as upper/lower hex text. */
export async function everyValue(db: Database, tables: readonly string[]): Promise<Uint8Array[]> {
  const out: Uint8Array[] = [];
  for (const t of tables) {
    for (const row of await db.query(`SELECT * FROM ${t}`)) {
      for (const v of Object.values(row)) {
        if (v instanceof Uint8Array) out.push(v);
        else if (v !== null) out.push(new TextEncoder().encode(String(v).toUpperCase()));
      }
    }
  }
  return out;
}
