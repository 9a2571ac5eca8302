/**
 * The issuer's HTTP application (card issuer management platform / SEI-TSM) on the platform's createService:
 * operator routes (routes/operator.ts), SSD routes (routes/ssds.ts) and the flow read route (common/flow-routes.ts). Storage, keystore, audit and card
 * access come in through `deps`; `startIssuer` (service.ts) builds them from the configuration.
 */
import type { FastifyInstance } from 'fastify';
import { createService, type ServiceOptions } from '../../platform/http/service.ts';
import type { IdempotencyStore } from '../../platform/idempotency/store.ts';
import type { FlowDeps } from '../common/deps.ts';
import { KeyedLock } from '../common/keyed-lock.ts';
import { operatorRoutes } from './routes/operator.ts';
import { ssdRoutes } from './routes/ssds.ts';
import { asymmetricRoutes } from './routes/asymmetric.ts';
import { flowRoutes } from '../common/flow-routes.ts';
import { providerOf, requireCaller } from './routes/auth.ts';
import { getSsd } from './manage.ts';

export const ISSUER_VERSION = '0.3.0';

export interface IssuerAppOptions extends Pick<ServiceOptions, 'logger' | 'tls' | 'identify' | 'healthChecks' | 'requestTimeoutMs'> {
  readonly deps: FlowDeps;
  readonly idempotency: IdempotencyStore;
  /** Shared with the key schedule and resumed flows (one run per SSD at a time). */
  readonly locks?: KeyedLock;
  readonly keyLifetimeMs?: number;
}

export async function buildIssuerApp(options: IssuerAppOptions): Promise<FastifyInstance> {
  const app = await createService({
    name: 'issuer',
    version: ISSUER_VERSION,
    description: 'Card issuer management platform (SEI-TSM): card inventory, providers, SSD creation, hand-over, lock/unlock/delete, key rotation',
    idempotency: options.idempotency,
    healthChecks: options.healthChecks ?? { database: async () => void (await options.deps.db.query('SELECT 1 AS one')) },
    ...(options.logger !== undefined ? { logger: options.logger } : {}),
    ...(options.tls !== undefined ? { tls: options.tls } : {}),
    ...(options.identify !== undefined ? { identify: options.identify } : {}),
    ...(options.requestTimeoutMs !== undefined ? { requestTimeoutMs: options.requestTimeoutMs } : {}),
  });
  const locks = options.locks ?? new KeyedLock();
  await operatorRoutes(app, options.deps);
  await ssdRoutes(app, options.deps, { locks, ...(options.keyLifetimeMs !== undefined ? { keyLifetimeMs: options.keyLifetimeMs } : {}) });
  await asymmetricRoutes(app, options.deps, { locks });
  // A provider sees the flows of its own SSDs; the operator every flow.
  const db = options.deps.db;
  await flowRoutes(app, options.deps, {
    onRequest: requireCaller(db, 'operator', 'provider'),
    visible: async (request, flow) => {
      const p = providerOf(request);
      if (p === undefined) return true;
      const d = flow.data as { cardId?: unknown; aid?: unknown };
      if (typeof d.cardId !== 'string' || typeof d.aid !== 'string') return false;
      return (await getSsd(db, d.cardId, d.aid.toUpperCase()))?.providerId === p;
    },
  });
  return app;
}
