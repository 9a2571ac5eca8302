/** The CA's HTTP application on the platform's createService (routes in routes.ts); `startCa` builds its deps. */
import type { FastifyInstance } from 'fastify';
import { createService, type ServiceOptions } from '../../platform/http/service.ts';
import type { IdempotencyStore } from '../../platform/idempotency/store.ts';
import type { CaDeps } from './authority.ts';
import { caRoutes } from './routes.ts';

export const CA_VERSION = '0.4.0';

export interface CaAppOptions extends Pick<ServiceOptions, 'logger' | 'tls' | 'identify' | 'healthChecks' | 'requestTimeoutMs'> {
  readonly deps: CaDeps;
  readonly idempotency: IdempotencyStore;
}

export async function buildCaApp(options: CaAppOptions): Promise<FastifyInstance> {
  const app = await createService({
    name: 'ca',
    version: CA_VERSION,
    description: 'Certificate authorities of the issuer and the providers: SD and Off-Card Entity certificates for SCP11 (GP 7F21) and SCP10, revocation',
    idempotency: options.idempotency,
    healthChecks: options.healthChecks ?? { database: async () => void (await options.deps.db.query('SELECT 1 AS one')) },
    ...(options.logger !== undefined ? { logger: options.logger } : {}),
    ...(options.tls !== undefined ? { tls: options.tls } : {}),
    ...(options.identify !== undefined ? { identify: options.identify } : {}),
    ...(options.requestTimeoutMs !== undefined ? { requestTimeoutMs: options.requestTimeoutMs } : {}),
  });
  await caRoutes(app, options.deps);
  return app;
}
