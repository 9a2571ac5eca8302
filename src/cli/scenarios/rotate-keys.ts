/**
 * Scenario `rotate-keys` (ARCHITECTURE.md §4 flow 3, the four rotation cases): after `ota-ssd` on N phones,
 *   1. provider-managed SSD, forced rotation (provider API);
 *   2. provider-managed SSD, rotation on expiry (keys_expire_at in the past → the provider's expiry sweep);
 *   3. an issuer-managed SSD requested by the provider, forced rotation (issuer API, operator);
 *   4. the issuer-managed SSD, rotation on expiry (→ the issuer's key schedule sweep).
 * After each: the key version advanced by one, the KCVs answered are those of the stored keys, and the card
 * (asked over OTA) opens the SSD with the new keys and no longer with the old ones.
 */
import { fromHex } from '../../core/bytes.ts';
import { nextKvn, type KeySetKcvs, type SdKeySet } from '../../services/sd-keys/key-set.ts';
import { probeKeySet } from '../../services/sd-keys/operations.ts';
import { Checks, freshSsdAid, kcvsOf } from './checks.ts';
import type { ScenarioContext } from './context.ts';
import { runOtaSsd, type SsdCard } from './ota-ssd.ts';

export type RotationCase = 'provider-forced' | 'provider-expiry' | 'issuer-forced' | 'issuer-expiry';

export interface RotationResult {
  readonly case: RotationCase;
  readonly cardId: string;
  readonly aid: string;
  readonly trigger: string;
  readonly kvn: { readonly before: number; readonly after: number };
  readonly kcvs: { readonly before: KeySetKcvs; readonly after: KeySetKcvs };
  readonly probes: { readonly newKeys: string; readonly oldKeys: string };
}

type Target = { readonly cardId: string; readonly aid: string };

async function verify(ctx: ScenarioContext, checks: Checks, rcase: RotationCase, t: Target, before: SdKeySet, trigger: string, answered?: { kvn: number; kcvs: KeySetKcvs }): Promise<RotationResult> {
  const after = rcase.startsWith('provider') ? await ctx.providerKeys(t.cardId, t.aid) : await ctx.issuerKeys(t.cardId, t.aid);
  const label = `${rcase} ${t.cardId} ${t.aid}`;
  checks.equal(`${label}: key version advanced`, after.kvn, nextKvn(before.kvn));
  if (answered) checks.equal(`${label}: answered KVN and KCVs = the stored keys'`, answered, { kvn: after.kvn, kcvs: kcvsOf(after) });
  const channel = await ctx.channel(t.cardId);
  const probes = { newKeys: await probeKeySet(channel, fromHex(t.aid), after), oldKeys: await probeKeySet(channel, fromHex(t.aid), before) };
  checks.that(`${label}: the new keys open the SSD, the old ones no longer do`, probes.newKeys === 'match' && probes.oldKeys !== 'match', "{ newKeys: 'match', oldKeys: not 'match' }", probes);
  return { case: rcase, cardId: t.cardId, aid: t.aid, trigger, kvn: { before: before.kvn, after: after.kvn }, kcvs: { before: kcvsOf(before), after: kcvsOf(after) }, probes };
}

export async function runRotateKeys(ctx: ScenarioContext, checks: Checks, devices: number): Promise<{ ssds: SsdCard[]; issuerManagedAid: string; rotations: RotationResult[] }> {
  const { aid, cards } = await runOtaSsd(ctx, checks, devices);
  const provider: Target[] = cards.map((c) => ({ cardId: c.cardId, aid }));
  const rotations: RotationResult[] = [];

  // 1. provider-managed, forced.
  rotations.push(
    ...(await Promise.all(
      provider.map(async (t) => {
        const before = await ctx.providerKeys(t.cardId, t.aid);
        const r = await ctx.operator.provider.post<{ kvn: number; kcvs: KeySetKcvs }>(`/v1/cards/${t.cardId}/ssds/${t.aid}/rotation`, {
          body: { reason: 'forced' },
          idempotencyKey: `scenario-rotate-${t.cardId}-${t.aid}-${before.kvn}`,
        });
        return verify(ctx, checks, 'provider-forced', t, before, 'provider API', { kvn: r.body.kvn, kcvs: r.body.kcvs });
      }),
    )),
  );

  // 2. provider-managed, expiry.
  const beforeExpiry = await Promise.all(provider.map((t) => ctx.providerKeys(t.cardId, t.aid)));
  const pTrigger = await ctx.expire('provider', provider);
  rotations.push(...(await Promise.all(provider.map((t, i) => verify(ctx, checks, 'provider-expiry', t, beforeExpiry[i]!, `provider expiry ${pTrigger}`)))));

  // 3. an issuer-managed SSD, forced rotation by the issuer's operator.
  const issuerAid = freshSsdAid();
  const issuerManaged: Target[] = cards.map((c) => ({ cardId: c.cardId, aid: issuerAid }));
  rotations.push(
    ...(await Promise.all(
      issuerManaged.map(async (t) => {
        const req = await ctx.asProvider.issuer.post<{ step: string }>('/v1/ssd-requests', {
          body: { cardId: t.cardId, aid: t.aid, privileges: [], route: { kind: 'ota' }, managedBy: 'issuer' },
          idempotencyKey: `scenario-issuer-managed-${t.cardId}-${t.aid}`,
        });
        checks.equal(`issuer-managed SSD ${t.cardId} ${t.aid} created`, req.body.step, 'done');
        const before = await ctx.issuerKeys(t.cardId, t.aid);
        const channel = await ctx.channel(t.cardId);
        checks.equal(`issuer-managed SSD ${t.cardId} ${t.aid}: the issuer's keys open it`, await probeKeySet(channel, fromHex(t.aid), before), 'match');
        const r = await ctx.operator.issuer.post<{ kvn: number; kcvs: KeySetKcvs }>(`/v1/cards/${t.cardId}/ssds/${t.aid}/rotation`, {
          body: { reason: 'forced' },
          idempotencyKey: `scenario-rotate-${t.cardId}-${t.aid}-${before.kvn}`,
        });
        return verify(ctx, checks, 'issuer-forced', t, before, 'issuer API', { kvn: r.body.kvn, kcvs: r.body.kcvs });
      }),
    )),
  );

  // 4. issuer-managed, expiry.
  const beforeIssuerExpiry = await Promise.all(issuerManaged.map((t) => ctx.issuerKeys(t.cardId, t.aid)));
  const iTrigger = await ctx.expire('issuer', issuerManaged);
  rotations.push(...(await Promise.all(issuerManaged.map((t, i) => verify(ctx, checks, 'issuer-expiry', t, beforeIssuerExpiry[i]!, `issuer expiry ${iTrigger}`)))));
  return { ssds: cards, issuerManagedAid: issuerAid, rotations };
}
