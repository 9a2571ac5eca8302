/**
 * STORE DATA handled by a Security Domain (GPCS 2.3.1 §11.11; personalisation §7.3.2; key loading §11.11.4).
 *
 * Inside a personalisation session (INSTALL [for personalization]) the data goes to the target: an applet's
 * `storeData`, or — for a Security Domain being personalised by its parent — this file's own processing
 * applied to the target SD, key data decrypted with the session of the SD that received the command.
 * Otherwise the SD processes the data itself. Blocks must be numbered 00, 01, … (6A86 otherwise, which ends
 * the sequence); an SD collects them and applies everything at the last block, so a sequence that fails
 * changes nothing.
 *
 * Accepted by an SD:
 *  - BER-TLV (P1.b5-b4 = 10): '42' IIN / SD Provider Id, '45' CIN / SD Image Number, '66' Card Data /
 *    SD Management Data, '5F50' SD Manager URL, '67' Card Capability Information. Data the card generates
 *    ('C1', 'C2', 'D3', '2F00', 'FF21') and anything else: 6A80. 'BF3E' { '5C' '5A' } (SGP.22 GetEID, case 4)
 *    on the ISD answers 'BF3E' { '5A' EID }.
 *  - Store certificate (Amendment F; the coding Yubico's SCP11 uses): 'A6' { '83' KID ‖ KVN } 'BF21' { '7F21'… },
 *    the chain of SK.SD.ECKA KID/KVN, CERT.SD.ECKA last, whose public key must be the one generated on card
 *    (6A80 otherwise; 6A88 when the SD holds no such key). It replaces a chain stored before.
 *    In an SCP10 SD the same command stores CERT.SD.AUT of SK.SD.AUT (KID '11'): exactly one '7F21'
 *    certificate (src/scp/scp10/certificate.ts format) certifying the generated key's public key — readable in
 *    clear (PKCS#1 scheme) or after ISO 9796-2 recovery with a PK.TP_EX.AUT the SD holds (6A80 otherwise).
 *  - SCP11 CA identifiers (Amendment F §7.9–§7.10): 'A6' { '80' 00 '42' id '83' KID KVN } sets the CA-KLOC
 *    identifier of PK.CA-KLOC.ECDSA (PSO with P1 = 00 then finds it), 'A6' { '80' 01 '42' id '83' } the
 *    CA-KLCC identifier of an SK.SD.ECKA (MUTUAL AUTHENTICATE with P1 = 00); 'A6' { '83' } '70' { '93'… } the
 *    allowlist of OCE certificate serial numbers of a trust anchor (6640 at PSO for others; empty '70' clears).
 *  - DGI (P1.b5-b4 = 01): '0070' (BER-TLV as above); '00B9' key CRTs followed by one '8113' per key, the
 *    secret value encrypted under the session DEK, checked against the KCV of tag '84' (6982 when wrong).
 */
import { concat, equalConstantTime, fromHex, toHex } from '../../core/bytes.ts';
import { encodeTlv, findTag, parseTlvs, type Tlv } from '../../core/tlv.ts';
import type { ResponseApdu } from '../../apdu/response.ts';
import { kcvFor } from '../../gp/index.ts';
import { parseDgis, parseStoreDataCommand, type StoreDataCommand } from '../../gp/index.ts';
import type { CardSecureChannel } from '../../scp/channel.ts';
import { appletContext, appletFor } from '../applets/run.ts';
import type { SdCommandContext } from '../context.ts';
import { SW, SwError, check } from '../errors.ts';
import { findApp } from '../registry.ts';
import type { AppRecord, KeyRecord } from '../state.ts';
import { parseCertificates, type GpCertificate } from '../../scp/scp11/index.ts';
import { readTlvs, type TlvSpan } from '../../scp/scp11/tlv.ts';
import { curveOfRecord, ECC_PRIVATE, ECC_PUBLIC, publicPointOf } from './ec-keys.ts';
import { certifiedKey, certifies, publicNumbersOf, RSA_PRIVATE, RSA_PUBLIC, TRUST_POINT_KID, trustPointKeyOf } from './rsa-keys.ts';

const STORABLE = new Set([0x42, 0x45, 0x66, 0x67, 0x5f50]);

export function storeData(ctx: SdCommandContext): ResponseApdu {
  const cmd = parseStoreDataCommand(ctx.command);
  const perso = ctx.channel.personalization;
  if (perso) return forward(ctx, cmd, perso.target);
  const session = ctx.channel.storeData ?? { nextBlock: 0, blocks: [] };
  if (cmd.blockNumber !== session.nextBlock) {
    ctx.channel.storeData = undefined;
    throw new SwError(SW.INCORRECT_P1P2, `block ${cmd.blockNumber} where ${session.nextBlock} was expected`);
  }
  session.blocks.push(cmd.data);
  session.nextBlock++;
  if (!cmd.last) {
    ctx.channel.storeData = session;
    return { data: new Uint8Array(0), sw: SW.OK };
  }
  ctx.channel.storeData = undefined;
  const data = applyToSd(ctx, ctx.sd, { ...cmd, data: concat(...session.blocks) }, ctx.session!);
  return respond(cmd, data);
}

function respond(cmd: StoreDataCommand, data: Uint8Array | undefined): ResponseApdu {
  if (data && data.length && !cmd.responseExpected) throw new SwError(SW.INCORRECT_P1P2, 'response data for a case 3 STORE DATA');
  return { data: data ?? new Uint8Array(0), sw: SW.OK };
}

/** Personalisation: pass the block to the target application (§7.3.2). */
function forward(ctx: SdCommandContext, cmd: StoreDataCommand, target: string): ResponseApdu {
  const perso = ctx.channel.personalization!;
  if (cmd.blockNumber !== perso.nextBlock) {
    ctx.channel.personalization = undefined;
    throw new SwError(SW.INCORRECT_P1P2, `block ${cmd.blockNumber} where ${perso.nextBlock} was expected`);
  }
  perso.nextBlock++;
  if (cmd.last) ctx.channel.personalization = undefined;
  const app = findApp(ctx.state, target);
  check(app !== undefined, SW.REFERENCED_DATA_NOT_FOUND, 'personalisation target is gone');
  if (app.securityDomain) {
    check(cmd.last && cmd.blockNumber === 0, SW.INCORRECT_P1P2, 'a Security Domain is personalised in one STORE DATA');
    return respond(cmd, applyToSd(ctx, app, cmd, ctx.session!));
  }
  const applet = appletFor(ctx.catalogue, app);
  const out = applet.storeData(appletContext(app, ctx.channelNo, {}, ctx.random), cmd.data, ctx.command.p1, ctx.command.p2);
  return respond(cmd, out);
}

/** Apply a complete STORE DATA sequence to Security Domain `sd`; returns response data, if any. */
function applyToSd(ctx: SdCommandContext, sd: AppRecord, cmd: StoreDataCommand, session: CardSecureChannel): Uint8Array | undefined {
  if (cmd.format === 'dgi') {
    let dgis;
    try {
      dgis = parseDgis(cmd.data);
    } catch {
      throw new SwError(SW.INCORRECT_DATA, 'malformed DGI');
    }
    for (let n = 0; n < dgis.length; n++) {
      const d = dgis[n]!;
      if (d.dgi === 0x0070) storeObjects(sd, parseBer(d.value));
      else if (d.dgi === 0x00b9) {
        const crts = parseBer(d.value);
        const values = dgis.slice(n + 1, n + 1 + crts.length);
        check(values.length === crts.length && values.every((v) => v.dgi === 0x8113), SW.INCORRECT_DATA, "'00B9' must be followed by one '8113' per key");
        loadKeys(sd, crts, values.map((v) => v.value), session);
        n += crts.length;
      } else throw new SwError(SW.INCORRECT_DATA, `DGI ${d.dgi.toString(16).padStart(4, '0')} not supported`);
    }
    return undefined;
  }
  if (cmd.data[0] === 0xa6) {
    storeKeyData(sd, cmd.data);
    return undefined;
  }
  const objects = parseBer(cmd.data);
  if (objects.length === 1 && objects[0]!.tag === 0xbf3e) return getEid(ctx, sd, objects[0]!, cmd);
  storeObjects(sd, objects);
  return undefined;
}

function parseBer(bytes: Uint8Array): Tlv[] {
  try {
    return parseTlvs(bytes);
  } catch {
    throw new SwError(SW.INCORRECT_DATA, 'malformed BER-TLV');
  }
}

function storeObjects(sd: AppRecord, objects: readonly Tlv[]): void {
  for (const t of objects) {
    check(STORABLE.has(t.tag), SW.INCORRECT_DATA, `data object ${t.tag.toString(16)} cannot be stored`);
    sd.securityDomain!.data[t.tag.toString(16).toUpperCase()] = toHex(t.value);
  }
}

/**
 * 'A6' { … } [ 'BF21' | '70' ]: data about one key (Amendment F v1.4 §7.9–§7.10, the coding Yubico's SCP11 uses):
 *  - 'A6' { '83' KID KVN } 'BF21' { certificates }: CERT.SD.ECKA chain of an SK.SD.ECKA (storeCertificate);
 *  - 'A6' { '80' 00/01 '42' identifier '83' KID KVN }: the CA-KLOC identifier of a trust anchor ('80' = 00) or
 *    the CA-KLCC identifier of an SK.SD.ECKA ('80' = 01);
 *  - 'A6' { '83' KID KVN } '70' { '93' serial … }: the allowlist of a trust anchor (empty '70' removes it).
 */
function storeKeyData(sd: AppRecord, data: Uint8Array): void {
  // Certificates hold 'B0' (a public point, not TLV): parsed one level deep only.
  let top: TlvSpan[];
  let inner: TlvSpan[];
  try {
    top = readTlvs(data);
    inner = top[0]!.tag === 0xa6 ? readTlvs(top[0]!.value) : [];
  } catch {
    throw new SwError(SW.INCORRECT_DATA, 'malformed BER-TLV');
  }
  if (top.length === 1) return storeCaIdentifier(sd, inner);
  check(top.length === 2, SW.INCORRECT_DATA, "'A6' and one more object");
  if (top[1]!.tag === 0x70) return storeAllowlist(sd, inner, top[1]!);
  storeCertificate(sd, top, inner);
}

function keyReference(inner: readonly TlvSpan[]): { kid: number; kvn: number } {
  const ref = inner.find((t) => t.tag === 0x83)?.value;
  check(ref !== undefined && ref.length === 2, SW.INCORRECT_DATA, "'83' KID KVN expected");
  return { kid: ref[0]!, kvn: ref[1]! };
}

/** 'A6' { '80' '42' '83' }: CA-KLOC identifier (trust anchor 'B0') or CA-KLCC identifier (SK.SD.ECKA 'B1'). */
function storeCaIdentifier(sd: AppRecord, inner: readonly TlvSpan[]): void {
  const s = sd.securityDomain!;
  check(s.scp === 0x11, SW.INCORRECT_DATA, 'CA identifiers belong to SCP11 keys');
  const tags = inner.map((t) => t.tag);
  check(inner.length === 3 && tags.includes(0x80) && tags.includes(0x42) && tags.includes(0x83), SW.INCORRECT_DATA, "'A6' { '80' '42' '83' }");
  const kind = inner.find((t) => t.tag === 0x80)!.value;
  const id = inner.find((t) => t.tag === 0x42)!.value;
  check(kind.length === 1 && (kind[0] === 0x00 || kind[0] === 0x01), SW.INCORRECT_DATA, "'80' must be 00 (KLOC) or 01 (KLCC)");
  check(id.length >= 1 && id.length <= 32, SW.INCORRECT_DATA, 'CA identifier of 1 to 32 bytes');
  const { kid, kvn } = keyReference(inner);
  const wanted = kind[0] === 0x00 ? ECC_PUBLIC : ECC_PRIVATE;
  const key = s.keys.find((k) => k.kid === kid && k.kvn === kvn && k.type === wanted);
  check(key !== undefined, SW.REFERENCED_DATA_NOT_FOUND, `no ${kind[0] === 0 ? 'PK.CA-KLOC.ECDSA' : 'SK.SD.ECKA'} ${kvn}/${kid}`);
  key.caId = toHex(id);
}

/** 'A6' { '83' } '70' { '93'… }: serial numbers of OCE certificates the trust anchor accepts (§7.5.1). */
function storeAllowlist(sd: AppRecord, inner: readonly TlvSpan[], list: TlvSpan): void {
  const s = sd.securityDomain!;
  check(s.scp === 0x11, SW.INCORRECT_DATA, 'allowlists belong to SCP11 trust anchors');
  check(inner.length === 1, SW.INCORRECT_DATA, "'A6' { '83' KID KVN } '70'");
  const { kid, kvn } = keyReference(inner);
  let serials: TlvSpan[];
  try {
    serials = readTlvs(list.value);
  } catch {
    throw new SwError(SW.INCORRECT_DATA, "malformed '70'");
  }
  check(serials.every((t) => t.tag === 0x93 && t.value.length >= 1 && t.value.length <= 20), SW.INCORRECT_DATA, "'70' holds '93' serial numbers of 1 to 20 bytes");
  check(serials.length <= 64, SW.INCORRECT_DATA, 'at most 64 serial numbers');
  const key = s.keys.find((k) => k.kid === kid && k.kvn === kvn && k.type === ECC_PUBLIC);
  check(key !== undefined, SW.REFERENCED_DATA_NOT_FOUND, `no PK.CA-KLOC.ECDSA ${kvn}/${kid}`);
  if (serials.length === 0) delete key.allowlist;
  else key.allowlist = serials.map((t) => toHex(t.value));
}

/** 'A6' { '83' KID KVN } 'BF21' { certificates }: CERT.SD.ECKA chain of an SK.SD.ECKA. */
function storeCertificate(sd: AppRecord, top: readonly TlvSpan[], inner: readonly TlvSpan[]): void {
  const s = sd.securityDomain!;
  const bf21 = top[1];
  const ref = inner.length === 1 && inner[0]!.tag === 0x83 ? inner[0]!.value : undefined;
  check(bf21 !== undefined && bf21.tag === 0xbf21 && ref !== undefined && ref.length === 2, SW.INCORRECT_DATA, "store certificate: 'A6' { '83' KID KVN } 'BF21'");
  const key = s.keys.find((k) => k.kid === ref[0]! && k.kvn === ref[1]! && k.type === (s.scp === 0x10 ? RSA_PRIVATE : ECC_PRIVATE));
  check(key !== undefined, SW.REFERENCED_DATA_NOT_FOUND, `no SK.SD.ECKA / SK.SD.AUT ${ref[1]}/${ref[0]}`);
  check(bf21.value.length <= 4096, SW.INCORRECT_DATA, 'certificate chain too long');
  if (key.type === RSA_PRIVATE) {
    const trustPoints = s.keys.filter((k) => k.type === RSA_PUBLIC && k.kid === TRUST_POINT_KID).map(trustPointKeyOf);
    const certified = certifiedKey(bf21.value, trustPoints);
    check(certified !== undefined, SW.INCORRECT_DATA, "'BF21' must hold one readable SCP10 '7F21' certificate");
    check(certifies(certified, publicNumbersOf(key)), SW.INCORRECT_DATA, 'the certificate is not for this key');
    key.certificate = toHex(bf21.value);
    return;
  }
  let chain: GpCertificate[];
  try {
    chain = parseCertificates(bf21.value);
  } catch {
    throw new SwError(SW.INCORRECT_DATA, 'malformed certificate');
  }
  const last = chain[chain.length - 1];
  check(last !== undefined && last.publicKey.curve === curveOfRecord(key) && equalConstantTime(last.publicKey.point, publicPointOf(key)), SW.INCORRECT_DATA, 'the certificate is not for this key');
  key.certificate = toHex(bf21.value);
}

/** SGP.22 ES10c.GetEID (BER-TLV, case 4) on the ISD. */
function getEid(ctx: SdCommandContext, sd: AppRecord, t: Tlv, cmd: StoreDataCommand): Uint8Array {
  const list = findTag(t.children, 0x5c);
  check(sd.aid === ctx.state.isd && ctx.state.eid !== '' && list !== undefined && toHex(list.value) === '5A', SW.INCORRECT_DATA, 'GetEID');
  check(cmd.responseExpected, SW.INCORRECT_P1P2);
  return encodeTlv(0xbf3e, encodeTlv(0x5a, fromHex(ctx.state.eid)));
}

function one(t: readonly Tlv[] | undefined, tag: number, what: string): number {
  const x = findTag(t, tag);
  check(x !== undefined && x.value.length >= 1 && x.value.length <= 2, SW.INCORRECT_DATA, `${what} missing`);
  return x.value.length === 1 ? x.value[0]! : (x.value[0]! << 8) | x.value[1]!;
}

/** DGI '00B9' + '8113' symmetric key loading (§11.11.4.1); all keys or none. */
function loadKeys(sd: AppRecord, crts: readonly Tlv[], encrypted: readonly Uint8Array[], session: CardSecureChannel): void {
  const s = sd.securityDomain!;
  const loaded: KeyRecord[] = crts.map((crt, n) => {
    check(crt.tag === 0xb9, SW.INCORRECT_DATA, "key CRT 'B9' expected");
    const c = crt.children;
    const type = one(c, 0x80, 'key type');
    const length = one(c, 0x81, 'key length');
    const kid = one(c, 0x82, 'key identifier');
    const kvn = one(c, 0x83, 'key version');
    const usage = one(c, 0x95, 'key usage') >> (findTag(c, 0x95)!.value.length === 2 ? 8 : 0); // first byte kept
    const kcv = findTag(c, 0x84)?.value;
    check(type === 0x80 || type === 0x88, SW.INCORRECT_DATA, 'only DES and AES keys');
    check((type === 0x80 ? [16, 24] : [16, 24, 32]).includes(length), SW.INCORRECT_DATA, 'key length');
    check(kvn >= 1 && kvn <= 0x7f && kid <= 0x7f, SW.INCORRECT_DATA, 'key version / identifier');
    check(kcv !== undefined && kcv.length === 3, SW.INCORRECT_DATA, 'key check value missing');
    const enc = encrypted[n]!;
    const block = session.scp === 3 ? 16 : 8;
    check(enc.length >= length && enc.length % block === 0, SW.INCORRECT_DATA, 'encrypted key length');
    const plain = session.decryptSensitiveData(enc);
    const value = plain.slice(0, length);
    plain.fill(0);
    check(equalConstantTime(kcvFor(type, value), kcv), SW.SECURITY_STATUS_NOT_SATISFIED, 'key check value');
    const access = findTag(c, 0x96);
    return { kvn, kid, type, value: toHex(value), usage, ...(access && access.value.length === 1 ? { access: access.value[0]! } : {}) };
  });
  for (const k of loaded) {
    s.keys = s.keys.filter((x) => !(x.kvn === k.kvn && x.kid === k.kid));
    s.keys.push(k);
    if (s.sequenceCounters[String(k.kvn)] === undefined) s.sequenceCounters[String(k.kvn)] = 0;
  }
}
