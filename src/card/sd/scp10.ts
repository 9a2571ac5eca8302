/**
 * SCP10 of a Security Domain (GPCS 2.2.1 Appendix F), using the card side of `src/scp/scp10`:
 * MANAGE SECURITY ENVIRONMENT ('22'), PERFORM SECURITY OPERATION ('2A' verify certificate / decipher),
 * GET CHALLENGE ('84'), EXTERNAL AUTHENTICATE ('82' with no INITIALIZE UPDATE pending) and INTERNAL
 * AUTHENTICATE ('88') go to an `Scp10CardHandshake` built from the SD's keys — PK.TP_EX.AUT (type 'A1', KID
 * '10', highest KVN) and SK.SD.AUT (type 'A2', KID '11'; a certified one first, else the oldest — see rsa-keys.ts) with its
 * CERT.SD.AUT — and the SD's option "i" (01 or 02, from its install parameters). The session that results
 * protects later commands with ISO/IEC 7816-4 secure messaging (F.3.2) through the channel's session.
 * GET DATA '7F21' (CERT.SD.AUT, F.4.3) is answered by get-data.ts, so it works inside a session as well.
 *
 * The card id (sdId, used by option 01) is the subject id of the stored CERT.SD.AUT, or — before one is
 * stored — the rightmost 8 bytes of the card's key diversification data. The trust point's id is not known
 * to the card (PUT KEY carries the key only): any OCE chain whose first certificate verifies under
 * PK.TP_EX.AUT is accepted (MSE '83' may name the id to insist on).
 *
 * Simulator choice (as for SCP11): the SD's initial SCP03 key set (KVN 'FF') is deleted by the first
 * established SCP10 session.
 */
import { fromHex } from '../../core/bytes.ts';
import { parseTlv } from '../../core/tlv.ts';
import { Scp10CardHandshake, type Scp10CardConfig } from '../../scp/scp10/index.ts';
import type { SdCommandContext } from '../context.ts';
import { swBytes, swFor, type Outcome } from '../outcome.ts';
import { INITIAL_KVN } from '../profile.ts';
import { SW } from '../errors.ts';
import type { SdRecord } from '../state.ts';
import { activeSdKey, activeTrustPoint, certifiedKey, isRsaRecord, privateKeyOf, trustPointKeyOf } from './rsa-keys.ts';

/** Instructions of the SCP10 initiation (Appendix F.4): MSE, PSO, GET CHALLENGE, EXTERNAL / INTERNAL AUTHENTICATE. */
export const SCP10_INS: ReadonlySet<number> = new Set([0x22, 0x2a, 0x84, 0x82, 0x88]);

/** CERT.SD.AUT of the SD ('7F21' TLV), or undefined. */
export function sdCertificateOf(sd: SdRecord): Uint8Array | undefined {
  const c = activeSdKey(sd)?.certificate;
  return c === undefined ? undefined : fromHex(c);
}

/** The SD's card id (Tables F-5, F-9): subject id of CERT.SD.AUT, else the rightmost 8 bytes of the KDD. */
export function sdIdOf(sd: SdRecord, kdd: string): Uint8Array {
  const cert = sdCertificateOf(sd);
  const tp = activeTrustPoint(sd);
  const subject = cert === undefined ? undefined : certifiedKey(cert, tp ? [trustPointKeyOf(tp)] : [])?.subjectId;
  return subject ?? fromHex(kdd).slice(-8);
}

/** The `Scp10CardHandshake` configuration of an SD; undefined while it lacks PK.TP_EX.AUT or SK.SD.AUT. */
export function scp10Config(sd: SdRecord, kdd: string, random: Scp10CardConfig['random']): Scp10CardConfig | undefined {
  const tp = activeTrustPoint(sd);
  const key = activeSdKey(sd);
  if (tp === undefined || key === undefined) return undefined;
  const certificate = sdCertificateOf(sd);
  return {
    options: [sd.i],
    trustPoint: { publicKey: trustPointKeyOf(tp) },
    sdPrivateKey: privateKeyOf(key),
    ...(certificate !== undefined ? { sdCertificate: certificate } : {}),
    sdId: sdIdOf(sd, kdd),
    random,
  };
}

function fingerprint(sd: SdRecord, kdd: string): string {
  const rsa = sd.keys.filter(isRsaRecord).map((k) => [k.kvn, k.kid, k.type, k.value, k.exponent ?? '', k.certificate ?? '']);
  return JSON.stringify([sd.i, kdd, rsa]);
}

type Entry = { readonly fingerprint: string; readonly card: Scp10CardHandshake };

/** One handshake per card (keyed by its channel manager) and SD. */
const CARDS = new WeakMap<object, Map<string, Entry>>();

/**
 * The handshake of the selected SD, rebuilt when its RSA keys changed and reset when first used on a new
 * selection; undefined while the SD lacks its keys.
 */
function handshakeOf(ctx: SdCommandContext): Scp10CardHandshake | undefined {
  const sd = ctx.sd.securityDomain!;
  let perCard = CARDS.get(ctx.channels);
  if (perCard === undefined) CARDS.set(ctx.channels, (perCard = new Map()));
  const fp = fingerprint(sd, ctx.state.kdd);
  let entry = perCard.get(ctx.sd.aid);
  if (entry === undefined || entry.fingerprint !== fp) {
    const cfg = scp10Config(sd, ctx.state.kdd, ctx.random);
    if (cfg === undefined) {
      perCard.delete(ctx.sd.aid);
      return undefined;
    }
    entry = { fingerprint: fp, card: new Scp10CardHandshake(cfg) };
    perCard.set(ctx.sd.aid, entry);
  }
  if (ctx.channel.scp10 !== entry) {
    entry.card.reset();
    ctx.channel.scp10 = entry;
  }
  return entry.card;
}

/**
 * One command of the SCP10 initiation (plain, ISO class). MSE ends the channel's open session (F.4.5.1); a
 * command that establishes a session makes it the channel's session and, the first time, deletes KVN 'FF'.
 * 6A88 while the SD holds no PK.TP_EX.AUT or no SK.SD.AUT.
 */
export function scp10Command(ctx: SdCommandContext, raw: Uint8Array): Outcome {
  if (ctx.command.ins === 0x22) {
    ctx.channel.session?.abort();
    ctx.channel.session = undefined;
    ctx.channel.anonymous = false;
  }
  let result;
  try {
    const card = handshakeOf(ctx);
    if (card === undefined) return { response: swBytes(SW.REFERENCED_DATA_NOT_FOUND), commit: false };
    result = card.process(raw);
  } catch (e) {
    return { response: swBytes(swFor(e) === SW.UNKNOWN ? SW.INCORRECT_DATA : swFor(e)), commit: false };
  }
  if (result.channel === undefined) return { response: result.response, commit: false };
  if (ctx.channel.session !== result.channel) ctx.channel.session?.abort();
  ctx.channel.session = result.channel;
  ctx.channel.anonymous = false;
  const sd = ctx.sd.securityDomain!;
  if (sd.keys.some((k) => k.kvn === INITIAL_KVN)) {
    sd.keys = sd.keys.filter((k) => k.kvn !== INITIAL_KVN);
    delete sd.sequenceCounters[String(INITIAL_KVN)];
    return { response: result.response, commit: true };
  }
  return { response: result.response, commit: false };
}

/** Is `value` (the content of 'BF21') exactly one '7F21' certificate? */
export function isSingleCertificate(value: Uint8Array): boolean {
  try {
    return parseTlv(value).tag === 0x7f21;
  } catch {
    return false;
  }
}
