/**
 * RSA keys of an SCP10 Security Domain (GPCS 2.2.1 Appendix F.1.1 keys; GPCS 2.3.1 Table 11-16 key types
 * 'A0' public exponent, 'A1' public modulus, 'A2'–'A8' private key components):
 *
 *  - PK.TP_EX.AUT, the trust point that verifies OCE certificates — KID '10', set by PUT KEY with components
 *    'A1' (modulus) and 'A0' (exponent). Record: type 'A1', `value` = modulus, `exponent` = public exponent.
 *  - SK.SD.AUT, the SD's private key — KID '11', generated on card (generate-key.ts), never imported and never
 *    read out. Record: type 'A2', `value` = the private key as PKCS#8 DER (simulator representation; a real
 *    card keeps CRT components), `certificate` = CERT.SD.AUT ('7F21' TLV) once stored by STORE DATA.
 * Accepted moduli: 1024 or 2048 bits (128 or 256 bytes, top bit set); exponents odd, 3 or more, at most 4 bytes.
 */
import { createPrivateKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { concat, equalConstantTime, fromHex } from '../../core/bytes.ts';
import { parseTlv, parseTlvs, type Tlv } from '../../core/tlv.ts';
import { recover9796, rsaPublicKey, rsaPublicNumbers } from '../../crypto/index.ts';
import type { KeyRecord, SdRecord } from '../state.ts';

/** Key type of an RSA public exponent component ('A0') and of a public modulus / PK.TP_EX.AUT record ('A1'). */
export const RSA_EXPONENT = 0xa0;
export const RSA_PUBLIC = 0xa1;
/** Key type of an RSA private key record (SK.SD.AUT): 'A2', RSA private key. */
export const RSA_PRIVATE = 0xa2;
/** Key type of the private exponent component, listed in the key information template next to 'A2'. */
export const RSA_PRIVATE_EXPONENT = 0xa3;

/** KID of PK.TP_EX.AUT. */
export const TRUST_POINT_KID = 0x10;
/** KID of SK.SD.AUT. */
export const SD_AUT_KID = 0x11;

/** Modulus sizes in bits a Security Domain accepts and generates. */
export const RSA_BITS: readonly number[] = [1024, 2048];

/** Is this a modulus of 1024 or 2048 bits (no leading zero)? */
export function isValidModulus(n: Uint8Array): boolean {
  return (n.length === 128 || n.length === 256) && (n[0]! & 0x80) !== 0;
}

/** Is this an odd public exponent ≥ 3 of at most 4 bytes, without leading zero? */
export function isValidExponent(e: Uint8Array): boolean {
  return e.length >= 1 && e.length <= 4 && e[0] !== 0 && (e[e.length - 1]! & 1) === 1 && !(e.length === 1 && e[0] === 1);
}

export function isRsaRecord(k: KeyRecord): boolean {
  return k.type === RSA_PUBLIC || k.type === RSA_PRIVATE;
}

/** The private key of an SK.SD.AUT record. */
export function privateKeyOf(k: KeyRecord): KeyObject {
  if (k.type !== RSA_PRIVATE) throw new RangeError(`key ${k.kvn}/${k.kid} is not an RSA private key`);
  return createPrivateKey({ key: Buffer.from(k.value, 'hex'), format: 'der', type: 'pkcs8' });
}

/** Modulus and exponent of an RSA record (public part of a private key). */
export function publicNumbersOf(k: KeyRecord): { modulus: Uint8Array; exponent: Uint8Array } {
  if (k.type === RSA_PUBLIC) return { modulus: fromHex(k.value), exponent: fromHex(k.exponent ?? '') };
  return rsaPublicNumbers(privateKeyOf(k));
}

/** Modulus length in bytes of an RSA record. */
export function modulusBytesOf(k: KeyRecord): number {
  if (k.type === RSA_PUBLIC) return k.value.length / 2;
  const bits = privateKeyOf(k).asymmetricKeyDetails?.modulusLength ?? 0;
  return bits / 8;
}

/**
 * Validate a PKCS#8 DER RSA private key (state files); returns its modulus length in bits or undefined.
 * Only 1024- and 2048-bit keys with an acceptable public exponent pass.
 */
export function privateKeyBits(der: Uint8Array): number | undefined {
  try {
    const key = createPrivateKey({ key: Buffer.from(der), format: 'der', type: 'pkcs8' });
    const bits = key.asymmetricKeyDetails?.modulusLength;
    if (key.asymmetricKeyType !== 'rsa' || bits === undefined || !RSA_BITS.includes(bits)) return undefined;
    const { modulus, exponent } = rsaPublicNumbers(key);
    return isValidModulus(modulus) && isValidExponent(exponent) ? bits : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Generate an RSA key pair (public exponent 65537) with node:crypto. The card's `random` source cannot seed
 * it: generation is not reproducible in tests, unlike ECC (see docs/simulator.md).
 */
export function generateRsaKeyPair(bits: number): { der: Uint8Array; modulus: Uint8Array; exponent: Uint8Array } {
  if (!RSA_BITS.includes(bits)) throw new RangeError(`RSA-${bits} is not supported`);
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: bits, publicExponent: 0x10001 });
  const der = new Uint8Array(privateKey.export({ format: 'der', type: 'pkcs8' }));
  return { der, ...rsaPublicNumbers(privateKey) };
}

/**
 * SK.SD.AUT records, the one in use first: certified ones before others (the highest KVN first); among keys
 * without a certificate the oldest (lowest KVN) — a newly generated pair takes over only once its certificate is
 * stored, so the host that generated it keeps reaching the SD with the key it knows until then.
 */
function sdAuthKeys(sd: SdRecord): KeyRecord[] {
  return sd.keys
    .filter((k) => k.type === RSA_PRIVATE && k.kid === SD_AUT_KID)
    .sort((a, b) => {
      const ca = a.certificate !== undefined;
      const cb = b.certificate !== undefined;
      if (ca !== cb) return Number(cb) - Number(ca);
      return ca ? b.kvn - a.kvn : a.kvn - b.kvn;
    });
}

/** The SK.SD.AUT the SD authenticates with, or undefined. */
export function activeSdKey(sd: SdRecord): KeyRecord | undefined {
  return sdAuthKeys(sd)[0];
}

/** The PK.TP_EX.AUT the SD verifies OCE certificates with (KID '10', highest KVN), or undefined. */
export function activeTrustPoint(sd: SdRecord): KeyRecord | undefined {
  return sd.keys.filter((k) => k.type === RSA_PUBLIC && k.kid === TRUST_POINT_KID).sort((a, b) => b.kvn - a.kvn)[0];
}

/** Public key of a PK.TP_EX.AUT record. */
export function trustPointKeyOf(k: KeyRecord): KeyObject {
  return rsaPublicKey(fromHex(k.value), fromHex(k.exponent ?? ''));
}

/** Subject id and public key a CERT.SD.AUT certifies, as far as the card can read them. */
export interface CertifiedKey {
  readonly subjectId: Uint8Array;
  readonly modulus: Uint8Array;
  readonly exponent: Uint8Array;
}

function fromCertifiedData(list: readonly Tlv[]): CertifiedKey | undefined {
  if (list.length !== 3 || list[0]!.tag !== 0x42 || list[1]!.tag !== 0x5f20 || list[2]!.tag !== 0x7f49) return undefined;
  const subject = list[1]!;
  const pk = list[2]!.children;
  const n = pk?.find((t) => t.tag === 0x81);
  const e = pk?.find((t) => t.tag === 0x82);
  if (subject.value.length !== 8 || pk?.length !== 2 || n === undefined || e === undefined) return undefined;
  return { subjectId: subject.value, modulus: n.value, exponent: e.value };
}

/**
 * Read the subject of an SCP10 certificate (src/scp/scp10/certificate.ts format): in clear for the PKCS#1
 * scheme; for ISO 9796-2 (partial message recovery) only after recovery with one of `recoverWith` (the SD's
 * trust points). Undefined when malformed or unreadable. The card does not check the CA's signature of its
 * own certificate — the host does, against its trust point PK.TP_IN.AUT.
 */
export function certifiedKey(encoded: Uint8Array, recoverWith: readonly KeyObject[]): CertifiedKey | undefined {
  let outer: Tlv;
  try {
    outer = parseTlv(encoded);
  } catch {
    return undefined;
  }
  const items = outer.children;
  if (outer.tag !== 0x7f21 || items === undefined || items.length < 2 || items[items.length - 1]!.tag !== 0x9e) return undefined;
  if (items.length === 2 && items[0]!.tag === 0x5f38) {
    for (const key of recoverWith) {
      let m1: Uint8Array | null;
      try {
        m1 = recover9796(key, items[1]!.value, items[0]!.value);
      } catch {
        m1 = null;
      }
      if (m1 === null) continue;
      try {
        return fromCertifiedData(parseTlvs(concat(m1, items[0]!.value)));
      } catch {
        return undefined;
      }
    }
    return undefined;
  }
  return fromCertifiedData(items.slice(0, -1));
}

/** Does the certificate certify exactly this key pair's public key? */
export function certifies(c: CertifiedKey, key: { modulus: Uint8Array; exponent: Uint8Array }): boolean {
  return c.modulus.length === key.modulus.length && equalConstantTime(c.modulus, key.modulus) && c.exponent.length === key.exponent.length && equalConstantTime(c.exponent, key.exponent);
}
