/**
 * `startPlatform(options)`: the whole platform in one process, as `opentsm up`, the scenarios and the
 * provisioning bench run it — the OTA server (RAM over HTTP on PSK-TLS + admin API), the issuer, the provider
 * (each a createService app; mutual TLS between them with certificates from the internal CA made at first
 * start in `<dataDir>/tls`), the provider's terminal relay, and N simulated phones (DeviceFleet).
 *
 * First start "manufactures" the phones (random ICCIDs, ISD keys, agent PSKs), registers each card with the
 * issuer and each phone with the OTA server (as the operator), and registers the provider with its business
 * permissions. Everything persists in `dataDir` (databases, KEK, TLS material, phones); a restart reuses it
 * and manufactures only the phones still missing. `<dataDir>/platform.json` describes the running platform
 * (URLs, provider id, phones) for `opentsm scenario run --platform DIR`.
 */
import { mkdir, rm, writeFile } from 'node:fs/promises';
import type { Agent } from 'node:https';
import { join } from 'node:path';
import { DeviceFleet } from '../device/fleet.ts';
import { defaultAgentId } from '../device/device.ts';
import { fromHex } from '../core/bytes.ts';
import { loadConfig, type DatabaseSettings, type PlatformConfig } from '../platform/config/config.ts';
import { PlatformClient, RemoteProblemError } from '../platform/http/client.ts';
import type { LogLevel } from '../platform/log/logger.ts';
import { ensureCa, type CertificateAuthority } from '../platform/tls/ca.ts';
import { ensureIdentity } from '../platform/tls/issue.ts';
import { mutualTlsAgent } from '../platform/tls/options.ts';
import { serviceIdentity } from '../services/common/bootstrap.ts';
import { startIssuer, type IssuerService } from '../services/issuer/service.ts';
import { issuerTerminalAccess } from '../services/issuer/terminal-access.ts';
import { startOta, type OtaService } from '../services/ota/service.ts';
import type { InProcessPushGateway, PushGateway } from '../services/ota/push.ts';
import { startProvider, type ProviderService } from '../services/provider/service.ts';
import { startCa, type CaService } from '../services/ca/service.ts';
import { caClient } from '../services/ca/client.ts';
import type { ProviderCas } from '../services/provider/asymmetric/ports.ts';
import { readFile } from 'node:fs/promises';
import type { TerminalRelay } from '../services/provider/relay/index.ts';
import { cardOf, loadPhones, manufacturePhone, PhoneSaver, savePhone, type PhoneRecord } from './phones.ts';

export const PLATFORM_FILE = 'platform.json';
/** The provider's certificate authorities (ids at the CA service), made at first start. */
export const CAS_FILE = 'cas.json';
export const PLATFORM_FORMAT = 'opentsm-platform';
export const DEFAULT_PROVIDER_ID = 'bank';
/** The provider's business permissions at the issuer (SSD AIDs under this prefix). */
export const PROVIDER_AID_PREFIX = 'A000000151535041';

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

export interface PlatformUrls {
  readonly issuer: string;
  readonly provider: string;
  readonly otaAdmin: string;
  readonly ota: string;
  readonly ca: string;
  readonly terminals?: string;
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
  readonly operator: { readonly issuer: PlatformClient; readonly provider: PlatformClient; readonly ota: PlatformClient; readonly ca: PlatformClient };
  close(): Promise<void>;
}

export interface PlatformDescriptor {
  readonly format: typeof PLATFORM_FORMAT;
  readonly pid: number;
  readonly startedAt: string;
  readonly providerId: string;
  readonly urls: PlatformUrls;
  readonly database: DatabaseSettings;
  readonly devices: readonly string[];
}

async function pool<T>(items: readonly T[], concurrency: number, run: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await run(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, items.length)) }, worker));
}

async function alreadyOk(p: Promise<unknown>): Promise<void> {
  try {
    await p;
  } catch (e) {
    if (e instanceof RemoteProblemError && e.status === 409 && e.problem?.code === 'ALREADY_EXISTS') return;
    throw e;
  }
}

function portOf(url: string): number {
  return Number(new URL(url).port);
}

export async function startPlatform(options: PlatformOptions): Promise<Platform> {
  const devices = options.devices ?? 10;
  if (!Number.isInteger(devices) || devices < 0 || devices > 100_000) throw new RangeError('devices must be an integer 0..100000');
  const providerId = options.providerId ?? DEFAULT_PROVIDER_ID;
  const progress = options.onProgress ?? (() => undefined);
  const anyPort = options.ports === 'any';
  const services: Record<string, { port: number }> = anyPort
    ? { issuer: { port: 0 }, provider: { port: 0 }, ota: { port: 0 }, 'ota-admin': { port: 0 }, terminal: { port: 0 }, ca: { port: 0 } }
    : {};
  const input = {
    dataDir: options.dataDir,
    logLevel: options.logLevel ?? 'warn',
    ...(options.database !== undefined ? { database: options.database } : {}),
    services,
  };
  let config = loadConfig(input);
  const ca = await ensureCa(config.tlsDir);
  const closers: (() => Promise<void> | void)[] = [];
  const closeAll = async () => {
    for (const c of closers.reverse()) await c();
    closers.length = 0;
  };
  try {
    const ota = await startOta(config, {
      scriptCallers: ['issuer', providerId],
      ...(options.push !== undefined ? { push: options.push } : {}),
      server: { lingerMs: options.ota?.lingerMs ?? 2000, timeoutMs: options.ota?.timeoutMs ?? 30_000 },
    });
    closers.push(() => ota.close());
    services['ota-admin'] = { port: portOf(ota.adminUrl) };
    services.ota = { port: portOf(ota.ramUrl) };
    config = loadConfig({ ...input, services });

    // The CA service, and the provider's CAs (created by the operator at first start, ids kept in dataDir).
    const caService = await startCa(config);
    closers.push(() => caService.close());
    services.ca = { port: portOf(caService.url) };
    config = loadConfig({ ...input, services });
    const operatorAgent = mutualTlsAgent(await ensureIdentity(config.tlsDir, ca, { commonName: 'operator', usage: 'client' }));
    closers.push(() => operatorAgent.destroy());
    const operatorCa = new PlatformClient({ baseUrl: caService.url, agent: operatorAgent });
    const providerCas = await ensureProviderCas(options.dataDir, providerId, operatorCa);

    // The provider's terminal relay is mounted on the provider service; the issuer reaches a terminal's card
    // through it, so its access resolves the provider's URL once the provider is up.
    let providerUrl: string | undefined;
    let issuerAgent: Agent | undefined;
    if (options.terminals !== false) {
      issuerAgent = mutualTlsAgent(await serviceIdentity(config, 'issuer', config.services.issuer.host));
      const a = issuerAgent;
      closers.push(() => a.destroy());
    }
    const issuer = await startIssuer(config, {
      ...(issuerAgent !== undefined
        ? {
            terminalAccess: issuerTerminalAccess({
              providerUrl: () => {
                if (providerUrl === undefined) throw new Error('the provider is not running yet');
                return providerUrl;
              },
              agent: issuerAgent,
            }),
          }
        : {}),
    });
    closers.push(() => issuer.close());
    services.issuer = { port: portOf(issuer.url) };
    config = loadConfig({ ...input, services });
    const provider = await startProvider(config, {
      providerId,
      cas: providerCas,
      clients: ['operator'],
      ...(options.terminals === false ? { terminals: false as const } : {}),
    });
    closers.push(() => provider.close());
    providerUrl = provider.url;
    const relay: TerminalRelay | undefined = provider.relay;
    const relayUrl: string | undefined = relay !== undefined ? provider.url : undefined;
    services.provider = { port: portOf(provider.url) };
    config = loadConfig({ ...input, services });

    const operator = {
      ca: operatorCa,
      issuer: new PlatformClient({ baseUrl: issuer.url, agent: operatorAgent }),
      provider: new PlatformClient({ baseUrl: provider.url, agent: operatorAgent }),
      ota: new PlatformClient({ baseUrl: ota.adminUrl, agent: operatorAgent }),
    };

    // The provider and its business permissions at the issuer.
    await alreadyOk(
      operator.issuer.post('/v1/providers', {
        body: { providerId, name: 'Demo Bank', aidPrefix: PROVIDER_AID_PREFIX, privileges: ['AuthorizedManagement'], maxSsds: 64 },
      }),
    );

    // Phones: those saved in dataDir, then manufacture the missing ones.
    const persist = options.persistPhones !== false;
    const phones: PhoneRecord[] = persist ? (await loadPhones(options.dataDir)).slice(0, Math.max(devices, 0)) : [];
    let manufactured = 0;
    const cards = new Map<string, ReturnType<typeof cardOf>>();
    for (const p of phones) cards.set(p.iccid, cardOf(p));
    while (phones.length < devices) {
      const { record, card } = manufacturePhone();
      if (cards.has(record.iccid)) continue;
      phones.push(record);
      cards.set(record.iccid, card);
      manufactured++;
      if (persist) await savePhone(options.dataDir, record);
    }
    phones.sort((a, b) => (a.iccid < b.iccid ? -1 : a.iccid > b.iccid ? 1 : 0));
    const unregistered = phones.filter((p) => !p.registered.issuer || !p.registered.ota);
    if (unregistered.length > 0) progress(`registering ${unregistered.length} phone(s) with the issuer and the OTA server`);
    await pool(unregistered, options.registrationConcurrency ?? 16, async (p) => {
      if (!p.registered.issuer) {
        await alreadyOk(
          operator.issuer.post('/v1/cards', {
            body: { cardId: p.iccid, iin: '0001', cin: p.cin, profile: 'scp03', isdAid: 'A000000151000000', isdKeys: p.isdKeys },
          }),
        );
        p.registered.issuer = true;
      }
      if (!p.registered.ota) {
        await alreadyOk(
          operator.ota.post('/v1/devices', {
            body: { deviceId: p.iccid, pskIdentity: p.pskIdentity, psk: p.psk, agentId: defaultAgentId(p.iccid) },
            idempotencyKey: `register-${p.iccid}`,
          }),
        );
        p.registered.ota = true;
      }
      if (persist) await savePhone(options.dataDir, p);
    });

    // The phones themselves.
    let fleet: DeviceFleet | undefined;
    if (options.phones !== 'none') {
      const f = new DeviceFleet({ serverUrl: ota.ramUrl, push: ota.push as InProcessPushGateway });
      fleet = f;
      const saver = persist ? new PhoneSaver(options.dataDir) : undefined;
      for (const p of phones) {
        const card = cards.get(p.iccid)!;
        saver?.watch(p, card);
        f.add({ id: p.iccid, card, pskIdentity: p.pskIdentity, psk: fromHex(p.psk), retryDelayMs: 20, maxRetries: 5 });
      }
      closers.push(async () => {
        f.stop();
        await saver?.flush();
      });
    }
    // Closed first (closers run in reverse): stop the phones before the services go.
    const urls: PlatformUrls = { issuer: issuer.url, provider: provider.url, otaAdmin: ota.adminUrl, ota: ota.ramUrl, ca: caService.url, ...(relayUrl !== undefined ? { terminals: relayUrl } : {}) };
    const descriptor: PlatformDescriptor = {
      format: PLATFORM_FORMAT,
      pid: process.pid,
      startedAt: new Date().toISOString(),
      providerId,
      urls,
      database: config.database,
      devices: phones.map((p) => p.iccid),
    };
    await mkdir(options.dataDir, { recursive: true });
    const descriptorFile = join(options.dataDir, PLATFORM_FILE);
    await writeFile(descriptorFile, JSON.stringify(descriptor, null, 2) + '\n', { mode: 0o600 });
    closers.push(() => rm(descriptorFile, { force: true })); // runs first: the platform is no longer there

    let closed: Promise<void> | undefined;
    return {
      config,
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
      phones,
      manufactured,
      operator,
      close: () => (closed ??= closeAll()),
    };
  } catch (e) {
    await closeAll();
    throw e;
  }
}

/** The provider's CAs: read from `<dataDir>/cas.json`, or created (by the operator) and saved there. */
async function ensureProviderCas(dataDir: string, providerId: string, operatorCa: PlatformClient): Promise<ProviderCas> {
  const file = join(dataDir, CAS_FILE);
  try {
    const saved = JSON.parse(await readFile(file, 'utf8')) as { providerId?: unknown; scp11?: unknown; scp10?: unknown };
    if (saved.providerId === providerId && typeof saved.scp11 === 'string' && typeof saved.scp10 === 'string') return { scp11: saved.scp11, scp10: saved.scp10 };
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT' && !(e instanceof SyntaxError)) throw e;
  }
  const client = caClient(operatorCa);
  const scp11 = await client.createCa(providerId, 'scp11', 'P-256');
  const scp10 = await client.createCa(providerId, 'scp10', 'RSA-2048');
  const cas = { scp11: scp11.caId, scp10: scp10.caId };
  await mkdir(dataDir, { recursive: true });
  await writeFile(file, JSON.stringify({ providerId, ...cas }, null, 2) + '\n', { mode: 0o600 });
  return cas;
}
