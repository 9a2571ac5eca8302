/**
 * The provider's HTTP application (application provider management platform / SP-TSM) on the platform's
 * createService: SSD inventory, take-over and rotation (routes/ssds.ts), rotation campaigns
 * (routes/campaigns.ts) and service instances (routes/instances.ts). Callers are admitted by certificate CN
 * (`clients`, default `operator`).
 */
import type { FastifyInstance } from 'fastify';
import { requirePeer } from '../../platform/http/peer.ts';
import { createService, type ServiceOptions } from '../../platform/http/service.ts';
import type { IdempotencyStore } from '../../platform/idempotency/store.ts';
import type { FlowDeps } from '../common/deps.ts';
import { KeyedLock } from '../common/keyed-lock.ts';
import { CampaignRunner } from './campaigns.ts';
import { InstanceManager } from './instances.ts';
import { campaignRoutes } from './routes/campaigns.ts';
import { instanceRoutes } from './routes/instances.ts';
import { providerSsdRoutes, type ScopedIssuerClient } from './routes/ssds.ts';
import { asymmetricSsdRoutes } from './routes/asymmetric.ts';
import { flowRoutes } from '../common/flow-routes.ts';
import type { AsymmetricPorts } from './asymmetric/flow.ts';

export const PROVIDER_VERSION = '0.3.0';

export interface ProviderAppOptions extends Pick<ServiceOptions, 'logger' | 'tls' | 'identify' | 'healthChecks' | 'requestTimeoutMs'> {
  readonly deps: FlowDeps;
  readonly idempotency: IdempotencyStore;
  readonly issuer: ScopedIssuerClient;
  readonly locks?: KeyedLock;
  readonly campaigns?: CampaignRunner;
  /** Certificate CNs admitted to the provider's routes (default ['operator']). */
  readonly clients?: readonly string[];
  /** Rotations at once in a campaign (default 8). */
  readonly campaignConcurrency?: number;
  /** Issuer and CA for asymmetric SSDs; without it the route is not mounted. */
  readonly asymmetric?: AsymmetricPorts;
}

export interface ProviderApp {
  readonly app: FastifyInstance;
  readonly campaigns: CampaignRunner;
  readonly instances: InstanceManager;
  readonly locks: KeyedLock;
}

export async function buildProviderApp(options: ProviderAppOptions): Promise<ProviderApp> {
  const app = await createService({
    name: 'provider',
    version: PROVIDER_VERSION,
    description: 'Application provider management platform (SP-TSM): SSD take-over, key rotation and campaigns, applet life cycle',
    idempotency: options.idempotency,
    healthChecks: options.healthChecks ?? { database: async () => void (await options.deps.db.query('SELECT 1 AS one')) },
    ...(options.logger !== undefined ? { logger: options.logger } : {}),
    ...(options.tls !== undefined ? { tls: options.tls } : {}),
    ...(options.identify !== undefined ? { identify: options.identify } : {}),
    ...(options.requestTimeoutMs !== undefined ? { requestTimeoutMs: options.requestTimeoutMs } : {}),
  });
  const locks = options.locks ?? new KeyedLock();
  const campaigns =
    options.campaigns ?? new CampaignRunner(options.deps, locks, options.campaignConcurrency !== undefined ? { concurrency: options.campaignConcurrency } : {});
  const instances = new InstanceManager(options.deps, locks);
  const caller = requirePeer(...(options.clients ?? ['operator']));
  await providerSsdRoutes(app, options.deps, { issuer: options.issuer, locks, caller });
  if (options.asymmetric !== undefined) await asymmetricSsdRoutes(app, options.deps, { ports: options.asymmetric, locks, caller });
  await campaignRoutes(app, campaigns, caller);
  await instanceRoutes(app, instances, caller);
  // Every flow of this service is the provider's own: its callers (the operator) see them all.
  await flowRoutes(app, options.deps, { onRequest: caller, visible: () => true });
  app.addHook('onClose', async () => campaigns.close());
  return { app, campaigns, instances, locks };
}
