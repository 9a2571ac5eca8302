/**
 * `startPlatform(options)`: the whole platform in one process, as `opentsm up`, the scenarios and the
 * provisioning bench run it (docs/architecture.md §3 runtime/) — the OTA server, the CA service, the issuer and the
 * provider with its terminal relay (mutual TLS between them, certificates from the internal CA made at first
 * start in `<dataDir>/tls`), and N simulated phones. Each service is started by its own function (ota.ts,
 * ca.ts, issuer.ts, provider.ts) given its configuration and its peers' URLs, so that a launcher can as well
 * run one service per process.
 *
 * First start manufactures the phones and registers them, and the provider, as the operator would
 * (registration.ts). Everything persists in `dataDir`; a restart reuses it and manufactures only the phones
 * still missing. `<dataDir>/platform.json` describes the running platform (descriptor.ts).
 */
import type { DatabaseSettings, PlatformConfig } from '../platform/config/config.ts';
import { PlatformClient } from '../platform/http/client.ts';
import type { LogLevel } from '../platform/log/logger.ts';
import { ensureCa, type CertificateAuthority } from '../platform/tls/ca.ts';
import { ensureIdentity } from '../platform/tls/issue.ts';
import { mutualTlsAgent } from '../platform/tls/options.ts';
import type { DeviceFleet } from '../device/fleet.ts';
import type { CaService } from '../services/ca/service.ts';
import type { IssuerService } from '../services/issuer/service.ts';
import type { InProcessPushGateway, PushGateway } from '../services/ota/push.ts';
import type { OtaService } from '../services/ota/service.ts';
import type { ProviderCas, ProviderService } from '../services/provider/service.ts';
import type { TerminalRelay } from '../services/provider/relay/index.ts';
import { ensureCaService } from './ca.ts';
import { PLATFORM_FORMAT, writeDescriptor } from './descriptor.ts';
import { ensurePhones, runPhones } from './fleet.ts';
import { runIssuer } from './issuer.ts';
import { runOta } from './ota.ts';
import { anyPorts, platformConfig, portOf, type PlatformUrls } from './peers.ts';
import type { PhoneRecord } from './phones.ts';
import { runProvider } from './provider.ts';
import { registerPhones, registerProvider, type OperatorClients } from './registration.ts';

export const DEFAULT_PROVIDER_ID = 'bank';

export interface PlatformOptions {
  readonly dataDir: string;
  /** Phones wanted; missing ones are manufactured and registered (default 10). */
  readonly devices?: number;
  /** Default SQLite files in dataDir. */
  readonly database?: DatabaseSettings;
  /** 'default': the configured ports 7101…; 'any': free ports (tests, scenarios, benchmarks). */
  readonly ports?: 'default' | 'any';
  readonly logLevel?: LogLevel;
  readonly providerId?: string;
  /** Save phones' SE state in dataDir (default true); the bench keeps them in memory. */
  readonly persistPhones?: boolean;
  /** Run the phones in this process (default) or not at all (another process runs them; `push` reaches them). */
  readonly phones?: 'in-process' | 'none';
  /** The OTA server's push gateway (default in-process). */
  readonly push?: PushGateway;
  /** Mount the provider's terminal relay (default true). */
  readonly terminals?: boolean;
  /** Concurrent registrations while manufacturing (default 16). */
  readonly registrationConcurrency?: number;
  /** Options for the OTA server (session linger, time limits). */
  readonly ota?: { readonly lingerMs?: number; readonly timeoutMs?: number };
  readonly onProgress?: (message: string) => void;
}

export interface Platform {
  readonly config: PlatformConfig;
  readonly dataDir: string;
  readonly providerId: string;
  readonly urls: PlatformUrls;
  readonly ca: CertificateAuthority;
  readonly ota: OtaService;
  readonly caService: CaService;
  /** The provider's CAs (SCP11 P-256, SCP10 RSA-2048). */
  readonly providerCas: ProviderCas;
  readonly issuer: IssuerService;
  readonly provider: ProviderService;
  readonly relay: TerminalRelay | undefined;
  readonly fleet: DeviceFleet | undefined;
  readonly phones: readonly PhoneRecord[];
  /** How many phones this start manufactured. */
  readonly manufactured: number;
  /** The operator's clients (certificate CN `operator`). */
  readonly operator: OperatorClients;
  close(): Promise<void>;
}

export async function startPlatform(options: PlatformOptions): Promise<Platform> {
  const devices = options.devices ?? 10;
  if (!Number.isInteger(devices) || devices < 0 || devices > 100_000) throw new RangeError('devices must be an integer 0..100000');
  const providerId = options.providerId ?? DEFAULT_PROVIDER_ID;
  const progress = options.onProgress ?? (() => undefined);
  const base = {
    dataDir: options.dataDir,
    logLevel: options.logLevel ?? 'warn',
    ...(options.database !== undefined ? { database: options.database } : {}),
  };
  const config = platformConfig(base, anyPorts(options.ports === 'any'));
  const ca = await ensureCa(config.tlsDir);
  const closers: (() => Promise<void> | void)[] = [];
  const closeAll = async () => {
    for (const c of closers.reverse()) await c();
    closers.length = 0;
  };
  try {
    const ota = await runOta(config, {
      scriptCallers: ['issuer', providerId],
      ...(options.push !== undefined ? { push: options.push } : {}),
      ...(options.ota?.lingerMs !== undefined ? { lingerMs: options.ota.lingerMs } : {}),
      ...(options.ota?.timeoutMs !== undefined ? { timeoutMs: options.ota.timeoutMs } : {}),
    });
    closers.push(() => ota.close());

    const operatorAgent = mutualTlsAgent(await ensureIdentity(config.tlsDir, ca, { commonName: 'operator', usage: 'client' }));
    closers.push(() => operatorAgent.destroy());
    const { service: caService, cas: providerCas } = await ensureCaService(config, options.dataDir, providerId, operatorAgent);
    closers.push(() => caService.close());

    // The issuer reaches a terminal's card through the provider's relay: its URL is known once the provider is up.
    let providerUrl: string | undefined;
    const issuer = await runIssuer(config, {
      otaAdmin: ota.adminUrl,
      ...(options.terminals !== false
        ? {
            provider: () => {
              if (providerUrl === undefined) throw new Error('the provider is not running yet');
              return providerUrl;
            },
          }
        : {}),
    });
    closers.push(() => issuer.close());
    const provider = await runProvider(
      config,
      { issuer: issuer.url, otaAdmin: ota.adminUrl, ca: caService.url },
      { providerId, cas: providerCas, ...(options.terminals === false ? { terminals: false } : {}) },
    );
    closers.push(() => provider.close());
    providerUrl = provider.url;
    const relay = provider.relay;

    const operator: OperatorClients = {
      ca: new PlatformClient({ baseUrl: caService.url, agent: operatorAgent }),
      issuer: new PlatformClient({ baseUrl: issuer.url, agent: operatorAgent }),
      provider: new PlatformClient({ baseUrl: provider.url, agent: operatorAgent }),
      ota: new PlatformClient({ baseUrl: ota.adminUrl, agent: operatorAgent }),
    };
    await registerProvider(operator.issuer, providerId);

    // Phones: those saved in dataDir, then the missing ones manufactured and registered.
    const phoneDir = options.persistPhones !== false ? options.dataDir : undefined;
    const set = await ensurePhones(devices, phoneDir);
    const unregistered = set.phones.filter((p) => !p.registered.issuer || !p.registered.ota).length;
    if (unregistered > 0) progress(`registering ${unregistered} phone(s) with the issuer and the OTA server`);
    await registerPhones(operator, set.phones, {
      ...(options.registrationConcurrency !== undefined ? { concurrency: options.registrationConcurrency } : {}),
      ...(phoneDir !== undefined ? { dataDir: phoneDir } : {}),
    });
    let fleet: DeviceFleet | undefined;
    if (options.phones !== 'none') {
      // Closed first (closers run in reverse): stop the phones before the services go.
      const running = runPhones(set, { ramUrl: ota.ramUrl, push: ota.push as InProcessPushGateway }, phoneDir);
      fleet = running.fleet;
      closers.push(() => running.stop());
    }

    const urls: PlatformUrls = {
      issuer: issuer.url,
      provider: provider.url,
      otaAdmin: ota.adminUrl,
      ota: ota.ramUrl,
      ca: caService.url,
      ...(relay !== undefined ? { terminals: provider.url } : {}),
    };
    const finalConfig = platformConfig(base, {
      issuer: { host: config.services.issuer.host, port: portOf(issuer.url) },
      provider: { host: config.services.provider.host, port: portOf(provider.url) },
      ota: { host: config.services.ota.host, port: portOf(ota.ramUrl) },
      'ota-admin': { host: config.services['ota-admin'].host, port: portOf(ota.adminUrl) },
      ca: { host: config.services.ca.host, port: portOf(caService.url) },
      terminal: config.services.terminal,
    });
    // Runs first on close: the platform is no longer there.
    closers.push(
      await writeDescriptor(options.dataDir, {
        format: PLATFORM_FORMAT,
        pid: process.pid,
        startedAt: new Date().toISOString(),
        providerId,
        urls,
        database: config.database,
        devices: set.phones.map((p) => p.iccid),
      }),
    );

    let closed: Promise<void> | undefined;
    return {
      config: finalConfig,
      dataDir: options.dataDir,
      providerId,
      urls,
      ca,
      ota,
      caService,
      providerCas,
      issuer,
      provider,
      relay,
      fleet,
      phones: set.phones,
      manufactured: set.manufactured,
      operator,
      close: () => (closed ??= closeAll()),
    };
  } catch (e) {
    await closeAll();
    throw e;
  }
}
