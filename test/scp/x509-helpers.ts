/**
 * Test-only X.509 v3 builder (RFC 5280 §4.1, DER) for SCP11 certificates: a small DER encoder signing the
 * tbsCertificate with `ecdsaSign` (r ‖ s converted to an ECDSA-Sig-Value). Every field can be overridden so
 * hostile tests can build certificates the parser must refuse.
 */
import { concat, fromHex } from '../../src/core/bytes.ts';
import { encodeTlv } from '../../src/core/tlv.ts';
import { curveInfo, ecdsaSign, type CurveName, type EcPublicKey } from '../../src/crypto/index.ts';

export const OID_ECDSA_SHA256 = fromHex('06082A8648CE3D040302');
export const OID_ECDSA_SHA384 = fromHex('06082A8648CE3D040303');
export const OID_SHA256_RSA = fromHex('06092A864886F70D01010B');
/** keyUsage bits (first byte of the BIT STRING). */
export const KU_DIGITAL_SIGNATURE = 0x80;
export const KU_KEY_AGREEMENT = 0x08;
export const KU_KEY_CERT_SIGN = 0x04;

const seq = (...parts: Uint8Array[]) => encodeTlv(0x30, concat(...parts));
const bitString = (b: Uint8Array) => encodeTlv(0x03, concat(Uint8Array.of(0), b));
/** DER named bit list of one byte: trailing zero bits dropped (unused-bits count). */
const namedBits = (v: number) => encodeTlv(0x03, Uint8Array.of(v === 0 ? 0 : 31 - Math.clz32(v & -v), v));
const octets = (b: Uint8Array) => encodeTlv(0x04, b);
const utf8 = (s: string) => new TextEncoder().encode(s);

/** DER INTEGER content of an unsigned big-endian number. */
export function derUnsigned(v: Uint8Array): Uint8Array {
  let i = 0;
  while (i < v.length - 1 && v[i] === 0) i++;
  const t = v.subarray(i);
  return (t[0]! & 0x80) !== 0 ? concat(Uint8Array.of(0), t) : t.slice();
}

/** r ‖ s → DER ECDSA-Sig-Value. */
export function plainToDer(sig: Uint8Array): Uint8Array {
  const h = sig.length / 2;
  return seq(encodeTlv(0x02, derUnsigned(sig.subarray(0, h))), encodeTlv(0x02, derUnsigned(sig.subarray(h))));
}

/** DER Name { CN = cn }. */
export function name(cn: string): Uint8Array {
  return seq(encodeTlv(0x31, seq(fromHex('0603550403'), encodeTlv(0x0c, utf8(cn)))));
}

export function extension(oid: Uint8Array, value: Uint8Array, critical = false): Uint8Array {
  return seq(oid, critical ? fromHex('0101FF') : new Uint8Array(0), octets(value));
}

export interface X509Spec {
  readonly serial: Uint8Array;
  /** authorityKeyIdentifier keyIdentifier (= GP CA identifier '42'); undefined = extension left out. */
  readonly aki: Uint8Array | undefined;
  /** subjectKeyIdentifier; undefined = left out. */
  readonly ski: Uint8Array | undefined;
  /** keyUsage first byte; undefined = left out. */
  readonly keyUsage: number | undefined;
  readonly notBefore: string;
  readonly notAfter: string;
  readonly publicKey: EcPublicKey;
  readonly sigAlg?: Uint8Array;
  readonly extraExtensions?: readonly Uint8Array[];
  /** Version INTEGER value (2 = v3, the default). */
  readonly version?: number;
  /** Common names of issuer and subject (default 'issuer', 'subject'). */
  readonly issuerCn?: string;
  readonly subjectCn?: string;
  /** Leave the [0] version out (a v1 certificate). */
  readonly omitVersion?: boolean;
}

/** tbsCertificate DER of `s`. */
export function tbsOf(s: X509Spec): Uint8Array {
  const alg = seq(s.sigAlg ?? OID_ECDSA_SHA256);
  const time = (t: string) => encodeTlv(t.length === 13 ? 0x17 : 0x18, utf8(t));
  const exts = [
    ...(s.keyUsage === undefined ? [] : [extension(fromHex('0603551D0F'), namedBits(s.keyUsage), true)]),
    ...(s.ski === undefined ? [] : [extension(fromHex('0603551D0E'), octets(s.ski))]),
    ...(s.aki === undefined ? [] : [extension(fromHex('0603551D23'), seq(encodeTlv(0x80, s.aki)))]),
    ...(s.extraExtensions ?? []),
  ];
  const curveOid = curveInfo(s.publicKey.curve).oid;
  return seq(
    s.omitVersion === true ? new Uint8Array(0) : encodeTlv(0xa0, encodeTlv(0x02, Uint8Array.of(s.version ?? 2))),
    encodeTlv(0x02, derUnsigned(s.serial)),
    alg,
    name(s.issuerCn ?? 'issuer'),
    seq(time(s.notBefore), time(s.notAfter)),
    name(s.subjectCn ?? 'subject'),
    seq(seq(fromHex('06072A8648CE3D0201'), curveOid), bitString(s.publicKey.point)),
    encodeTlv(0xa3, seq(...exts)),
  );
}

/** Certificate DER: tbs signed by `issuer` (ECDSA with the issuer curve's hash). */
export function buildX509(s: X509Spec, issuer: { readonly curve: CurveName; readonly privateKey: Uint8Array }): Uint8Array {
  const tbs = tbsOf(s);
  return seq(tbs, seq(s.sigAlg ?? OID_ECDSA_SHA256), bitString(plainToDer(ecdsaSign(issuer.curve, issuer.privateKey, tbs))));
}
