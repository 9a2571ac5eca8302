/**
 * Issuer side of an asymmetric SSD (docs/architecture.md §4 flow 4). The SSD is installed, given the issuer's
 * temporary set-up key set and extradited exactly like a symmetric one (create-ssd.ts); then, instead of
 * handing keys over, the `generate` step opens the SSD with the set-up keys and, in one script:
 *
 *   GENERATE KEY PAIR  SK.SD.ECKA (SCP11, KID '11' or '15') or SK.SD.AUT (SCP10, RSA) — KVN '11'; the private key
 *                      never leaves the card, the answer is the public key
 *   PUT KEY            the provider CA's trust point (PK.CA-KLOC.ECDSA or PK.TP_EX.AUT) — KVN '10' KID '10'
 *
 * then records the SD information (public data only), forgets its set-up keys (`key.forgotten`) and ends the
 * flow. From then on the issuer holds nothing that opens the SSD: its set-up key set is deleted from the card by
 * the provider's first session (provider/flows/asymmetric-take-over.ts), and the SD key pair is the card's.
 * A resumed `generate` asks the card (key information template) which keys exist and replaces them.
 */
import type { CardChannel } from '../../../apdu/channel.ts';
import { fromHex } from '../../../core/bytes.ts';
import {
  buildGenerateEcKeyPair,
  buildGenerateRsaKeyPair,
  buildPutEcTrustAnchor,
  buildPutRsaTrustPoint,
  parseGeneratedEcPublicKey,
  parseGeneratedRsaPublicKey,
} from '../../../gp/asymmetric-keys.ts';
import { getData, sendAll } from '../../../gp/client.ts';
import { parseKeyInformationTemplate } from '../../../gp/get-data.ts';
import { publicKeyFingerprint } from '../../common/fingerprint.ts';
import { isValidPublicKey } from '../../../crypto/index.ts';
import type { FlowDeps } from '../../common/deps.ts';
import { FlowError } from '../../common/flow-error.ts';
import {
  ASYMMETRIC_VARIANTS,
  curveReference,
  FIRST_SD_KVN,
  isEcTrustPoint,
  publicKeyBytes,
  publicKeyHex,
  sdKid,
  TRUST_POINT,
  variantFits,
  type AsymmetricSdInfo,
  type AsymmetricVariant,
  type SdPublicKeyHex,
  type TrustPointKey,
} from '../../sd-keys/asymmetric.ts';
import { openSd } from '../../sd-keys/operations.ts';
import { wipeKeySet } from '../../sd-keys/key-set.ts';
import { requestSsd, runCreateSsd, ssdKeys, type CreateSsdData, type CreateSsdFlow, type CreateSsdRequest } from './create-ssd.ts';
import { DONE, type StepOutcome } from '../../../platform/flows/runner.ts';

export interface AsymmetricRequest {
  readonly variant: AsymmetricVariant;
  readonly trustPoint: TrustPointKey;
  /** SCP10: size of the SD's RSA key (default 2048). */
  readonly modulusBits?: 1024 | 2048;
}

export interface AsymmetricData {
  readonly variant: AsymmetricVariant;
  readonly trustPoint: TrustPointKey;
  readonly modulusBits?: 1024 | 2048;
}

/** Validate a provider's asymmetric request (shape checked by the route's schema; meaning checked here). */
export function checkAsymmetricRequest(a: AsymmetricRequest, managedBy: 'provider' | 'issuer'): AsymmetricData {
  if (managedBy !== 'provider') throw new FlowError('NOT_PERMITTED', 'an asymmetric SSD is managed by its provider');
  if (!ASYMMETRIC_VARIANTS.includes(a.variant)) throw new FlowError('BAD_REQUEST', `unknown variant ${String(a.variant)}`);
  if (!variantFits(a.variant, a.trustPoint)) throw new FlowError('BAD_REQUEST', `SCP${a.variant} needs ${a.variant === '10' ? 'an RSA' : 'an EC'} trust point`);
  if (a.variant !== '10' && a.modulusBits !== undefined) throw new FlowError('BAD_REQUEST', 'modulusBits applies to SCP10 only');
  // Checked before anything happens on the card: a trust point the card would refuse must not leave a
  // half-made SSD behind.
  const t = a.trustPoint;
  if (isEcTrustPoint(t)) {
    if (!isValidPublicKey(t.curve, fromHex(t.point))) throw new FlowError('BAD_REQUEST', `trust point is not an uncompressed point of ${t.curve}`);
  } else {
    const m = fromHex(t.modulus);
    const e = fromHex(t.exponent);
    if ((m.length !== 128 && m.length !== 256) || (m[0]! & 0x80) === 0 || (m[m.length - 1]! & 1) === 0) throw new FlowError('BAD_REQUEST', 'trust point modulus must be an odd number of 1024 or 2048 bits');
    if (e.length < 1 || e.length > 4 || e[0] === 0 || (e[e.length - 1]! & 1) === 0 || (e.length === 1 && e[0]! < 3)) {
      throw new FlowError('BAD_REQUEST', 'trust point exponent must be an odd integer ≥ 3 of 1..4 bytes');
    }
  }
  return { variant: a.variant, trustPoint: t, ...(a.variant === '10' ? { modulusBits: a.modulusBits ?? 2048 } : {}) };
}

const now = () => new Date().toISOString();

/** The `generate` step: key pair on card, trust point in, SD info recorded, set-up keys forgotten; ends the flow. */
export async function runGenerate(deps: FlowDeps, start: CreateSsdFlow, channel: CardChannel, verify: boolean): Promise<StepOutcome<CreateSsdData>> {
  const flow = start;
  const d = flow.data;
  const a = d.asymmetric;
  if (a === undefined) throw new FlowError('WRONG_STATE', 'not an asymmetric SSD', flow.step);
  const aid = fromHex(d.aid);
  const kid = sdKid(a.variant);
  const setup = await ssdKeys(deps, d.cardId, d.aid);
  let present = { sd: false, trustPoint: false };
  let publicKey: SdPublicKeyHex;
  try {
    const session = await openSd(channel, aid, setup, { deferAuthentication: !verify });
    if (verify) {
      // A resumed step asks the card which of the two keys it already has and replaces those.
      const info = parseKeyInformationTemplate((await getData(session, 0xe0)) ?? new Uint8Array(0));
      present = {
        sd: info.some((k) => k.kvn === FIRST_SD_KVN && k.keyId === kid),
        trustPoint: info.some((k) => k.kvn === TRUST_POINT.kvn && k.keyId === TRUST_POINT.kid),
      };
    }
    const replaceSd = present.sd ? FIRST_SD_KVN : 0;
    const replaceTp = present.trustPoint ? TRUST_POINT.kvn : 0;
    const t = a.trustPoint;
    const generate =
      a.variant === '10'
        ? buildGenerateRsaKeyPair({ kvn: FIRST_SD_KVN, kid, replaceKvn: replaceSd, modulusBits: a.modulusBits ?? 2048 })
        : buildGenerateEcKeyPair({ kvn: FIRST_SD_KVN, kid, replaceKvn: replaceSd, curveReference: curveReference(isEcTrustPoint(t) ? t.curve : 'P-256') });
    const putTrustPoint = isEcTrustPoint(t)
      ? buildPutEcTrustAnchor({ ...TRUST_POINT, replaceKvn: replaceTp, curveReference: curveReference(t.curve), point: fromHex(t.point) })
      : buildPutRsaTrustPoint({ ...TRUST_POINT, replaceKvn: replaceTp, modulus: fromHex(t.modulus), exponent: fromHex(t.exponent) });
    const [generated] = await sendAll(session, [generate, putTrustPoint]);
    publicKey = publicKeyHex(a.variant === '10' ? parseGeneratedRsaPublicKey(generated!.data) : { point: parseGeneratedEcPublicKey(generated!.data) });
  } finally {
    wipeKeySet(setup);
  }
  const fingerprint = publicKeyFingerprint(publicKeyBytes(publicKey));
  const trustFingerprint = publicKeyFingerprint(isEcTrustPoint(a.trustPoint) ? { point: fromHex(a.trustPoint.point) } : { modulus: fromHex(a.trustPoint.modulus), exponent: fromHex(a.trustPoint.exponent) });
  return {
    next: DONE,
    commit: async (tx) => {
    await tx.execute('DELETE FROM asymmetric_sds WHERE card_id = $1 AND aid = $2', [d.cardId, d.aid]);
    await tx.execute(
      'INSERT INTO asymmetric_sds (card_id, aid, variant, sd_kvn, sd_kid, public_key, trust_point, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)',
      [d.cardId, d.aid, a.variant, FIRST_SD_KVN, kid, JSON.stringify(publicKey), JSON.stringify(a.trustPoint), now()],
    );
    // The SSD is its provider's from here: the issuer keeps no key of it (state as for a symmetric hand-over).
    await tx.execute("UPDATE ssds SET keys = NULL, state = 'provider-managed', updated_at = $1 WHERE card_id = $2 AND aid = $3", [now(), d.cardId, d.aid]);
    await deps.audit(tx, {
      actor: deps.actor,
      action: 'key.generated-on-card',
      subject: flow.subject,
      details: { kvn: FIRST_SD_KVN, kid, variant: a.variant, publicKeyFingerprint: fingerprint, reconciled: present.sd },
    });
    await deps.audit(tx, {
      actor: deps.actor,
      action: 'key.imported',
      subject: flow.subject,
      details: { purpose: 'trust-point', kvn: TRUST_POINT.kvn, kid: TRUST_POINT.kid, publicKeyFingerprint: trustFingerprint, reconciled: present.trustPoint },
    });
    await deps.audit(tx, { actor: deps.actor, action: 'key.forgotten', subject: flow.subject, details: { kcvs: d.kcvs, reason: 'asymmetric SSD set up' } });
    },
  };
}

/** The SD information of an asymmetric SSD, for the provider it belongs to. */
export async function asymmetricSdInfo(deps: Pick<FlowDeps, 'db'>, cardId: string, aid: string, providerId: string): Promise<AsymmetricSdInfo> {
  const rows = await deps.db.query<{ provider_id: string; variant: AsymmetricVariant; sd_kvn: number; sd_kid: number; public_key: string }>(
    'SELECT s.provider_id, a.variant, a.sd_kvn, a.sd_kid, a.public_key FROM asymmetric_sds a JOIN ssds s ON s.card_id = a.card_id AND s.aid = a.aid WHERE a.card_id = $1 AND a.aid = $2',
    [cardId, aid],
  );
  const r = rows[0];
  if (!r) throw new FlowError('NOT_FOUND', `no asymmetric SSD ${aid} on card ${cardId}`);
  // Another provider's SSD is not found: its existence is not the caller's business.
  if (r.provider_id !== providerId) throw new FlowError('NOT_FOUND', `no asymmetric SSD ${aid} on card ${cardId}`);
  return {
    cardId,
    aid,
    variant: r.variant,
    sdKey: { kvn: Number(r.sd_kvn), kid: Number(r.sd_kid) },
    publicKey: JSON.parse(r.public_key) as SdPublicKeyHex,
    trustPoint: TRUST_POINT,
  };
}

/**
 * A provider asks for an asymmetric SSD: the flow created (or the open one resumed) and run to its end; the SD
 * information answered. Asked again once done, the same SD information.
 */
export async function requestAsymmetricSsd(
  deps: FlowDeps,
  req: Omit<CreateSsdRequest, 'managedBy' | 'asymmetric'> & { readonly asymmetric: AsymmetricRequest },
  onFlow?: (flowId: string) => void,
): Promise<AsymmetricSdInfo & { flowId?: string }> {
  const known = await asymmetricSdInfo(deps, req.cardId, req.aid, req.providerId).catch(() => undefined);
  if (known !== undefined) return known;
  const flow = await requestSsd(deps, { ...req, managedBy: 'provider' });
  onFlow?.(flow.id);
  await runCreateSsd(deps, flow);
  return { ...(await asymmetricSdInfo(deps, req.cardId, req.aid, req.providerId)), flowId: flow.id };
}
