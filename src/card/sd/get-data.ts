/**
 * GET DATA handled by a Security Domain (GPCS 2.3.1 §11.3): IIN '42', CIN '45', Card Data '66',
 * Key Information Template 'E0', CPLC '9F7F' (ISD), sequence counter 'C1' (SCP02, SCP03 pseudo-random),
 * current security level 'D3', list of applications '2F00' (with tag list '5C 00'), SD Manager URL '5F50',
 * Card Capability Information '67' (once stored),
 * and — for UICC / eSE use — ICCID '5A' and EID 'BF3E' { '5A' } (ISD). An SCP10 SD answers GET DATA '7F21'
 * (GPCS 2.2.1 F.4.3) with its CERT.SD.AUT — 6A88 until one is stored; the host then uses PK.SD.AUT as received
 * from GENERATE KEY PAIR.
 *
 * With a GlobalPlatform class the response is the whole TLV; with an ISO class only its value (§11.3.3.1).
 * Unknown or absent objects: 6A88.
 */
import { concat, fromHex } from '../../core/bytes.ts';
import { encodeTlv, encodeConstructed, parseTlvs } from '../../core/tlv.ts';
import type { ResponseApdu } from '../../apdu/response.ts';
import type { SdCommandContext } from '../context.ts';
import { SW, SwError } from '../errors.ts';
import { canSee } from '../registry.ts';
import { cardData } from './fci.ts';
import { keyInformationTemplate } from './keys.ts';
import { certificateChainOf } from './scp11.ts';
import { RSA_PRIVATE } from './rsa-keys.ts';
import { sdCertificateOf } from './scp10.ts';
import { defaultSequenceCounter, symmetricI } from './secure-channel.ts';

function counterBytes(scp: 2 | 3, n: number): Uint8Array {
  return scp === 2 ? Uint8Array.of((n >> 8) & 0xff, n & 0xff) : Uint8Array.of((n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff);
}

/** The full TLV object for `tag`, or undefined. */
function dataObject(ctx: SdCommandContext, tag: number): Uint8Array | undefined {
  const sd = ctx.sd.securityDomain!;
  const isIsd = ctx.sd.aid === ctx.state.isd;
  const stored = (t: string) => (sd.data[t] !== undefined ? fromHex(sd.data[t]!) : undefined);
  switch (tag) {
    case 0x42:
    case 0x45:
    case 0x67: // Card Capability Information, when stored (§11.3.2.1, §11.11.2.3)
    case 0x5f50: {
      const v = stored(tag.toString(16).toUpperCase());
      return v ? encodeTlv(tag, v) : undefined;
    }
    case 0x66:
      return cardData(ctx.sd);
    case 0xe0:
      return keyInformationTemplate(sd);
    case 0x9f7f:
      return isIsd ? encodeTlv(0x9f7f, fromHex(ctx.state.cplc)) : undefined;
    case 0xc1: {
      const scp = sd.scp === 2 ? 2 : 3;
      const i = symmetricI(sd);
      if (scp === 3 && (i & 0x10) === 0) return undefined;
      const n = defaultSequenceCounter(sd);
      return n === undefined ? undefined : encodeTlv(0xc1, counterBytes(scp, n));
    }
    case 0xd3:
      return encodeTlv(0xd3, Uint8Array.of(ctx.session ? ctx.session.level | 0x80 : 0));
    case 0x7f21: // CERT.SD.AUT of an SCP10 SD (GPCS 2.2.1 F.4.3)
      return sd.scp === 0x10 ? sdCertificateOf(sd) : undefined;
    case 0x5a:
      return isIsd && ctx.state.iccid !== '' ? encodeTlv(0x5a, fromHex(ctx.state.iccid)) : undefined;
    case 0xbf3e:
      return isIsd && ctx.state.eid !== '' ? encodeConstructed(0xbf3e, encodeTlv(0x5a, fromHex(ctx.state.eid))) : undefined;
    default:
      return undefined;
  }
}

/** '2F00': Application Templates '61' { '4F' } for the apps this SD may see (§11.3.3.1.3). */
function applicationList(ctx: SdCommandContext): Uint8Array {
  let ok = false;
  try {
    const t = parseTlvs(ctx.command.data);
    ok = t.length === 1 && t[0]!.tag === 0x5c && t[0]!.value.length === 0;
  } catch {
    ok = false;
  }
  if (!ok) throw new SwError(SW.INCORRECT_DATA, "GET DATA '2F00' needs the tag list '5C 00'");
  // Associated applications, or every one with Global Registry (§11.3.2.1) — an SSD with it lists itself too.
  const apps = ctx.state.apps.filter((a) => a.aid !== ctx.state.isd && canSee(ctx.state, ctx.sd, a.aid));
  return concat(...apps.map((a) => encodeTlv(0x61, encodeTlv(0x4f, fromHex(a.aid)))));
}

/**
 * 'BF21' with data 'A6' { '83' KID ‖ KVN }: the certificate chain stored for SK.SD.ECKA (Amendment F,
 * as Yubico's SCP11 implementation reads it), or CERT.SD.AUT of an SK.SD.AUT. Public data: no secure channel needed.
 */
function certificateStore(ctx: SdCommandContext): Uint8Array {
  let ref: Uint8Array | undefined;
  try {
    const t = parseTlvs(ctx.command.data);
    const r = t.length === 1 && t[0]!.tag === 0xa6 ? t[0]!.children?.find((x) => x.tag === 0x83) : undefined;
    ref = r?.value;
  } catch {
    ref = undefined;
  }
  if (ref === undefined || ref.length !== 2) throw new SwError(SW.INCORRECT_DATA, "GET DATA 'BF21' needs 'A6' { '83' KID KVN }");
  const sd = ctx.sd.securityDomain!;
  const chain = certificateChainOf(sd, ref[1]!, ref[0]!) ?? sd.keys.find((k) => k.kvn === ref[1]! && k.kid === ref[0]! && k.type === RSA_PRIVATE)?.certificate;
  if (chain === undefined) throw new SwError(SW.REFERENCED_DATA_NOT_FOUND);
  const value = fromHex(chain);
  return ctx.cla.proprietary ? encodeTlv(0xbf21, value) : value;
}

export function getData(ctx: SdCommandContext): ResponseApdu {
  const c = ctx.command;
  const tag = c.p1 === 0 ? c.p2 : (c.p1 << 8) | c.p2;
  if (c.ins !== 0xca) throw new SwError(SW.INS_NOT_SUPPORTED);
  if (tag === 0x2f00) return { data: applicationList(ctx), sw: SW.OK };
  if (tag === 0xbf21) return { data: certificateStore(ctx), sw: SW.OK };
  const object = dataObject(ctx, tag);
  if (object === undefined) throw new SwError(SW.REFERENCED_DATA_NOT_FOUND);
  if (ctx.cla.proprietary) return { data: object, sw: SW.OK };
  return { data: parseTlvs(object)[0]!.value, sw: SW.OK };
}
