/**
 * Scenario `ota-ssd` (docs/architecture.md §4 flow 3 over the air): for each of N phones the provider asks for an
 * SSD (`POST /v1/cards/{id}/ssds`, route OTA) — the issuer creates it through the ISD, delivers its initial
 * keys, hands it over; the provider replaces them. Then, as an operator sees it: the KCVs answered are those the
 * provider's API reports; the card holds the key version the provider reports (INITIALIZE UPDATE, card-probe.ts)
 * and the issuer's (the ISD's) keys do not open the SSD; the ISD's registry lists it; the issuer's API says it
 * holds no key of it.
 */
import { fromHex, toHex } from '../../core/bytes.ts';
import { getStatus } from '../../gp/client.ts';
import { GetStatusScope } from '../../gp/registry.ts';
import { keySetFromHex, type KeySetKcvs, type SdKeySet } from '../../services/sd-keys/key-set.ts';
import { openSd, probeKeySet } from '../../services/sd-keys/operations.ts';
import type { PhoneRecord } from '../../runtime/index.ts';
import { keyVersionOnCard } from './card-probe.ts';
import { Checks, freshSsdAid } from './checks.ts';
import type { ScenarioContext } from './context.ts';

export interface SsdCard {
  readonly cardId: string;
  readonly aid: string;
  readonly state: string;
  readonly kvn: number;
  readonly kcvs: KeySetKcvs;
  readonly probes: { readonly providerKvn: string; readonly issuerIsdKeys: string };
  readonly issuerHoldsKeys: boolean;
  readonly listedByIsd: boolean;
}

export function isdKeysOf(phone: Pick<PhoneRecord, 'isdKeys'>): SdKeySet {
  return keySetFromHex(phone.isdKeys.kvn, 3, phone.isdKeys.enc, phone.isdKeys.mac, phone.isdKeys.dek);
}

/** The ISD's registry (GET STATUS, applications and SDs) read with the factory's ISD keys over `channel`. */
export async function listByIsd(channel: Parameters<typeof probeKeySet>[0], phone: Pick<PhoneRecord, 'isdKeys'>): Promise<string[]> {
  const isd = await openSd(channel, fromHex('A000000151000000'), isdKeysOf(phone));
  try {
    return (await getStatus(isd, GetStatusScope.APPLICATIONS)).map((e) => toHex(e.aid).toUpperCase());
  } finally {
    await isd.close();
  }
}

/** Take over one SSD on `phone` over OTA and check the card. */
export async function otaSsdOn(ctx: ScenarioContext, checks: Checks, phone: PhoneRecord, aid: string): Promise<SsdCard> {
  const cardId = phone.iccid;
  const r = await ctx.operator.provider.post<{ state: string; kvn: number; kcvs: KeySetKcvs }>(`/v1/cards/${cardId}/ssds`, {
    body: { aid, privileges: ['AuthorizedManagement'], route: { kind: 'ota' } },
    idempotencyKey: `scenario-ota-ssd-${cardId}-${aid}`,
  });
  checks.equal(`${cardId} ${aid}: provider answer`, [r.status, r.body.state], [201, 'provider-managed']);
  const own = await ctx.providerSsd(cardId, aid);
  checks.equal(`${cardId} ${aid}: KCVs answered = KCVs the provider's API reports`, r.body.kcvs, own.kcvs);
  const channel = await ctx.channel(cardId);
  const probes = { providerKvn: await keyVersionOnCard(channel, aid, own.kvn, own.scp), issuerIsdKeys: await probeKeySet(channel, fromHex(aid), isdKeysOf(phone)) };
  checks.equal(`${cardId} ${aid}: the card holds the provider's key version, the issuer's ISD keys do not open the SSD (asked of the card over OTA)`, probes, { providerKvn: 'present', issuerIsdKeys: 'mismatch' });
  const issuerView = await ctx.operator.issuer.get<{ ssds: { aid: string; state: string; keysHeld: boolean }[] }>(`/v1/cards/${cardId}/ssds`);
  const mine = issuerView.body.ssds.find((s) => s.aid === aid);
  checks.equal(`${cardId} ${aid}: the issuer's view (state, holds keys)`, mine && [mine.state, mine.keysHeld], ['provider-managed', false]);
  const listed = (await listByIsd(channel, phone)).includes(aid);
  checks.equal(`${cardId} ${aid}: GET STATUS through the ISD lists the SSD`, listed, true);
  return { cardId, aid, state: r.body.state, kvn: r.body.kvn, kcvs: r.body.kcvs, probes, issuerHoldsKeys: mine!.keysHeld, listedByIsd: listed };
}

export async function runOtaSsd(ctx: ScenarioContext, checks: Checks, devices: number): Promise<{ aid: string; cards: SsdCard[] }> {
  checks.that('phones available', ctx.phones.length >= devices, `at least ${devices}`, ctx.phones.length);
  const aid = freshSsdAid();
  const cards = await Promise.all(ctx.phones.slice(0, devices).map((p) => otaSsdOn(ctx, checks, p, aid)));
  return { aid, cards };
}
