/**
 * What a scenario works with, whether the platform runs in this process (a temporary one) or is a running
 * `opentsm up` found through its data folder: the operator's clients, the phones (ICCIDs and the factory's
 * ISD keys), a card channel over the OTA path for probes, and how key expiry is brought about. A scenario sees
 * only what an operator sees (docs/architecture.md §3): the services' read APIs over mutual TLS (an SSD's state, key
 * version and KCVs — never keys) and the card itself; it never opens a service's database.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { CardChannel } from '../../apdu/channel.ts';
import { loadConfig, type PlatformConfig } from '../../platform/config/config.ts';
import { PlatformClient } from '../../platform/http/client.ts';
import { loadCa, type CertificateAuthority } from '../../platform/tls/ca.ts';
import { ensureIdentity } from '../../platform/tls/issue.ts';
import { mutualTlsAgent } from '../../platform/tls/options.ts';
import { otaCardAccess } from '../../services/ota/client.ts';
import type { KeySetKcvs } from '../../services/sd-keys/key-set.ts';
import { UsageError } from '../errors.ts';
import { loadPhones, type PhoneRecord } from '../../runtime/index.ts';
import { PLATFORM_FILE, PLATFORM_FORMAT, type Platform, type PlatformDescriptor, type PlatformUrls } from '../../runtime/index.ts';

export type ExpiryTrigger = 'sweep' | 'api';

/** An SSD as a platform's read API answers it (`GET /v1/cards/{cardId}/ssds/{aid}`): no keys. */
export interface SsdKeysView {
  readonly state: string;
  readonly scp: number;
  readonly kvn: number;
  readonly kcvs: KeySetKcvs;
}

/** What the issuer answers besides: whether it holds keys of the SSD. */
export interface IssuerSsdKeysView extends SsdKeysView {
  readonly keysHeld: boolean;
}

async function ssdView<T extends SsdKeysView>(client: PlatformClient, who: string, cardId: string, aid: string): Promise<T> {
  const r = await client.get<T & { kvn: number | null; kcvs: KeySetKcvs | null }>(`/v1/cards/${cardId}/ssds/${aid}`);
  if (r.body.kvn === null || r.body.kcvs === null) throw new Error(`the ${who} holds no keys of SSD ${aid} on card ${cardId} (state ${r.body.state})`);
  return r.body;
}

function readApis(operator: { readonly issuer: PlatformClient; readonly provider: PlatformClient }) {
  return {
    providerSsd: (cardId: string, aid: string) => ssdView<SsdKeysView>(operator.provider, 'provider', cardId, aid),
    issuerSsd: (cardId: string, aid: string) => ssdView<IssuerSsdKeysView>(operator.issuer, 'issuer', cardId, aid),
  };
}

export interface ScenarioContext {
  /** 'in-process' or the data folder of the running platform. */
  readonly where: string;
  readonly providerId: string;
  readonly urls: PlatformUrls;
  readonly ca: CertificateAuthority;
  readonly tlsDir: string;
  readonly phones: readonly PhoneRecord[];
  readonly operator: { readonly issuer: PlatformClient; readonly provider: PlatformClient; readonly ca: PlatformClient };
  /** The provider platform's own identity at the issuer (for issuer-managed SSD requests). */
  readonly asProvider: { readonly issuer: PlatformClient };
  /** A channel to a phone's card over the OTA path. */
  channel(cardId: string): Promise<CardChannel>;
  /** The provider's view of an SSD (operator, provider API). */
  providerSsd(cardId: string, aid: string): Promise<SsdKeysView>;
  /** The issuer's view of an SSD (operator, issuer API). */
  issuerSsd(cardId: string, aid: string): Promise<IssuerSsdKeysView>;
  /**
   * Make the keys of an SSD expire and have the platform rotate them: in-process by setting keys_expire_at
   * in the past and running the platform's expiry sweep; against a running platform through the API
   * (rotation with reason `expiry`). Resolves when the rotation has run.
   */
  expire(by: 'issuer' | 'provider', targets: readonly { readonly cardId: string; readonly aid: string }[]): Promise<ExpiryTrigger>;
  close(): Promise<void>;
}

async function waitCampaign(provider: PlatformClient, id: string): Promise<void> {
  for (let i = 0; i < 600; i++) {
    const c = await provider.get<{ status: string; failed: number; failures: { error: string }[] }>(`/v1/campaigns/${id}`);
    if (c.body.status === 'done') {
      if (c.body.failed > 0) throw new Error(`expiry campaign ${id} failed: ${c.body.failures.map((f) => f.error).join('; ')}`);
      return;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`expiry campaign ${id} did not finish in 30 s`);
}

/** A context on a platform started in this process. */
export async function inProcessContext(platform: Platform): Promise<ScenarioContext> {
  const providerAgent = mutualTlsAgent(await ensureIdentity(platform.config.tlsDir, platform.ca, { commonName: platform.providerId, usage: 'both', ipAddresses: ['127.0.0.1'], dnsNames: ['localhost'] }));
  return {
    where: 'in-process',
    providerId: platform.providerId,
    urls: platform.urls,
    ca: platform.ca,
    tlsDir: platform.config.tlsDir,
    phones: platform.phones,
    operator: platform.operator,
    asProvider: { issuer: new PlatformClient({ baseUrl: platform.urls.issuer, agent: providerAgent }) },
    channel: async (cardId) => platform.ota.ota.channel(cardId),
    ...readApis(platform.operator),
    async expire(by, targets) {
      const past = new Date(Date.now() - 60_000).toISOString();
      const db = by === 'issuer' ? platform.issuer.deps.db : platform.provider.deps.db;
      for (const t of targets) await db.execute('UPDATE ssds SET keys_expire_at = $1 WHERE card_id = $2 AND aid = $3', [past, t.cardId, t.aid]);
      if (by === 'issuer') {
        const r = await platform.issuer.schedule.sweep();
        if (r.failed.length > 0) throw new Error(`issuer expiry sweep failed: ${r.failed.map((f) => f.error).join('; ')}`);
      } else {
        const id = await platform.provider.sweep();
        if (id === undefined) throw new Error('the provider expiry sweep found nothing due');
        await waitCampaign(platform.operator.provider, id);
      }
      return 'sweep';
    },
    async close() {
      providerAgent.destroy();
    },
  };
}

/** Read `<dir>/platform.json` of a running `opentsm up`. */
export async function readDescriptor(dataDir: string): Promise<PlatformDescriptor> {
  let text: string;
  try {
    text = await readFile(join(dataDir, PLATFORM_FILE), 'utf8');
  } catch {
    throw new UsageError('BAD_VALUE', `--platform: no ${PLATFORM_FILE} in ${dataDir} (is it the data folder of a running opentsm up?)`);
  }
  const d = JSON.parse(text) as PlatformDescriptor;
  if (d.format !== PLATFORM_FORMAT || typeof d.urls?.issuer !== 'string') throw new UsageError('BAD_VALUE', `--platform: ${join(dataDir, PLATFORM_FILE)} is not a platform descriptor`);
  return d;
}

/** A context on a running platform, through its data folder (operator certificate, CA, phones) and its APIs. */
export async function remoteContext(dataDir: string, descriptor: PlatformDescriptor): Promise<ScenarioContext> {
  const config: PlatformConfig = loadConfig({ dataDir, database: descriptor.database, logLevel: 'silent' });
  const ca = await loadCa(config.tlsDir);
  const operatorAgent = mutualTlsAgent(await ensureIdentity(config.tlsDir, ca, { commonName: 'operator', usage: 'client' }));
  const providerAgent = mutualTlsAgent(await ensureIdentity(config.tlsDir, ca, { commonName: descriptor.providerId, usage: 'both', ipAddresses: ['127.0.0.1'], dnsNames: ['localhost'] }));
  const operator = {
    issuer: new PlatformClient({ baseUrl: descriptor.urls.issuer, agent: operatorAgent }),
    provider: new PlatformClient({ baseUrl: descriptor.urls.provider, agent: operatorAgent }),
    ca: new PlatformClient({ baseUrl: descriptor.urls.ca, agent: operatorAgent }),
  };
  // The checks ask the card as its owner: the OTA scopes a provider to its own SSDs (issue 8 §4), and the
  // scenario also lists the registry through the ISD.
  const issuerAgent = mutualTlsAgent(await ensureIdentity(config.tlsDir, ca, { commonName: 'issuer', usage: 'both', ipAddresses: ['127.0.0.1'], dnsNames: ['localhost'] }));
  const access = otaCardAccess(descriptor.urls.otaAdmin, issuerAgent);
  const known = new Set(descriptor.devices);
  return {
    where: dataDir,
    providerId: descriptor.providerId,
    urls: descriptor.urls,
    ca,
    tlsDir: config.tlsDir,
    phones: (await loadPhones(dataDir)).filter((p) => known.has(p.iccid)),
    operator,
    asProvider: { issuer: new PlatformClient({ baseUrl: descriptor.urls.issuer, agent: providerAgent }) },
    channel: (cardId) => access(cardId, { kind: 'ota' }),
    ...readApis(operator),
    async expire(by, targets) {
      const stamp = Date.now();
      if (by === 'issuer') {
        for (const { cardId, aid } of targets) {
          await operator.issuer.post(`/v1/cards/${cardId}/ssds/${aid}/rotation`, { body: { reason: 'expiry' }, idempotencyKey: `scenario-expiry-${cardId}-${aid}-${stamp}` });
        }
      } else {
        const c = await operator.provider.post<{ campaignId: string }>('/v1/campaigns', {
          body: { reason: 'expiry', targets: targets.map((t) => ({ cardId: t.cardId, aid: t.aid })) },
          idempotencyKey: `scenario-expiry-${stamp}`,
        });
        await waitCampaign(operator.provider, c.body.campaignId);
      }
      return 'api';
    },
    async close() {
      operatorAgent.destroy();
      providerAgent.destroy();
    },
  };
}
