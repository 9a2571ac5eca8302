/**
 * In-process harness for the issuer and provider HTTP services: both apps (app.inject), SQLite databases with
 * every migration, a file KEK, the real audit log, simulated cards reached through InProcessChannel (the
 * services only see a CardAccess), and the provider's IssuerHttpClient talking to the issuer app through
 * inject with the provider's peer identity.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance, FastifyRequest, LightMyRequestResponse } from 'fastify';
import { createCard, type SimulatedCard } from '../../../src/card/index.ts';
import { InProcessChannel } from '../../../src/transport/in-process.ts';
import { TransportError } from '../../../src/transport/errors.ts';
import { AuditLog } from '../../../src/platform/audit/log.ts';
import { AUDIT_MIGRATIONS } from '../../../src/platform/audit/schema.ts';
import { FlowStore } from '../../../src/platform/flows/store.ts';
import { RemoteProblemError, type PlatformClient } from '../../../src/platform/http/client.ts';
import { IdempotencyStore } from '../../../src/platform/idempotency/store.ts';
import { idempotencyMigrations } from '../../../src/platform/idempotency/migration.ts';
import { FileKeyStore } from '../../../src/platform/keystore/file-kek.ts';
import type { Database, Migration } from '../../../src/platform/storage/database.ts';
import { migrate } from '../../../src/platform/storage/migrate.ts';
import { openDatabase } from '../../../src/platform/storage/open.ts';
import type { PeerIdentity } from '../../../src/platform/tls/peer.ts';
import type { CardAccess, FlowDeps } from '../../../src/services/common/deps.ts';
import { auditLogAuditor } from '../../../src/services/common/auditor.ts';
import { keyStoreSealer } from '../../../src/services/common/sealer.ts';
import { buildIssuerApp } from '../../../src/services/issuer/app.ts';
import { IssuerHttpClient } from '../../../src/services/issuer/client.ts';
import { ISSUER_MIGRATIONS } from '../../../src/services/issuer/schema.ts';
import { buildProviderApp, type ProviderApp } from '../../../src/services/provider/app.ts';
import { PROVIDER_MIGRATIONS } from '../../../src/services/provider/schema.ts';
import type { DatabaseConfig } from '../../../src/platform/storage/database.ts';
import type { LogOptions } from '../../../src/platform/log/logger.ts';

export const ISD_AID = 'A000000151000000';
export const TEST_KEY = '404142434445464748494A4B4C4D4E4F';
export const SSD_AID = 'A0000001515350415344';
export const PROVIDER_ID = 'bank';
export const PEER_HEADER = 'x-test-peer';

export function cardIdOf(n: number): string {
  return `898821100000${String(n).padStart(7, '0')}F`;
}

/** Test-only peer identification from a header (real services use the TLS certificate). */
export function headerPeer(request: FastifyRequest): PeerIdentity | null {
  const cn = request.headers[PEER_HEADER];
  return typeof cn === 'string' ? { commonName: cn, fingerprint256: '', serialNumber: '' } : null;
}

/** A PlatformClient look-alike that calls `app` through inject as `peer`. */
export function injectClient(app: FastifyInstance, peer: string): PlatformClient {
  const call = async (method: 'GET' | 'POST', path: string, options: { body?: unknown; idempotencyKey?: string } = {}) => {
    const headers: Record<string, string> = { [PEER_HEADER]: peer };
    if (options.idempotencyKey) headers['idempotency-key'] = options.idempotencyKey;
    const r = await app.inject({ method, url: path, headers, ...(options.body !== undefined ? { payload: options.body as object } : {}) });
    const body = r.body === '' ? undefined : JSON.parse(r.body);
    if (r.statusCode >= 400) throw new RemoteProblemError('REMOTE_PROBLEM', `${method} ${path}: ${body?.code}`, r.statusCode, body);
    return { status: r.statusCode, headers: r.headers, body };
  };
  return { get: (p: string, o?: object) => call('GET', p, o), post: (p: string, o?: object) => call('POST', p, o) } as unknown as PlatformClient;
}

export async function migrated(config: DatabaseConfig, migrations: readonly Migration[], component: string): Promise<Database> {
  const db = await openDatabase(config);
  await migrate(db, migrations, { component });
  await migrate(db, idempotencyMigrations, { component: 'idempotency' });
  await migrate(db, AUDIT_MIGRATIONS, { component: 'audit' });
  return db;
}

export interface Harness {
  readonly issuer: FastifyInstance;
  readonly provider: ProviderApp;
  readonly issuerDeps: FlowDeps;
  readonly providerDeps: FlowDeps;
  readonly cards: Map<string, SimulatedCard>;
  /** Cards whose access fails (like a phone out of coverage). */
  readonly offline: Set<string>;
  addCard(cardId: string, profile?: 'scp03' | 'scp02'): SimulatedCard;
  /** Register the card at the issuer (operator route). */
  registerCard(cardId: string, profile?: 'scp03' | 'scp02'): Promise<void>;
  registerProvider(providerId?: string, privileges?: string[], maxSsds?: number): Promise<void>;
  asIssuer(peer: string, method: 'GET' | 'POST' | 'DELETE', url: string, body?: unknown, idempotencyKey?: string): Promise<LightMyRequestResponse>;
  asProvider(method: 'GET' | 'POST', url: string, body?: unknown, idempotencyKey?: string): Promise<LightMyRequestResponse>;
  close(): Promise<void>;
}

let keyCounter = 0;
export const nextKey = () => `key-${process.pid}-${++keyCounter}`;

export async function makeHarness(
  options: { issuerDb?: DatabaseConfig; providerDb?: DatabaseConfig; concurrency?: number; logger?: LogOptions } = {},
): Promise<Harness> {
  const dir = await mkdtemp(join(tmpdir(), 'opentsm-svc-'));
  const keystore = await FileKeyStore.open(join(dir, 'kek.key'));
  const issuerDb = await migrated(options.issuerDb ?? { driver: 'sqlite', path: join(dir, 'issuer.db') }, ISSUER_MIGRATIONS, 'issuer');
  const providerDb = await migrated(options.providerDb ?? { driver: 'sqlite', path: join(dir, 'provider.db') }, PROVIDER_MIGRATIONS, 'provider');
  const cards = new Map<string, SimulatedCard>();
  const offline = new Set<string>();
  const cardAccess: CardAccess = async (cardId) => {
    const card = cards.get(cardId);
    if (!card || offline.has(cardId)) throw new TransportError('CONNECTION_FAILED', `card ${cardId} is not reachable`);
    return new InProcessChannel(card);
  };
  const deps = (db: Database, prefix: string, actor: string): FlowDeps => ({
    db,
    sealer: keyStoreSealer(keystore, prefix),
    audit: auditLogAuditor(new AuditLog(db)),
    flows: new FlowStore(db),
    cardAccess,
    actor,
  });
  const issuerDeps = deps(issuerDb, 'issuer', 'issuer');
  const providerDeps = deps(providerDb, 'provider', `provider:${PROVIDER_ID}`);
  const issuer = await buildIssuerApp({ deps: issuerDeps, idempotency: new IdempotencyStore(issuerDb), identify: headerPeer, logger: options.logger ?? false });
  const provider = await buildProviderApp({
    deps: providerDeps,
    idempotency: new IdempotencyStore(providerDb),
    issuer: new IssuerHttpClient(injectClient(issuer, PROVIDER_ID)),
    identify: headerPeer,
    logger: options.logger ?? false,
    ...(options.concurrency !== undefined ? { campaignConcurrency: options.concurrency } : {}),
  });
  const h: Harness = {
    issuer,
    provider,
    issuerDeps,
    providerDeps,
    cards,
    offline,
    addCard(cardId, profile = 'scp03') {
      const card = createCard({ profile, ssdInitialKeys: null });
      cards.set(cardId, card);
      return card;
    },
    async registerCard(cardId, profile = 'scp03') {
      if (!cards.has(cardId)) h.addCard(cardId, profile);
      const r = await h.asIssuer('operator', 'POST', '/v1/cards', {
        cardId,
        iin: '0001',
        cin: '0102030405060708',
        profile,
        isdAid: ISD_AID,
        isdKeys: { kvn: profile === 'scp03' ? 0x30 : 0x20, enc: TEST_KEY, mac: TEST_KEY, dek: TEST_KEY },
      });
      if (r.statusCode !== 201) throw new Error(`register card: ${r.statusCode} ${r.body}`);
    },
    async registerProvider(providerId = PROVIDER_ID, privileges = ['AuthorizedManagement'], maxSsds = 2) {
      const r = await h.asIssuer('operator', 'POST', '/v1/providers', { providerId, name: 'A Bank', aidPrefix: 'A000000151535041', privileges, maxSsds });
      if (r.statusCode !== 201) throw new Error(`register provider: ${r.statusCode} ${r.body}`);
    },
    asIssuer(peer, method, url, body, idempotencyKey) {
      return issuer.inject({
        method,
        url,
        headers: { [PEER_HEADER]: peer, ...(idempotencyKey ? { 'idempotency-key': idempotencyKey } : {}) },
        ...(body !== undefined ? { payload: body as object } : {}),
      });
    },
    asProvider(method, url, body, idempotencyKey) {
      return provider.app.inject({
        method,
        url,
        headers: { [PEER_HEADER]: 'operator', ...(idempotencyKey ? { 'idempotency-key': idempotencyKey } : {}) },
        ...(body !== undefined ? { payload: body as object } : {}),
      });
    },
    async close() {
      await provider.app.close();
      await issuer.close();
      await issuerDb.close();
      await providerDb.close();
      keystore.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
  return h;
}

/** Every row of every table the service owns (to show a refused request changed nothing). */
export async function snapshot(db: Database, tables: readonly string[]): Promise<Record<string, unknown[]>> {
  const out: Record<string, unknown[]> = {};
  for (const t of tables) out[t] = await db.query(`SELECT * FROM ${t} ORDER BY 1`);
  return out;
}
export const ISSUER_TABLES = ['cards', 'providers', 'ssds', 'flows', 'audit_log', 'platform_idempotency'] as const;
export const PROVIDER_TABLES = ['ssds', 'flows', 'service_instances', 'campaigns', 'campaign_items', 'audit_log', 'platform_idempotency'] as const;
