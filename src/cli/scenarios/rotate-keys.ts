/**
 * Scenario `rotate-keys` (docs/architecture.md §4 flow 3, the four rotation cases): after `ota-ssd` on N phones,
 *   1. provider-managed SSD, forced rotation (provider API);
 *   2. provider-managed SSD, rotation on expiry (keys_expire_at in the past → the provider's expiry sweep);
 *   3. an issuer-managed SSD requested by the provider, forced rotation (issuer API, operator);
 *   4. the issuer-managed SSD, rotation on expiry (→ the issuer's key schedule sweep).
 * After each, as an operator sees it: the key version the platform's API reports advanced by one and its KCVs
 * changed, the KVN and KCVs answered are those the API reports, and the card (asked over OTA, card-probe.ts)
 * holds the new key version and no longer the old one.
 */
import { nextKvn, type KeySetKcvs } from '../../services/sd-keys/key-set.ts';
import { keyVersionOnCard } from './card-probe.ts';
import { Checks, freshSsdAid } from './checks.ts';
import type { ScenarioContext, SsdKeysView } from './context.ts';
import { runOtaSsd, type SsdCard } from './ota-ssd.ts';

export type RotationCase = 'provider-forced' | 'provider-expiry' | 'issuer-forced' | 'issuer-expiry';

export interface RotationResult {
  readonly case: RotationCase;
  readonly cardId: string;
  readonly aid: string;
  readonly trigger: string;
  readonly kvn: { readonly before: number; readonly after: number };
  readonly kcvs: { readonly before: KeySetKcvs; readonly after: KeySetKcvs };
  readonly probes: { readonly newKvn: string; readonly oldKvn: string };
}

type Target = { readonly cardId: string; readonly aid: string };

async function verify(ctx: ScenarioContext, checks: Checks, rcase: RotationCase, t: Target, before: SsdKeysView, trigger: string, answered?: { kvn: number; kcvs: KeySetKcvs }): Promise<RotationResult> {
  const after = rcase.startsWith('provider') ? await ctx.providerSsd(t.cardId, t.aid) : await ctx.issuerSsd(t.cardId, t.aid);
  const label = `${rcase} ${t.cardId} ${t.aid}`;
  checks.equal(`${label}: key version advanced`, after.kvn, nextKvn(before.kvn));
  checks.that(`${label}: the KCVs changed`, after.kcvs.enc !== before.kcvs.enc && after.kcvs.mac !== before.kcvs.mac && after.kcvs.dek !== before.kcvs.dek, 'enc, mac and dek KCVs all differ', { before: before.kcvs, after: after.kcvs });
  if (answered) checks.equal(`${label}: answered KVN and KCVs = those the API reports`, answered, { kvn: after.kvn, kcvs: after.kcvs });
  const channel = await ctx.channel(t.cardId);
  const probes = { newKvn: await keyVersionOnCard(channel, t.aid, after.kvn, after.scp), oldKvn: await keyVersionOnCard(channel, t.aid, before.kvn, before.scp) };
  checks.equal(`${label}: the card holds the new key version, no longer the old one`, probes, { newKvn: 'present', oldKvn: 'absent' });
  return { case: rcase, cardId: t.cardId, aid: t.aid, trigger, kvn: { before: before.kvn, after: after.kvn }, kcvs: { before: before.kcvs, after: after.kcvs }, probes };
}

export async function runRotateKeys(ctx: ScenarioContext, checks: Checks, devices: number): Promise<{ ssds: SsdCard[]; issuerManagedAid: string; rotations: RotationResult[] }> {
  const { aid, cards } = await runOtaSsd(ctx, checks, devices);
  const provider: Target[] = cards.map((c) => ({ cardId: c.cardId, aid }));
  const rotations: RotationResult[] = [];

  // 1. provider-managed, forced.
  rotations.push(
    ...(await Promise.all(
      provider.map(async (t) => {
        const before = await ctx.providerSsd(t.cardId, t.aid);
        const r = await ctx.operator.provider.post<{ kvn: number; kcvs: KeySetKcvs }>(`/v1/cards/${t.cardId}/ssds/${t.aid}/rotation`, {
          body: { reason: 'forced' },
          idempotencyKey: `scenario-rotate-${t.cardId}-${t.aid}-${before.kvn}`,
        });
        return verify(ctx, checks, 'provider-forced', t, before, 'provider API', { kvn: r.body.kvn, kcvs: r.body.kcvs });
      }),
    )),
  );

  // 2. provider-managed, expiry.
  const beforeExpiry = await Promise.all(provider.map((t) => ctx.providerSsd(t.cardId, t.aid)));
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
        const before = await ctx.issuerSsd(t.cardId, t.aid);
        const channel = await ctx.channel(t.cardId);
        checks.equal(`issuer-managed SSD ${t.cardId} ${t.aid}: the card holds the issuer's key version`, await keyVersionOnCard(channel, t.aid, before.kvn, before.scp), 'present');
        const r = await ctx.operator.issuer.post<{ kvn: number; kcvs: KeySetKcvs }>(`/v1/cards/${t.cardId}/ssds/${t.aid}/rotation`, {
          body: { reason: 'forced' },
          idempotencyKey: `scenario-rotate-${t.cardId}-${t.aid}-${before.kvn}`,
        });
        return verify(ctx, checks, 'issuer-forced', t, before, 'issuer API', { kvn: r.body.kvn, kcvs: r.body.kcvs });
      }),
    )),
  );

  // 4. issuer-managed, expiry.
  const beforeIssuerExpiry = await Promise.all(issuerManaged.map((t) => ctx.issuerSsd(t.cardId, t.aid)));
  const iTrigger = await ctx.expire('issuer', issuerManaged);
  rotations.push(...(await Promise.all(issuerManaged.map((t, i) => verify(ctx, checks, 'issuer-expiry', t, beforeIssuerExpiry[i]!, `issuer expiry ${iTrigger}`)))));
  return { ssds: cards, issuerManagedAid: issuerAid, rotations };
}
