/**
 * SCP11 of a Security Domain (GP Amendment F v1.4 §4.1, §7.5–§7.7), using the card side of `src/scp/scp11`:
 * PERFORM SECURITY OPERATION ('2A'), MUTUAL AUTHENTICATE ('82', SCP11a/c) and INTERNAL AUTHENTICATE ('88',
 * SCP11b) go to an `Scp11Card` built from the SD's keys — SK.SD.ECKA (type 'B1', KID '11'/'13'/'15', with its
 * CERT.SD.ECKA) and PK.CA-KLOC.ECDSA (type 'B0', KID '10'/'20'–'2F'). The session that results protects later
 * commands like an SCP03 session. An SCP11b session does not authenticate the off-card entity: the channel is
 * marked `anonymous` and management commands are refused in it (dispatch.ts).
 *
 * Simulator choice: the SD's initial symmetric key set (KVN 'FF', SCP03) is deleted by the first SCP11a or
 * SCP11c session — from then on only holders of an OCE certificate from the provider's CA open the SD.
 */
import { fromHex } from '../../core/bytes.ts';
import { parseCertificates, Scp11Card, type Scp11CardConfig, type Scp11SdKey, type Scp11TrustAnchor } from '../../scp/scp11/index.ts';
import type { SdCommandContext } from '../context.ts';
import { INITIAL_KVN } from '../profile.ts';
import type { Outcome } from '../outcome.ts';
import type { SdRecord } from '../state.ts';
import { curveOfRecord, ECC_PRIVATE, ECC_PUBLIC, isTrustAnchorKid, SD_ECKA_KIDS } from './ec-keys.ts';

/** The `Scp11Card` configuration of an SD (values copied out of the state). */
export function scp11Config(sd: SdRecord, random: Scp11CardConfig['random']): Scp11CardConfig {
  const sdKeys: Scp11SdKey[] = [];
  const trustAnchors: Scp11TrustAnchor[] = [];
  for (const k of sd.keys) {
    const curve = curveOfRecord(k);
    if (curve === undefined) continue;
    if (k.type === ECC_PRIVATE && SD_ECKA_KIDS.includes(k.kid)) {
      let certificate;
      if (k.certificate !== undefined) {
        const chain = parseCertificates(fromHex(k.certificate));
        certificate = chain[chain.length - 1];
      }
      sdKeys.push({
        kvn: k.kvn,
        kid: k.kid,
        curve,
        privateKey: fromHex(k.value),
        ...(certificate ? { certificate } : {}),
        ...(k.caId !== undefined ? { caKlccId: fromHex(k.caId) } : {}),
      });
    } else if (k.type === ECC_PUBLIC && isTrustAnchorKid(k.kid)) {
      trustAnchors.push({
        kvn: k.kvn,
        kid: k.kid,
        publicKey: { curve, point: fromHex(k.value) },
        ...(k.caId !== undefined ? { caId: fromHex(k.caId) } : {}),
        ...(k.allowlist !== undefined ? { allowlist: k.allowlist.map(fromHex) } : {}),
      });
    }
  }
  return { i: sd.i, sdKeys, trustAnchors, ...(random ? { random } : {}) };
}

function fingerprint(sd: SdRecord): string {
  const ecc = sd.keys.filter((k) => curveOfRecord(k) !== undefined).map((k) => [k.kvn, k.kid, k.type, k.value, k.certificate ?? '', k.caId ?? '', k.allowlist ?? []]);
  return JSON.stringify([sd.i, ecc]);
}

type Entry = { readonly fingerprint: string; readonly card: Scp11Card };

/** One `Scp11Card` per card (keyed by its channel manager) and SD, so the replay window outlives selections. */
const CARDS = new WeakMap<object, Map<string, Entry>>();

/**
 * The `Scp11Card` of the selected SD, rebuilt when the SD's ECC keys changed; its PSO / PK.OCE.ECKA state is
 * reset when it is first used on a new selection (§4.1: a temporary PK.OCE.ECKA lives until the next session).
 */
function cardOf(ctx: SdCommandContext): Scp11Card {
  const sd = ctx.sd.securityDomain!;
  let perCard = CARDS.get(ctx.channels);
  if (perCard === undefined) CARDS.set(ctx.channels, (perCard = new Map()));
  const fp = fingerprint(sd);
  let entry = perCard.get(ctx.sd.aid);
  if (entry === undefined || entry.fingerprint !== fp) {
    entry = { fingerprint: fp, card: new Scp11Card(scp11Config(sd, ctx.random)) };
    perCard.set(ctx.sd.aid, entry);
  }
  if (ctx.channel.scp11 !== entry) {
    entry.card.reset();
    ctx.channel.scp11 = entry;
  }
  return entry.card;
}

/** PERFORM SECURITY OPERATION (INS '2A'): an OCE certificate (block) for the SD to verify. */
export function performSecurityOperation(ctx: SdCommandContext, raw: Uint8Array): Outcome {
  return { response: cardOf(ctx).performSecurityOperation(raw), commit: false };
}

/** MUTUAL AUTHENTICATE (INS '82' without a pending INITIALIZE UPDATE) or INTERNAL AUTHENTICATE ('88'). */
export function authenticate(ctx: SdCommandContext, raw: Uint8Array): Outcome {
  const card = cardOf(ctx);
  ctx.channel.session?.abort();
  ctx.channel.session = undefined;
  ctx.channel.anonymous = false;
  const result = card.authenticate(raw);
  if (result.channel === undefined) return { response: result.response, commit: false };
  ctx.channel.session = result.channel;
  ctx.channel.anonymous = result.variant === '11b';
  const sd = ctx.sd.securityDomain!;
  if (result.variant !== '11b' && sd.keys.some((k) => k.kvn === INITIAL_KVN)) {
    sd.keys = sd.keys.filter((k) => k.kvn !== INITIAL_KVN);
    delete sd.sequenceCounters[String(INITIAL_KVN)];
    return { response: result.response, commit: true };
  }
  return { response: result.response, commit: false };
}

/** Hex of the certificate chain stored for SK.SD.ECKA (kvn, kid), or undefined. */
export function certificateChainOf(sd: SdRecord, kvn: number, kid: number): string | undefined {
  return sd.keys.find((k) => k.kvn === kvn && k.kid === kid && k.type === ECC_PRIVATE)?.certificate;
}

