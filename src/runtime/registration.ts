/**
 * What the operator does at first start of a platform, through the services' APIs (docs/architecture.md §3
 * runtime/): register the provider with its business permissions at the issuer, each card with the issuer
 * and each phone with the OTA server. Every call is idempotent (an existing registration is kept), so a
 * restart registers only what is missing.
 */
import { defaultAgentId } from '../device/device.ts';
import { RemoteProblemError, type PlatformClient } from '../platform/http/client.ts';
import { ISD_AID, savePhone, type PhoneRecord } from './phones.ts';

/** The provider's business permissions at the issuer (SSD AIDs under this prefix). */
export const PROVIDER_AID_PREFIX = 'A000000151535041';

export interface OperatorClients {
  readonly issuer: PlatformClient;
  readonly provider: PlatformClient;
  readonly ota: PlatformClient;
  readonly ca: PlatformClient;
}

/** Run `run` over `items`, at most `concurrency` at a time. */
export async function pool<T>(items: readonly T[], concurrency: number, run: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await run(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, items.length)) }, worker));
}

/** `p`, where 409 ALREADY_EXISTS counts as done. */
export async function alreadyOk(p: Promise<unknown>): Promise<void> {
  try {
    await p;
  } catch (e) {
    if (e instanceof RemoteProblemError && e.status === 409 && e.problem?.code === 'ALREADY_EXISTS') return;
    throw e;
  }
}

export async function registerProvider(issuer: PlatformClient, providerId: string): Promise<void> {
  await alreadyOk(
    issuer.post('/v1/providers', {
      body: { providerId, name: 'Demo Bank', aidPrefix: PROVIDER_AID_PREFIX, privileges: ['AuthorizedManagement'], maxSsds: 64 },
    }),
  );
}

export interface RegisterPhonesOptions {
  readonly concurrency?: number;
  /** Save each phone's registration marks in this data folder (omit: phones live in memory only). */
  readonly dataDir?: string;
}

/** Register every phone not yet registered: its card with the issuer, the phone with the OTA server. */
export async function registerPhones(operator: OperatorClients, phones: readonly PhoneRecord[], options: RegisterPhonesOptions = {}): Promise<void> {
  const unregistered = phones.filter((p) => !p.registered.issuer || !p.registered.ota);
  await pool(unregistered, options.concurrency ?? 16, async (p) => {
    if (!p.registered.issuer) {
      await alreadyOk(
        operator.issuer.post('/v1/cards', {
          body: { cardId: p.iccid, iin: '0001', cin: p.cin, profile: 'scp03', isdAid: ISD_AID, isdKeys: p.isdKeys },
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
    if (options.dataDir !== undefined) await savePhone(options.dataDir, p);
  });
}
