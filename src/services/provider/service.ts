/**
 * `startProvider(config)`: the provider as a running service — its database migrated, keys sealed under the KEK,
 * the hash-chained audit log, mutual TLS (CN = its provider id at the issuer, default `provider`), the issuer
 * reached over mTLS (IssuerHttpClient), cards over the OTA admin API, unfinished take-overs, rotations and
 * campaigns resumed, and a periodic key expiry sweep.
 */
import type { FastifyInstance } from 'fastify';
import type { PlatformConfig } from '../../platform/config/config.ts';
import { PlatformClient } from '../../platform/http/client.ts';
import type { ServiceOptions } from '../../platform/http/service.ts';
import { FlowStore } from '../../platform/flows/store.ts';
import { mutualTlsAgent, mutualTlsOptions } from '../../platform/tls/options.ts';
import type { RandomSource } from '../../crypto/random.ts';
import type { CardAccess, FlowDeps } from '../common/deps.ts';
import { auditLogAuditor } from '../common/auditor.ts';
import { openServiceStorage, serviceIdentity, serviceUrl } from '../common/bootstrap.ts';
import { CardAccessError, routedCardAccess } from '../common/card-access.ts';
import { otaCardAccess } from '../ota/client.ts';
import { KeyedLock } from '../common/keyed-lock.ts';
import { keyStoreSealer } from '../common/sealer.ts';
import { runRotation, type RotationData } from '../common/rotation.ts';
import { IssuerHttpClient } from '../issuer/client.ts';
import { buildProviderApp } from './app.ts';
import { CampaignRunner, sweepExpiredKeys } from './campaigns.ts';
import { runTakeOver, TAKE_OVER, type TakeOverData } from './flows/take-over.ts';
import { providerKeySlot } from './key-slot.ts';
import { getProviderSsd, PROVIDER_ROTATE } from './rotate.ts';
import { terminalCardAccess, terminalRelay, type TerminalRelay } from './relay/index.ts';
import { takeOverSsd } from './take-over-run.ts';
import type { ScopedIssuerClient } from './routes/ssds.ts';
import { PROVIDER_MIGRATIONS } from './schema.ts';
import { caClient } from '../ca/client.ts';
import { httpCaPort } from './asymmetric/ca-port.ts';
import { ASYMMETRIC_SSD, runAsymmetricSsd, type AsymmetricPorts, type AsymmetricSsdData } from './asymmetric/flow.ts';
import type { CaPort, ProviderCas } from './asymmetric/ports.ts';

export type { ProviderCas };

export interface ProviderServiceOptions {
  /** The CN of this platform's certificate = its provider id at the issuer (default `provider`). */
  readonly providerId?: string;
  /** Default: IssuerHttpClient to `config.services.issuer` over mutual TLS. */
  readonly issuer?: ScopedIssuerClient;
  /** Default: the OTA admin API of `config.services['ota-admin']`. */
  readonly cardAccess?: CardAccess;
  /** Access for `{ kind: 'terminal' }` routes next to the default OTA access (ignored when `cardAccess` is given). */
  readonly terminalAccess?: CardAccess;
  readonly logger?: ServiceOptions['logger'];
  readonly random?: RandomSource;
  readonly clients?: readonly string[];
  readonly campaignConcurrency?: number;
  /** Key expiry sweep interval (default one hour); 0 disables the timer. */
  readonly sweepIntervalMs?: number;
  readonly identify?: ServiceOptions['identify'];
  /**
   * The business-terminal relay mounted on this service (default on): terminals (certificate CN
   * `terminal.<id>`, optionally an allow-list) reach the provider, users ask for a service at the counter,
   * and `issuerPeers` (default `issuer`) may relay APDUs to a terminal's card while a request is open.
   */
  readonly terminals?: false | { readonly allow?: readonly string[]; readonly issuerPeers?: readonly string[] };
  /** The provider's certificate authorities at the CA service (asymmetric SSDs need them). */
  readonly cas?: ProviderCas;
  /** Default: the CA service of `config.services.ca` over mutual TLS. */
  readonly ca?: CaPort;
}

export interface ProviderService {
  readonly url: string;
  readonly app: FastifyInstance;
  readonly deps: FlowDeps;
  readonly campaigns: CampaignRunner;
  /** The business-terminal relay, unless `terminals: false`. */
  readonly relay: TerminalRelay | undefined;
  /** Settles when the flows and campaigns unfinished at start have been resumed. */
  readonly resumed: Promise<void>;
  /** Run the key expiry sweep now; the id of the campaign it started, if any. */
  sweep(at?: Date): Promise<string | undefined>;
  close(): Promise<void>;
}

export async function startProvider(config: PlatformConfig, options: ProviderServiceOptions = {}): Promise<ProviderService> {
  const storage = await openServiceStorage(config, 'provider', PROVIDER_MIGRATIONS, { auditCheckpoints: {} });
  let app: FastifyInstance | undefined;
  try {
    const providerId = options.providerId ?? 'provider';
    const listen = config.services.provider;
    const identity = await serviceIdentity(config, providerId, listen.host);
    const agent = mutualTlsAgent(identity);
    const issuer = options.issuer ?? new IssuerHttpClient(new PlatformClient({ baseUrl: serviceUrl(config, 'issuer', 'https'), agent }));
    // The relay is mounted on the app built below; the card access resolves it when a flow needs it.
    let relay: TerminalRelay | undefined;
    const relayAccess: CardAccess = (cardId, route) => {
      if (relay === undefined) throw new CardAccessError('NO_ROUTE', 'the business-terminal relay is not running');
      return terminalCardAccess(relay)(cardId, route);
    };
    const terminalAccess = options.terminalAccess ?? (options.terminals === false ? undefined : relayAccess);
    const deps: FlowDeps = {
      db: storage.db,
      sealer: keyStoreSealer(storage.keystore, 'provider'),
      audit: auditLogAuditor(storage.auditLog),
      flows: new FlowStore(storage.db),
      cardAccess:
        options.cardAccess ??
        routedCardAccess({
          ota: otaCardAccess(serviceUrl(config, 'ota-admin', 'https'), agent),
          ...(terminalAccess !== undefined ? { terminal: terminalAccess } : {}),
        }),
      actor: `provider:${providerId}`,
      ...(options.random !== undefined ? { random: options.random } : {}),
    };
    const locks = new KeyedLock();
    const asymmetric: AsymmetricPorts = {
      issuer: 'requestAsymmetricSsd' in issuer ? (issuer as IssuerHttpClient) : noAsymmetricIssuer,
      ca: options.ca ?? httpCaPort(caClient(new PlatformClient({ baseUrl: serviceUrl(config, 'ca', 'https'), agent }))),
      cas: options.cas ?? {},
    };
    const built = await buildProviderApp({
      asymmetric,
      deps,
      idempotency: storage.idempotency,
      issuer,
      locks,
      tls: mutualTlsOptions(identity).server,
      requestTimeoutMs: config.requestTimeoutMs,
      ...(options.logger !== undefined ? { logger: options.logger } : { logger: { level: config.logLevel } }),
      ...(options.identify !== undefined ? { identify: options.identify } : {}),
      ...(options.clients !== undefined ? { clients: options.clients } : {}),
      ...(options.campaignConcurrency !== undefined ? { campaignConcurrency: options.campaignConcurrency } : {}),
    });
    app = built.app;
    if (options.terminals !== false) {
      const t = options.terminals ?? {};
      relay = await terminalRelay(app, {
        // A user asks for an application at the counter: the same take-over as the HTTP API, over the terminal.
        onServiceRequest: async (req, progress) => {
          progress('take-over');
          const route = { kind: 'terminal', terminalId: req.terminalId } as const;
          await takeOverSsd(deps, issuer, locks, { cardId: req.cardId, aid: req.aid, route, privileges: req.privileges });
          const ssd = await getProviderSsd(deps.db, req.cardId, req.aid);
          return { state: ssd?.state ?? 'unknown', kvn: ssd?.kvn ?? null, kcvs: ssd?.kcvs ?? null };
        },
        ...(t.issuerPeers !== undefined ? { issuerPeers: t.issuerPeers } : {}),
        ...(t.allow !== undefined ? { terminals: t.allow } : {}),
      });
    }
    await app.listen({ host: listen.host, port: listen.port });
    const address = app.server.address();
    const port = typeof address === 'object' && address !== null ? address.port : listen.port;
    const url = `https://${listen.host === '0.0.0.0' ? '127.0.0.1' : listen.host}:${port}`;
    const log = app.log;
    const resumed = (async () => {
      await resumeProviderFlows(deps, issuer, locks, asymmetric);
      await built.campaigns.resumeAll();
    })().catch((e: unknown) => log.error({ err: e }, 'resuming flows failed'));
    const sweep = (at?: Date) => sweepExpiredKeys(deps, built.campaigns, at);
    const interval = options.sweepIntervalMs ?? 3_600_000;
    const timer = interval > 0 ? setInterval(() => void sweep().catch((e: unknown) => log.error({ err: e }, 'key expiry sweep failed')), interval) : undefined;
    timer?.unref();
    const running = app;
    return {
      url,
      app: running,
      deps,
      campaigns: built.campaigns,
      relay,
      resumed,
      sweep,
      async close() {
        if (timer) clearInterval(timer);
        await relay?.close();
        await running.close();
        await resumed;
        agent.destroy();
        await storage.close();
      },
    };
  } catch (e) {
    await app?.close();
    await storage.close();
    throw e;
  }
}

/** Run every take-over and rotation flow that was running when the service stopped. */
/** An issuer client that cannot ask for asymmetric SSDs (a test double given as `options.issuer`). */
const noAsymmetricIssuer: AsymmetricPorts['issuer'] = {
  requestAsymmetricSsd: async () => {
    throw new CardAccessError('NO_ROUTE', 'this provider has no issuer client for asymmetric SSDs');
  },
};

export async function resumeProviderFlows(deps: FlowDeps, issuer: ScopedIssuerClient, locks: KeyedLock, asymmetric?: AsymmetricPorts): Promise<void> {
  if (asymmetric !== undefined) {
    for (const flow of await deps.flows.unfinished<AsymmetricSsdData>(ASYMMETRIC_SSD)) {
      await locks.run(`${flow.data.cardId}/${flow.data.aid}`, () => runAsymmetricSsd(deps, asymmetric, flow)).catch(() => undefined);
    }
  }
  for (const flow of await deps.flows.unfinished<TakeOverData>(TAKE_OVER)) {
    const client = issuer.withScope ? issuer.withScope(flow.id) : issuer;
    await locks.run(`${flow.data.cardId}/${flow.data.aid}`, () => runTakeOver(deps, client, flow)).catch(() => undefined);
  }
  for (const flow of await deps.flows.unfinished<RotationData>(PROVIDER_ROTATE)) {
    const slot = providerKeySlot(deps.db, deps.sealer, flow.data.cardId, flow.data.aid);
    await locks.run(`${flow.data.cardId}/${flow.data.aid}`, () => runRotation(deps, slot, flow)).catch(() => undefined);
  }
}
