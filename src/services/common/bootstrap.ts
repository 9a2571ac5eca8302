/**
 * What every platform service does at start, before its routes: open its database (databaseConfig), apply its
 * migrations plus the idempotency and audit tables, open the keystore (config.kekFile), and get its mutual-TLS
 * identity from the internal CA (config.tlsDir; made at first start).
 */
import { isIP } from 'node:net';
import type { PlatformConfig, ServiceName } from '../../platform/config/config.ts';
import { databaseConfig } from '../../platform/config/config.ts';
import { AuditLog } from '../../platform/audit/log.ts';
import { AUDIT_MIGRATIONS } from '../../platform/audit/schema.ts';
import { IdempotencyStore } from '../../platform/idempotency/store.ts';
import { idempotencyMigrations } from '../../platform/idempotency/migration.ts';
import { FileKeyStore } from '../../platform/keystore/file-kek.ts';
import type { Database, Migration } from '../../platform/storage/database.ts';
import { join } from 'node:path';
import { migrate } from '../../platform/storage/migrate.ts';
import { AuditCheckpointer } from '../../platform/audit/checkpoint.ts';
import { openDatabase } from '../../platform/storage/open.ts';
import { ensureCa } from '../../platform/tls/ca.ts';
import { ensureIdentity, type TlsIdentity } from '../../platform/tls/issue.ts';

export interface ServiceStorage {
  readonly db: Database;
  readonly keystore: FileKeyStore;
  readonly auditLog: AuditLog;
  readonly idempotency: IdempotencyStore;
  close(): Promise<void>;
}

/** Where a service's signed audit checkpoints live: apart from its database, `<dataDir>/audit/<service>.checkpoints`. */
export function auditCheckpointPath(config: PlatformConfig, service: ServiceName): string {
  return join(config.dataDir, 'audit', `${service}.checkpoints`);
}

export const AUDIT_CHECKPOINT_INTERVAL_MS = 60_000;

export interface StorageOptions {
  /** A running service: sign a checkpoint of the audit head at start, every `intervalMs` and at close (issue 8 §4). */
  readonly auditCheckpoints?: { readonly intervalMs?: number };
}

export async function openServiceStorage(
  config: PlatformConfig,
  service: ServiceName,
  migrations: readonly Migration[],
  options: StorageOptions = {},
): Promise<ServiceStorage> {
  const db = await openDatabase(databaseConfig(config, service));
  try {
    await migrate(db, migrations, { component: service });
    await migrate(db, idempotencyMigrations, { component: 'idempotency' });
    await migrate(db, AUDIT_MIGRATIONS, { component: 'audit' });
    const keystore = await FileKeyStore.open(config.kekFile);
    const auditLog = new AuditLog(db);
    let checkpointer: AuditCheckpointer | undefined;
    let timer: NodeJS.Timeout | undefined;
    if (options.auditCheckpoints !== undefined) {
      const c = new AuditCheckpointer({ log: auditLog, keystore, path: auditCheckpointPath(config, service), name: service });
      checkpointer = c;
      await c.checkpoint();
      timer = setInterval(() => void c.checkpoint().catch(() => {}), options.auditCheckpoints.intervalMs ?? AUDIT_CHECKPOINT_INTERVAL_MS);
      timer.unref();
    }
    return {
      db,
      keystore,
      auditLog,
      idempotency: new IdempotencyStore(db),
      async close() {
        if (timer !== undefined) clearInterval(timer);
        try {
          await checkpointer?.checkpoint();
        } finally {
          keystore.close();
          await db.close();
        }
      },
    };
  } catch (e) {
    await db.close();
    throw e;
  }
}

/** The service's certificate (server and client) for `commonName`, valid for its listen host. */
export async function serviceIdentity(config: PlatformConfig, commonName: string, host: string): Promise<TlsIdentity> {
  const ca = await ensureCa(config.tlsDir);
  const ipAddresses = ['127.0.0.1', ...(isIP(host) !== 0 && host !== '127.0.0.1' && host !== '0.0.0.0' ? [host] : [])];
  const dnsNames = ['localhost', ...(isIP(host) === 0 && host !== 'localhost' ? [host] : [])];
  return ensureIdentity(config.tlsDir, ca, { commonName, usage: 'both', ipAddresses, dnsNames });
}

/** `http://host:port` of a configured service (the OTA admin API is plain HTTP on loopback for now). */
export function serviceUrl(config: PlatformConfig, service: ServiceName, scheme: 'http' | 'https'): string {
  const { host, port } = config.services[service];
  const h = isIP(host) === 6 ? `[${host}]` : host === '0.0.0.0' ? '127.0.0.1' : host;
  return `${scheme}://${h}:${port}`;
}
