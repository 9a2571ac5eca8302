/**
 * X.509 v3 certificates for SCP11 (GP Amendment F v1.4 allows X.509 certificates next to the GP '7F21'
 * format; RFC 5280 §4.1 profile, DER only). A strict, dependency-free DER reader that yields the same
 * `GpCertificate` object as `certificate.ts` does for '7F21', so chains of either format are checked by
 * the same rules (`verifyChain`, the card's PERFORM SECURITY OPERATION, STORE DATA 'BF21').
 *
 * Field mapping (X.509 → GP '7F21' field):
 *   serialNumber INTEGER content (1–20 bytes, as      → '93' serial number (allowlist, §7.5.1)
 *     encoded, with a DER leading 00 if any)
 *   authorityKeyIdentifier.keyIdentifier [0]           → '42' CA identifier (CA-KLOC / CA-KLCC identifier)
 *   id-sd-subject-id extension (Annex C) if present,  → '5F20' subject identifier (compared with the SD's
 *     else the subject Name, whole DER (§6.2.1.5)         '5F20' for the AUTHENTICATED level, §4.7)
 *   id-scp11-auth extension (Table 6-7)                → 'BF20' authorizations (value)
 *   id-disc-data extension (Table 6-8)                 → '53' / '73' discretionary data
 *   keyUsage keyAgreement alone (Tables 6-7, 6-8)      → '95' = '00 80' (CERT.OCE.ECKA, CERT.SD.ECKA)
 *   keyUsage keyCertSign, cRLSign optional, no
 *            keyAgreement (Tables 6-5, 6-6)            → '95' = '82' (CA / KA signature certificates)
 *   issuer / subject Names (whole DER)                 → `issuerName` / `subjectName`: §6.2.1.2 wants each
 *                                                        issuer equal to the issuing certificate's subject
 *   subjectKeyIdentifier (mandatory, §6.2.1.2)         → `subjectKeyId`
 *   validity notBefore / notAfter (day, UTC)          → '5F25' / '5F24'
 *   subjectPublicKeyInfo id-ecPublicKey + named curve  → '7F49' public key
 *   tbsCertificate (exact DER)                         → signed data (Table 6-2)
 *   signatureValue ECDSA-Sig-Value (DER)               → '5F37'; converted to r ‖ s with the issuer's curve
 *                                                        size when verified (`x509SignatureToPlain`)
 * The signature algorithm must be ecdsa-with-SHA256/384/512 and equal to the hash of the issuer's curve
 * (GPCS §B.4.3), and the outer algorithm must equal the tbsCertificate's. Unknown critical extensions are
 * refused (RFC 5280 §4.2; certificatePolicies and basicConstraints are known, their values not checked);
 * keyUsage is a DER named bit list.
 * As for '7F21', a chain links by signatures (each certificate verifies under the previous one's key) and key
 * usage; between two X.509 certificates the issuer Name must also equal the previous subject Name
 * (`namesChain`, used by `verifyChain` and the card's PSO). Every parse error is a `CodecError`.
 * Not checked: the certificatePolicies role OIDs (id-oce, id-sd, id-kloc-ca … of Annex C).
 */
import { concat, equalBytes } from '../../core/bytes.ts';
import { CodecError } from '../../core/errors.ts';
import { curveInfo, isValidPublicKey, type CurveName } from '../../crypto/index.ts';
import type { GpCertificate } from './certificate.ts';
import { readTlv, readTlvs, type TlvSpan } from './tlv.ts';

export const TAG_SEQUENCE = 0x30;

const OID_EC_PUBLIC_KEY = Uint8Array.of(0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01);
const SIG_ALGS: readonly { readonly oid: Uint8Array; readonly hash: 'sha256' | 'sha384' | 'sha512' }[] = [
  { oid: Uint8Array.of(0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02), hash: 'sha256' },
  { oid: Uint8Array.of(0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x03), hash: 'sha384' },
  { oid: Uint8Array.of(0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x04), hash: 'sha512' },
];
const CURVES: readonly CurveName[] = ['P-256', 'P-384', 'P-521', 'brainpoolP256r1', 'brainpoolP384r1'];
const EXT_SKI = Uint8Array.of(0x55, 0x1d, 0x0e);
const EXT_KEY_USAGE = Uint8Array.of(0x55, 0x1d, 0x0f);
const EXT_BASIC_CONSTRAINTS = Uint8Array.of(0x55, 0x1d, 0x13);
const EXT_AKI = Uint8Array.of(0x55, 0x1d, 0x23);
/** Annex C: id-scp11Ext = 1.2.840.114283.100.0.10.2.0 {id-disc-data(0), id-scp11-auth(1), id-sd-subject-id(2)}. */
const SCP11_EXT = Uint8Array.of(0x2a, 0x86, 0x48, 0x86, 0xfc, 0x6b, 0x64, 0x00, 0x0a, 0x02, 0x00);
const EXT_DISC_DATA = Uint8Array.of(...SCP11_EXT, 0x00);
const EXT_SCP11_AUTH = Uint8Array.of(...SCP11_EXT, 0x01);
const EXT_SD_SUBJECT_ID = Uint8Array.of(...SCP11_EXT, 0x02);
/** certificatePolicies: mandatory and critical in every SCP11 certificate (Tables 6-5 to 6-8). */
const EXT_CERTIFICATE_POLICIES = Uint8Array.of(0x55, 0x1d, 0x20);

function hex(n: number): string {
  return n.toString(16).toUpperCase();
}

function expect(t: TlvSpan | undefined, tag: number, what: string, at: number): TlvSpan {
  if (t === undefined) throw new CodecError('TRUNCATED', `${what} missing`, at);
  if (t.tag !== tag) throw new CodecError('BAD_TAG', `${what}: tag ${hex(tag)} expected, got ${hex(t.tag)}`, t.start);
  return t;
}

function children(b: Uint8Array, t: TlvSpan): TlvSpan[] {
  return readTlvs(b, t.valueStart, t.end);
}

/** BIT STRING with no unused bits → its bytes. */
function bitStringBytes(t: TlvSpan, what: string): Uint8Array {
  if (t.value.length < 1 || t.value[0] !== 0) throw new CodecError('BAD_VALUE', `${what}: BIT STRING with unused bits`, t.start);
  return t.value.subarray(1);
}

/** UTCTime / GeneralizedTime (…Z) → 4 BCD bytes YYYYMMDD. */
function timeToBcd(t: TlvSpan): Uint8Array {
  const s = new TextDecoder().decode(t.value);
  let ymd: string;
  if (t.tag === 0x17 && /^\d{12}Z$/.test(s)) ymd = (Number(s.slice(0, 2)) < 50 ? '20' : '19') + s.slice(0, 6);
  else if (t.tag === 0x18 && /^\d{14}Z$/.test(s)) ymd = s.slice(0, 8);
  else throw new CodecError('BAD_VALUE', 'validity: UTCTime or GeneralizedTime in Zulu form expected', t.start);
  const m = Number(ymd.slice(4, 6));
  const d = Number(ymd.slice(6, 8));
  if (m < 1 || m > 12 || d < 1 || d > 31) throw new CodecError('BAD_VALUE', 'validity: not a date', t.start);
  return Uint8Array.from({ length: 4 }, (_, i) => (Number(ymd[2 * i]) << 4) | Number(ymd[2 * i + 1]));
}

function algorithm(b: Uint8Array, t: TlvSpan): 'sha256' | 'sha384' | 'sha512' {
  const parts = children(b, expect(t, TAG_SEQUENCE, 'signature algorithm', t.start));
  const oid = expect(parts[0], 0x06, 'signature algorithm OID', t.valueStart);
  if (parts.length !== 1) throw new CodecError('BAD_VALUE', 'ecdsa-with-SHA* takes no parameters', t.start);
  const alg = SIG_ALGS.find((a) => equalBytes(a.oid, oid.value));
  if (alg === undefined) throw new CodecError('BAD_VALUE', 'signature algorithm is not ecdsa-with-SHA256/384/512', oid.start);
  return alg.hash;
}

function keyUsageOf(ext: TlvSpan, b: Uint8Array): Uint8Array {
  const t = expect(readTlv(b, ext.valueStart, ext.end), 0x03, 'keyUsage', ext.valueStart);
  if (t.end !== ext.end) throw new CodecError('TRAILING_DATA', 'bytes after keyUsage', t.end);
  // A named bit list: DER drops trailing zero bits, so the unused-bits count is 0..7 (and those bits are 0).
  const unused = t.value[0];
  const last = t.value[t.value.length - 1]!;
  if (unused === undefined || unused > 7 || (t.value.length === 1 && unused !== 0) || (t.value.length > 1 && (last & ((1 << unused) - 1)) !== 0)) {
    throw new CodecError('BAD_VALUE', 'keyUsage: malformed BIT STRING', t.start);
  }
  const first = t.value[1] ?? 0;
  const digitalSignature = (first & 0x80) !== 0;
  const keyAgreement = (first & 0x08) !== 0;
  const keyCertSign = (first & 0x04) !== 0;
  // Tables 6-5/6-6: keyCertSign (cRLSign optional) for CA and KA certificates; 6-7/6-8: keyAgreement alone.
  if (keyAgreement && !digitalSignature && !keyCertSign && first === 0x08 && t.value.length <= 2) return Uint8Array.of(0x00, 0x80);
  if (!keyAgreement && keyCertSign) return Uint8Array.of(0x82);
  throw new CodecError('BAD_VALUE', 'keyUsage must be keyAgreement alone or keyCertSign', ext.start);
}

/** An X.509 certificate as a `GpCertificate`; `signature` is the DER ECDSA-Sig-Value. */
export interface X509Certificate extends GpCertificate {
  readonly format: 'x509';
  /** Hash of the signature algorithm (must match the issuer's curve). */
  readonly signatureHash: 'sha256' | 'sha384' | 'sha512';
  /** DER of the issuer Name. */
  readonly issuerName: Uint8Array;
  /** DER of the subject Name. */
  readonly subjectName: Uint8Array;
  /** subjectKeyIdentifier. */
  readonly subjectKeyId: Uint8Array;
}

/** Parse the X.509 certificate (SEQUENCE) spanning `outer` in `bytes`. */
export function parseX509At(bytes: Uint8Array, outer: TlvSpan): X509Certificate {
  expect(outer, TAG_SEQUENCE, 'Certificate', outer.start);
  const top = children(bytes, outer);
  if (top.length !== 3) throw new CodecError('BAD_VALUE', 'Certificate must hold tbsCertificate, signatureAlgorithm, signatureValue', outer.start);
  const tbs = expect(top[0], TAG_SEQUENCE, 'tbsCertificate', outer.valueStart);
  const hash = algorithm(bytes, top[1]!);
  const sigValue = bitStringBytes(expect(top[2], 0x03, 'signatureValue', top[1]!.end), 'signatureValue');
  const f = children(bytes, tbs);
  let i = 0;
  const version = expect(f[i++], 0xa0, 'version [0] (v3 required)', tbs.valueStart);
  const v = expect(readTlv(bytes, version.valueStart, version.end), 0x02, 'version', version.valueStart);
  if (v.end !== version.end || v.value.length !== 1 || v.value[0] !== 2) throw new CodecError('BAD_VALUE', 'version must be v3', version.start);
  const serial = expect(f[i++], 0x02, 'serialNumber', version.end);
  if (serial.value.length < 1 || serial.value.length > 20) throw new CodecError('BAD_LENGTH', 'serialNumber of 1..20 bytes expected', serial.start);
  const innerAlg = f[i++];
  if (innerAlg === undefined || !equalBytes(innerAlg.value, top[1]!.value) || innerAlg.tag !== top[1]!.tag) {
    throw new CodecError('BAD_VALUE', 'tbsCertificate signature algorithm differs from signatureAlgorithm', innerAlg?.start ?? tbs.end);
  }
  const issuer = expect(f[i++], TAG_SEQUENCE, 'issuer', tbs.end);
  const validity = children(bytes, expect(f[i++], TAG_SEQUENCE, 'validity', tbs.end));
  if (validity.length !== 2) throw new CodecError('BAD_VALUE', 'validity must hold notBefore and notAfter', f[i - 1]!.start);
  const notBefore = timeToBcd(validity[0]!);
  const notAfter = timeToBcd(validity[1]!);
  const subject = expect(f[i++], TAG_SEQUENCE, 'subject', tbs.end);
  if (subject.value.length === 0) throw new CodecError('BAD_VALUE', 'empty subject Name', subject.start);
  const spki = children(bytes, expect(f[i++], TAG_SEQUENCE, 'subjectPublicKeyInfo', tbs.end));
  const spkiAlg = children(bytes, expect(spki[0], TAG_SEQUENCE, 'subjectPublicKeyInfo algorithm', tbs.end));
  if (spki.length !== 2 || spkiAlg.length !== 2) throw new CodecError('BAD_VALUE', 'subjectPublicKeyInfo: { id-ecPublicKey namedCurve } key expected', spki[0]!.start);
  if (!equalBytes(expect(spkiAlg[0], 0x06, 'key algorithm', spki[0]!.start).value, OID_EC_PUBLIC_KEY)) {
    throw new CodecError('BAD_VALUE', 'subject public key is not id-ecPublicKey', spkiAlg[0]!.start);
  }
  const curveOid = expect(spkiAlg[1], 0x06, 'namedCurve', spkiAlg[0]!.end);
  const curve = CURVES.find((c) => equalBytes(curveInfo(c).oid, bytes.subarray(curveOid.start, curveOid.end)));
  if (curve === undefined) throw new CodecError('BAD_VALUE', 'unsupported named curve', curveOid.start);
  const point = bitStringBytes(expect(spki[1], 0x03, 'subjectPublicKey', spki[0]!.end), 'subjectPublicKey');
  if (!isValidPublicKey(curve, point)) throw new CodecError('BAD_VALUE', `public key is not a point of ${curve}`, spki[1]!.start);
  let caId: Uint8Array | undefined;
  let subjectKeyId: Uint8Array | undefined;
  let gpSubjectId: Uint8Array | undefined;
  let authorizations: Uint8Array | undefined;
  let discretionary: { tag: 0x53 | 0x73; value: Uint8Array } | undefined;
  /** extnValue holding one OCTET STRING (Table 6-7/6-8 GP extensions) → its content. */
  const innerOctets = (value: TlvSpan, what: string): Uint8Array => {
    const o = readTlv(bytes, value.valueStart, value.end);
    if (o.end !== value.end || o.tag !== 0x04) throw new CodecError('BAD_VALUE', `${what}: OCTET STRING expected`, value.start);
    return o.value;
  };
  let keyUsage: Uint8Array | undefined;
  let next = f[i];
  if (next !== undefined && (next.tag === 0x81 || next.tag === 0xa1)) next = f[++i];
  if (next !== undefined && (next.tag === 0x82 || next.tag === 0xa2)) next = f[++i];
  const extsWrap = expect(next, 0xa3, 'extensions [3]', tbs.end);
  i++;
  if (i !== f.length) throw new CodecError('BAD_TAG', 'bytes after the extensions', f[i]!.start);
  const extsSeq = readTlv(bytes, extsWrap.valueStart, extsWrap.end);
  if (extsSeq.end !== extsWrap.end) throw new CodecError('TRAILING_DATA', 'bytes after the extensions', extsSeq.end);
  const seen: Uint8Array[] = [];
  for (const ext of children(bytes, expect(extsSeq, TAG_SEQUENCE, 'extensions', extsWrap.valueStart))) {
    const p = children(bytes, expect(ext, TAG_SEQUENCE, 'extension', ext.start));
    const oid = expect(p[0], 0x06, 'extnID', ext.valueStart).value;
    let k = 1;
    let critical = false;
    if (p[k]?.tag === 0x01) {
      if (p[k]!.value.length !== 1 || p[k]!.value[0] !== 0xff) throw new CodecError('BAD_VALUE', 'critical must be DER TRUE when present', p[k]!.start);
      critical = true;
      k++;
    }
    const value = expect(p[k], 0x04, 'extnValue', ext.end);
    if (k + 1 !== p.length) throw new CodecError('BAD_VALUE', 'extension has extra fields', ext.start);
    if (seen.some((s) => equalBytes(s, oid))) throw new CodecError('BAD_VALUE', 'repeated extension', ext.start);
    seen.push(oid);
    if (equalBytes(oid, EXT_SKI)) {
      const ski = readTlv(bytes, value.valueStart, value.end);
      if (ski.end !== value.end || ski.tag !== 0x04 || ski.value.length === 0) throw new CodecError('BAD_VALUE', 'subjectKeyIdentifier', value.start);
      subjectKeyId = ski.value;
    } else if (equalBytes(oid, EXT_AKI)) {
      const aki = expect(readTlv(bytes, value.valueStart, value.end), TAG_SEQUENCE, 'authorityKeyIdentifier', value.valueStart);
      const id = children(bytes, aki).find((c) => c.tag === 0x80);
      if (id === undefined || id.value.length === 0) throw new CodecError('BAD_VALUE', 'authorityKeyIdentifier without keyIdentifier', aki.start);
      caId = id.value;
    } else if (equalBytes(oid, EXT_SD_SUBJECT_ID)) {
      gpSubjectId = innerOctets(value, 'id-sd-subject-id');
      if (gpSubjectId.length < 1 || gpSubjectId.length > 127) throw new CodecError('BAD_LENGTH', 'id-sd-subject-id of 1..127 bytes expected', value.start);
    } else if (equalBytes(oid, EXT_SCP11_AUTH)) {
      authorizations = innerOctets(value, 'id-scp11-auth');
    } else if (equalBytes(oid, EXT_DISC_DATA)) {
      const d = innerOctets(value, 'id-disc-data');
      const t = readTlv(d, 0);
      if (t.end !== d.length || (t.tag !== 0x53 && t.tag !== 0x73) || t.value.length < 1 || t.value.length > 127) {
        throw new CodecError('BAD_VALUE', "id-disc-data must hold one '53' or '73' TLV of 1..127 bytes", value.start);
      }
      discretionary = { tag: t.tag, value: t.value };
    } else if (equalBytes(oid, EXT_KEY_USAGE)) {
      keyUsage = keyUsageOf(value, bytes);
    } else if (critical && !equalBytes(oid, EXT_BASIC_CONSTRAINTS) && !equalBytes(oid, EXT_CERTIFICATE_POLICIES)) {
      throw new CodecError('BAD_VALUE', 'unknown critical extension', ext.start);
    }
  }
  if (caId === undefined) throw new CodecError('TRUNCATED', 'authorityKeyIdentifier (CA identifier) missing', extsWrap.start);
  if (subjectKeyId === undefined) throw new CodecError('TRUNCATED', 'subjectKeyIdentifier (subject identifier) missing', extsWrap.start);
  if (keyUsage === undefined) throw new CodecError('TRUNCATED', 'keyUsage missing', extsWrap.start);
  // The signature: ECDSA-Sig-Value ::= SEQUENCE { r INTEGER, s INTEGER }, checked here, converted when verified.
  const sig = readTlv(sigValue, 0);
  if (sig.end !== sigValue.length || sig.tag !== TAG_SEQUENCE) throw new CodecError('BAD_VALUE', 'signatureValue is not an ECDSA-Sig-Value', top[2]!.start);
  const rs = readTlvs(sigValue, sig.valueStart, sig.end);
  if (rs.length !== 2 || rs.some((x) => x.tag !== 0x02 || x.value.length === 0)) throw new CodecError('BAD_VALUE', 'ECDSA-Sig-Value must hold two INTEGERs', top[2]!.start);
  return Object.freeze({
    format: 'x509' as const,
    signatureHash: hash,
    serialNumber: serial.value,
    caId,
    subjectId: gpSubjectId ?? bytes.slice(subject.start, subject.end),
    ...(authorizations === undefined ? {} : { authorizations }),
    ...(discretionary === undefined ? {} : { discretionary: Object.freeze(discretionary) }),
    keyUsage,
    issuerName: bytes.slice(issuer.start, issuer.end),
    subjectName: bytes.slice(subject.start, subject.end),
    subjectKeyId,
    effectiveDate: notBefore,
    expirationDate: notAfter,
    publicKey: Object.freeze({ curve, point: point.slice() }),
    signature: sigValue.slice(),
    signedData: bytes.slice(tbs.start, tbs.end),
    encoded: bytes.slice(outer.start, outer.end),
  });
}

/** Parse one X.509 certificate that must fill `bytes` exactly. */
export function parseX509Certificate(bytes: Uint8Array): X509Certificate {
  const outer = readTlv(bytes, 0);
  if (outer.end !== bytes.length) throw new CodecError('TRAILING_DATA', 'bytes after the certificate', outer.end);
  return parseX509At(bytes, outer);
}

/**
 * DER ECDSA-Sig-Value → r ‖ s of `size` bytes each; undefined when an integer is negative, non-minimal or
 * too large for the curve (such a signature cannot verify).
 */
export function x509SignatureToPlain(der: Uint8Array, size: number): Uint8Array | undefined {
  try {
    const seq = readTlv(der, 0);
    const ints = readTlvs(der, seq.valueStart, seq.end);
    const out = ints.map((x) => {
      let v = x.value;
      if ((v[0]! & 0x80) !== 0) return undefined;
      if (v.length > 1 && v[0] === 0 && (v[1]! & 0x80) === 0) return undefined;
      while (v.length > 0 && v[0] === 0) v = v.subarray(1);
      if (v.length > size) return undefined;
      return concat(new Uint8Array(size - v.length), v);
    });
    if (out.length !== 2 || out[0] === undefined || out[1] === undefined) return undefined;
    return concat(out[0], out[1]);
  } catch {
    return undefined;
  }
}
