/**
 * `startIssuer(config)`: the issuer as a running service — its database migrated, keys sealed under the KEK,
 * the hash-chained audit log, mutual TLS with a certificate from the internal CA (CN `issuer`), cards reached
 * over the OTA admin API, unfinished flows resumed, and the key expiry schedule of issuer-managed SSDs.
 */
import type { Agent } from 'node:https';
import type { FastifyInstance } from 'fastify';
import type { PlatformConfig } from '../../platform/config/config.ts';
import type { ServiceOptions } from '../../platform/http/service.ts';
import { FlowStore } from '../../platform/flows/store.ts';
import { mutualTlsAgent, mutualTlsOptions } from '../../platform/tls/options.ts';
import type { RandomSource } from '../../crypto/random.ts';
import type { CardAccess, FlowDeps } from '../common/deps.ts';
import { auditLogAuditor } from '../common/auditor.ts';
import { openServiceStorage, serviceIdentity, serviceUrl } from '../common/bootstrap.ts';
import { routedCardAccess } from '../common/card-access.ts';
import { otaCardAccess } from '../ota/client.ts';
import { KeyedLock } from '../common/keyed-lock.ts';
import { keyStoreSealer } from '../common/sealer.ts';
import { runRotation, type RotationData } from '../common/rotation.ts';
import { PlatformClient } from '../../platform/http/client.ts';
import { otaGrantsClient } from '../ota/client.ts';
import { buildIssuerApp } from './app.ts';
import { CREATE_SSD, runCreateSsd, type CreateSsdData } from './flows/create-ssd.ts';
import { issuerKeySlot } from './key-slot.ts';
import { ISSUER_ROTATE } from './manage.ts';
import { ISSUER_MIGRATIONS } from './schema.ts';
import { startKeySchedule, type KeySchedule } from './schedule.ts';

export interface IssuerServiceOptions {
  /** How cards are reached; default the OTA admin API of `config.services['ota-admin']`. */
  readonly cardAccess?: CardAccess;
  /** The issuer's grants at the OTA (default: the OTA admin API of `config`, with the issuer's certificate). */
  readonly cardGrants?: FlowDeps['cardGrants'];
  /** Access for `{ kind: 'terminal' }` routes next to the default OTA access (ignored when `cardAccess` is given). */
  readonly terminalAccess?: CardAccess;
  readonly logger?: ServiceOptions['logger'];
  readonly random?: RandomSource;
  /** Life of issuer-managed key sets (default one year). */
  readonly keyLifetimeMs?: number;
  /** Key expiry sweep interval (default one hour); 0 disables the timer. */
  readonly scheduleIntervalMs?: number;
  /** For tests without sockets: how `request.peer` is found. */
  readonly identify?: ServiceOptions['identify'];
}

export interface IssuerService {
  readonly url: string;
  readonly app: FastifyInstance;
  readonly deps: FlowDeps;
  readonly schedule: KeySchedule;
  /** Settles when the flows unfinished at start have been resumed (successfully or not). */
  readonly resumed: Promise<void>;
  close(): Promise<void>;
}

export async function startIssuer(config: PlatformConfig, options: IssuerServiceOptions = {}): Promise<IssuerService> {
  const storage = await openServiceStorage(config, 'issuer', ISSUER_MIGRATIONS, { auditCheckpoints: {} });
  let app: FastifyInstance | undefined;
  let agent: Agent | undefined;
  try {
    const listen = config.services.issuer;
    const identity = await serviceIdentity(config, 'issuer', listen.host);
    agent = mutualTlsAgent(identity);
    const cardAccess = options.cardAccess ?? routedCardAccess({
        ota: otaCardAccess(serviceUrl(config, 'ota-admin', 'https'), agent),
        ...(options.terminalAccess !== undefined ? { terminal: options.terminalAccess } : {}),
      });
    const deps: FlowDeps = {
      db: storage.db,
      sealer: keyStoreSealer(storage.keystore, 'issuer'),
      audit: auditLogAuditor(storage.auditLog),
      flows: new FlowStore(storage.db),
      cardAccess,
      ...grantsOf(options, config, agent),
      actor: 'issuer',
      ...(options.random !== undefined ? { random: options.random } : {}),
    };
    const locks = new KeyedLock();
    app = await buildIssuerApp({
      deps,
      idempotency: storage.idempotency,
      locks,
      tls: mutualTlsOptions(identity).server,
      requestTimeoutMs: config.requestTimeoutMs,
      ...(options.logger !== undefined ? { logger: options.logger } : { logger: { level: config.logLevel } }),
      ...(options.identify !== undefined ? { identify: options.identify } : {}),
      ...(options.keyLifetimeMs !== undefined ? { keyLifetimeMs: options.keyLifetimeMs } : {}),
    });
    await app.listen({ host: listen.host, port: listen.port });
    const address = app.server.address();
    const port = typeof address === 'object' && address !== null ? address.port : listen.port;
    const url = `https://${listen.host === '0.0.0.0' ? '127.0.0.1' : listen.host}:${port}`;
    const log = app.log;
    const resumed = resumeIssuerFlows(deps, locks, options.keyLifetimeMs).catch((e: unknown) => log.error({ err: e }, 'resuming flows failed'));
    const schedule = startKeySchedule(deps, {
      locks,
      ...(options.keyLifetimeMs !== undefined ? { lifetimeMs: options.keyLifetimeMs } : {}),
      ...(options.scheduleIntervalMs !== undefined ? { intervalMs: options.scheduleIntervalMs } : {}),
      onResult: (r) => {
        if (r.due > 0) log.info({ due: r.due, rotated: r.rotated, failed: r.failed.length }, 'key expiry sweep');
      },
      onError: (e) => log.error({ err: e }, 'key expiry sweep failed'),
    });
    const running = app;
    const otaAgent = agent;
    return {
      url,
      app: running,
      deps,
      schedule,
      resumed,
      async close() {
        await schedule.stop();
        await running.close();
        await resumed;
        otaAgent.destroy();
        await storage.close();
      },
    };
  } catch (e) {
    await app?.close();
    agent?.destroy();
    await storage.close();
    throw e;
  }
}

/** Run every flow that was running when the service stopped: SSD creations (up to hand-over) and rotations. */
export async function resumeIssuerFlows(deps: FlowDeps, locks: KeyedLock, keyLifetimeMs?: number): Promise<void> {
  for (const flow of await deps.flows.unfinished<CreateSsdData>(CREATE_SSD)) {
    await locks.run(`${flow.data.cardId}/${flow.data.aid}`, () => runCreateSsd(deps, flow)).catch(() => undefined);
  }
  for (const flow of await deps.flows.unfinished<RotationData>(ISSUER_ROTATE)) {
    const slot = issuerKeySlot(deps.db, deps.sealer, flow.data.cardId, flow.data.aid, keyLifetimeMs);
    await locks.run(`${flow.data.cardId}/${flow.data.aid}`, () => runRotation(deps, slot, flow)).catch(() => undefined);
  }
}

/** The grants port: given, or the OTA admin API of `config` when the issuer reaches cards through it (the default access). */
function grantsOf(options: IssuerServiceOptions, config: PlatformConfig, agent: Agent): Pick<FlowDeps, 'cardGrants'> {
  if (options.cardGrants !== undefined) return { cardGrants: options.cardGrants };
  if (options.cardAccess !== undefined) return {};
  return { cardGrants: otaGrantsClient(new PlatformClient({ baseUrl: serviceUrl(config, 'ota-admin', 'https'), agent })) };
}
