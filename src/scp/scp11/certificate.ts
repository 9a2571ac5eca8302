/**
 * GP certificates of SCP11 (Amendment F v1.4 §6.1, Tables 6-1 to 6-3; same format as CERT.CASD.ECKA of
 * Amendment A): tag '7F21' holding, in this order,
 *   '93' serial number (1–16) · '42' CA identifier (1–16) · '5F20' subject identifier · '95' key usage (1–2:
 *   '82' signature verification, '00 80' key agreement) · ['5F25' effective date] · '5F24' expiration date
 *   (YYYYMMDD BCD) · ['53' | '73' discretionary data (1–127)] · ['BF20' authorizations] ·
 *   '7F49' public key {'B0' Q (uncompressed point), 'F0' key parameter reference} · '5F37' signature.
 * The signed data (Table 6-2) is every TLV before '5F37', exactly as encoded. The signature is ECDSA with
 * the issuer's curve hash, in the plain r ‖ s format (TR-03111), as in Amendment A.
 * Parsing is strict: wrong order, unknown or repeated tags, bad lengths, trailing bytes → `CodecError`.
 */
import { concat, equalBytes } from '../../core/bytes.ts';
import { CodecError, OpentsmError } from '../../core/errors.ts';
import { encodeTlv } from '../../core/tlv.ts';
import { curveByReference, curveInfo, ecdsaSign, ecdsaVerify, isValidPublicKey, type CurveName, type EcPublicKey } from '../../crypto/index.ts';
import { readTlv, readTlvs, type TlvSpan } from './tlv.ts';
import { parseX509At, TAG_SEQUENCE, x509SignatureToPlain, type X509Certificate } from './x509.ts';

export const TAG_CERTIFICATE = 0x7f21;
/** Key usage '82': digital signature verification (CERT.KA-KLOC.ECDSA, CERT.KA-KLCC.ECDSA). */
export const KEY_USAGE_SIGNATURE: Uint8Array = Uint8Array.of(0x82);
/** Key usage '00 80': key agreement (CERT.OCE.ECKA, CERT.SD.ECKA). */
export const KEY_USAGE_KEY_AGREEMENT: Uint8Array = Uint8Array.of(0x00, 0x80);

export type CertificateErrorCode =
  /** The signature does not verify under the issuer's key (card: SW 6600). */
  | 'BAD_SIGNATURE'
  /** Past the expiration date '5F24'. */
  | 'EXPIRED'
  /** Before the effective date '5F25'. */
  | 'NOT_YET_VALID'
  /** Key usage not the one the position in the chain requires (card: SW 6600). */
  | 'BAD_KEY_USAGE'
  /** The certificate's key is on another curve than the chain's. */
  | 'CURVE_MISMATCH'
  /** X.509: the issuer Name is not the subject Name of the issuing certificate (§6.2.1.2; card: SW 6600). */
  | 'ISSUER_MISMATCH'
  /** Serial number not in the allowlist (card: SW 6640). */
  | 'NOT_IN_ALLOWLIST';

export class CertificateError extends OpentsmError {
  declare readonly code: CertificateErrorCode;
  /** Position of the offending certificate in its chain (0 = first). */
  readonly index: number;
  constructor(code: CertificateErrorCode, message: string, index: number) {
    super(code, `${message} (certificate ${index})`);
    this.index = index;
  }
}

export interface GpCertificateFields {
  readonly serialNumber: Uint8Array;
  readonly caId: Uint8Array;
  readonly subjectId: Uint8Array;
  readonly keyUsage: Uint8Array;
  /** YYYYMMDD as 4 BCD bytes. */
  readonly effectiveDate?: Uint8Array;
  readonly expirationDate: Uint8Array;
  readonly discretionary?: { readonly tag: 0x53 | 0x73; readonly value: Uint8Array };
  /** Value of 'BF20' (authorizations under SCP11a/c, Annex B), kept as bytes. */
  readonly authorizations?: Uint8Array;
  readonly publicKey: EcPublicKey;
}

export interface GpCertificate extends GpCertificateFields {
  readonly signature: Uint8Array;
  /** The bytes the signature covers (Table 6-2). */
  readonly signedData: Uint8Array;
  /** The whole '7F21' TLV. */
  readonly encoded: Uint8Array;
}

/** 'YYYYMMDD' → 4 BCD bytes. */
export function bcdDate(date: string): Uint8Array {
  if (!/^\d{8}$/.test(date)) throw new RangeError(`date must be YYYYMMDD, got ${date}`);
  return Uint8Array.from({ length: 4 }, (_, i) => (Number(date[2 * i]) << 4) | Number(date[2 * i + 1]));
}

/** 4 BCD bytes → 'YYYYMMDD'. */
export function dateOf(bcd: Uint8Array): string {
  return Array.from(bcd, (b) => b.toString(16).padStart(2, '0')).join('');
}

/** 'YYYYMMDD' of a JavaScript date (UTC). */
export function today(now: Date): string {
  return now.toISOString().slice(0, 10).replaceAll('-', '');
}

function isBcdDate(b: Uint8Array): boolean {
  const s = dateOf(b);
  if (!/^\d{8}$/.test(s)) return false;
  const m = Number(s.slice(4, 6));
  const d = Number(s.slice(6, 8));
  return m >= 1 && m <= 12 && d >= 1 && d <= 31;
}

function publicKeyTlv(k: EcPublicKey): Uint8Array {
  return encodeTlv(0x7f49, concat(encodeTlv(0xb0, k.point), encodeTlv(0xf0, Uint8Array.of(curveInfo(k.curve).keyParameterReference))));
}

/** The signed data of Table 6-2 for these fields (checked like a parsed certificate). */
export function encodeSignedData(f: GpCertificateFields): Uint8Array {
  const len = (v: Uint8Array, min: number, max: number, name: string) => {
    if (v.length < min || v.length > max) throw new RangeError(`${name}: ${v.length} bytes, expected ${min}..${max}`);
    return v;
  };
  if (f.effectiveDate !== undefined && !isBcdDate(f.effectiveDate)) throw new RangeError('effectiveDate is not a BCD date');
  if (!isBcdDate(f.expirationDate)) throw new RangeError('expirationDate is not a BCD date');
  if (!isValidPublicKey(f.publicKey.curve, f.publicKey.point)) throw new RangeError('publicKey is not a point of its curve');
  return concat(
    encodeTlv(0x93, len(f.serialNumber, 1, 16, 'serialNumber')),
    encodeTlv(0x42, len(f.caId, 1, 16, 'caId')),
    encodeTlv(0x5f20, len(f.subjectId, 1, 127, 'subjectId')),
    encodeTlv(0x95, len(f.keyUsage, 1, 2, 'keyUsage')),
    f.effectiveDate === undefined ? new Uint8Array(0) : encodeTlv(0x5f25, f.effectiveDate),
    encodeTlv(0x5f24, f.expirationDate),
    f.discretionary === undefined ? new Uint8Array(0) : encodeTlv(f.discretionary.tag, len(f.discretionary.value, 1, 127, 'discretionary')),
    f.authorizations === undefined ? new Uint8Array(0) : encodeTlv(0xbf20, f.authorizations),
    publicKeyTlv(f.publicKey),
  );
}

/** Build and sign a certificate with the issuer's private key (CA-KLOC / KA-KLOC / CA-KLCC …). */
export function signCertificate(fields: GpCertificateFields, issuer: { readonly curve: CurveName; readonly privateKey: Uint8Array }): GpCertificate {
  const signedData = encodeSignedData(fields);
  const signature = ecdsaSign(issuer.curve, issuer.privateKey, signedData);
  const encoded = encodeTlv(TAG_CERTIFICATE, concat(signedData, encodeTlv(0x5f37, signature)));
  return Object.freeze({ ...fields, signature, signedData, encoded });
}

interface Rule {
  readonly tag: number;
  readonly optional: boolean;
  readonly min: number;
  readonly max: number;
}

const ORDER: readonly Rule[] = [
  { tag: 0x93, optional: false, min: 1, max: 16 },
  { tag: 0x42, optional: false, min: 1, max: 16 },
  { tag: 0x5f20, optional: false, min: 1, max: 127 },
  { tag: 0x95, optional: false, min: 1, max: 2 },
  { tag: 0x5f25, optional: true, min: 4, max: 4 },
  { tag: 0x5f24, optional: false, min: 4, max: 4 },
  { tag: 0x53, optional: true, min: 1, max: 127 },
  { tag: 0xbf20, optional: true, min: 0, max: 0xffff },
  { tag: 0x7f49, optional: false, min: 1, max: 0xffff },
  { tag: 0x5f37, optional: false, min: 1, max: 0xffff },
];

/** Parse one certificate, GP '7F21' or X.509 '30' (`x509.ts`), that must fill `bytes` exactly. */
export function parseCertificate(bytes: Uint8Array): GpCertificate {
  const outer = readTlv(bytes, 0);
  if (outer.end !== bytes.length) throw new CodecError('TRAILING_DATA', 'bytes after the certificate', outer.end);
  return parseEither(bytes, outer);
}

/** Parse a sequence of certificates, each '7F21' or X.509 (an SCP11 certificate store value or a PSO payload). */
export function parseCertificates(bytes: Uint8Array): GpCertificate[] {
  return readTlvs(bytes).map((t) => parseEither(bytes, t));
}

function parseEither(bytes: Uint8Array, t: TlvSpan): GpCertificate {
  if (t.tag === TAG_CERTIFICATE) return parseCertificateAt(bytes, t);
  if (t.tag === TAG_SEQUENCE) return parseX509At(bytes, t);
  throw new CodecError('BAD_TAG', `expected tag 7F21 or 30, got ${t.tag.toString(16).toUpperCase()}`, t.start);
}

function parseCertificateAt(bytes: Uint8Array, outer: TlvSpan): GpCertificate {
  const children = readTlvs(bytes, outer.valueStart, outer.end);
  const found = new Map<number, TlvSpan>();
  let r = 0;
  for (const c of children) {
    const tag = c.tag === 0x73 ? 0x53 : c.tag;
    while (r < ORDER.length && ORDER[r]!.tag !== tag) {
      if (!ORDER[r]!.optional) throw new CodecError('BAD_TAG', `tag ${ORDER[r]!.tag.toString(16).toUpperCase()} expected, got ${c.tag.toString(16).toUpperCase()}`, c.start);
      r++;
    }
    if (r === ORDER.length) throw new CodecError('BAD_TAG', `unexpected or repeated tag ${c.tag.toString(16).toUpperCase()}`, c.start);
    const rule = ORDER[r]!;
    if (c.value.length < rule.min || c.value.length > rule.max) {
      throw new CodecError('BAD_LENGTH', `tag ${c.tag.toString(16).toUpperCase()} has ${c.value.length} bytes`, c.start);
    }
    found.set(rule.tag, c);
    r++;
  }
  const need = ORDER.find((x) => !x.optional && !found.has(x.tag));
  if (need !== undefined) throw new CodecError('TRUNCATED', `mandatory tag ${need.tag.toString(16).toUpperCase()} missing`, outer.end);
  const get = (t: number) => found.get(t)!;
  for (const t of [0x5f25, 0x5f24]) {
    const d = found.get(t);
    if (d !== undefined && !isBcdDate(d.value)) throw new CodecError('BAD_VALUE', `tag ${t.toString(16).toUpperCase()} is not a BCD date`, d.start);
  }
  const pkTlv = get(0x7f49);
  const pk = readTlvs(bytes, pkTlv.valueStart, pkTlv.end);
  if (pk.length !== 2 || pk[0]!.tag !== 0xb0 || pk[1]!.tag !== 0xf0) {
    throw new CodecError('BAD_TAG', "public key must hold 'B0' then 'F0'", pkTlv.valueStart);
  }
  const ref = pk[1]!.value;
  if (ref.length < 1 || ref.length > 2) throw new CodecError('BAD_LENGTH', 'key parameter reference of 1 or 2 bytes expected', pk[1]!.start);
  const curve = curveByReference(ref.length === 1 ? ref[0]! : (ref[0]! << 8) | ref[1]!);
  if (curve === undefined) throw new CodecError('BAD_VALUE', 'unknown key parameter reference', pk[1]!.valueStart);
  if (!isValidPublicKey(curve.name, pk[0]!.value)) throw new CodecError('BAD_VALUE', `public key is not a point of ${curve.name}`, pk[0]!.valueStart);
  const sig = get(0x5f37);
  const disc = found.get(0x53);
  const eff = found.get(0x5f25);
  const auth = found.get(0xbf20);
  return Object.freeze({
    serialNumber: get(0x93).value,
    caId: get(0x42).value,
    subjectId: get(0x5f20).value,
    keyUsage: get(0x95).value,
    ...(eff === undefined ? {} : { effectiveDate: eff.value }),
    expirationDate: get(0x5f24).value,
    ...(disc === undefined ? {} : { discretionary: { tag: disc.tag as 0x53 | 0x73, value: disc.value } }),
    ...(auth === undefined ? {} : { authorizations: auth.value }),
    publicKey: Object.freeze({ curve: curve.name, point: pk[0]!.value }),
    signature: sig.value,
    signedData: bytes.slice(outer.valueStart, sig.start),
    encoded: bytes.slice(outer.start, outer.end),
  });
}

/** Does the signature verify under the issuer's public key? */
export function verifyCertificateSignature(cert: GpCertificate, issuer: EcPublicKey): boolean {
  if ((cert as Partial<X509Certificate>).format === 'x509') {
    // X.509: the algorithm's hash must be the issuer curve's (GPCS §B.4.3); DER signature → r ‖ s.
    const info = curveInfo(issuer.curve);
    if ((cert as X509Certificate).signatureHash !== info.ecdsaHash) return false;
    const plain = x509SignatureToPlain(cert.signature, info.size);
    return plain !== undefined && ecdsaVerify(issuer.curve, issuer.point, cert.signedData, plain);
  }
  return ecdsaVerify(issuer.curve, issuer.point, cert.signedData, cert.signature);
}

export interface ChainCheckOptions {
  /** 'YYYYMMDD'; when given, effective and expiration dates are checked. */
  readonly today?: string;
  /** Serial numbers allowed for the first certificate (§7.5.1); absent or empty = no allowlist. */
  readonly allowlist?: readonly Uint8Array[];
}

/**
 * Verify a chain (first certificate signed by the trust anchor, each next by the previous; §3.3, §7.2.2,
 * §7.5.1): signatures, key usage ('82' for intermediates, '00 80' for the last), same curve, dates when
 * `today` is given, allowlist on the first certificate. Returns the last certificate. Throws `CertificateError`.
 */
export function verifyChain(chain: readonly GpCertificate[], anchor: EcPublicKey, opts: ChainCheckOptions = {}): GpCertificate {
  if (chain.length === 0) throw new RangeError('verifyChain: empty chain');
  let issuer = anchor;
  chain.forEach((cert, i) => {
    if (!verifyCertificateSignature(cert, issuer)) throw new CertificateError('BAD_SIGNATURE', 'signature does not verify', i);
    if (i > 0 && !namesChain(chain[i - 1]!, cert)) throw new CertificateError('ISSUER_MISMATCH', "issuer is not the issuing certificate's subject", i);
    if (i === 0 && opts.allowlist !== undefined && opts.allowlist.length > 0 && !opts.allowlist.some((s) => equalBytes(s, cert.serialNumber))) {
      throw new CertificateError('NOT_IN_ALLOWLIST', 'serial number not in the allowlist', i);
    }
    const last = i === chain.length - 1;
    if (!equalBytes(cert.keyUsage, last ? KEY_USAGE_KEY_AGREEMENT : KEY_USAGE_SIGNATURE)) {
      throw new CertificateError('BAD_KEY_USAGE', `key usage must be ${last ? '00 80 (key agreement)' : '82 (signature)'}`, i);
    }
    if (cert.publicKey.curve !== anchor.curve) throw new CertificateError('CURVE_MISMATCH', 'all keys must be on the same curve', i);
    checkDates(cert, opts.today, i);
    issuer = cert.publicKey;
  });
  return chain[chain.length - 1]!;
}

/**
 * X.509 after X.509 (Amendment F §6.2.1.2): the issuer Name equals the issuing certificate's subject Name.
 * True for any pair involving a '7F21' certificate, which carries no names to compare.
 */
export function namesChain(issuing: GpCertificate, cert: GpCertificate): boolean {
  const a = issuing as Partial<X509Certificate>;
  const b = cert as Partial<X509Certificate>;
  if (a.format !== 'x509' || b.format !== 'x509') return true;
  return equalBytes(a.subjectName!, b.issuerName!);
}

/** Date checks of one certificate (no-op without `today`). */
export function checkDates(cert: GpCertificate, todayYmd: string | undefined, index = 0): void {
  if (todayYmd === undefined) return;
  if (todayYmd > dateOf(cert.expirationDate)) throw new CertificateError('EXPIRED', `expired on ${dateOf(cert.expirationDate)}`, index);
  if (cert.effectiveDate !== undefined && todayYmd < dateOf(cert.effectiveDate)) {
    throw new CertificateError('NOT_YET_VALID', `valid from ${dateOf(cert.effectiveDate)}`, index);
  }
}
