/**
 * Elliptic-curve cryptography (used by SCP11, GP Amendment F v1.4 §3.1.1, §5.1, and the CA): ECKA (plain ECDH, BSI TR-03111 — the shared
 * secret is the x-coordinate) and ECDSA (TR-03111 plain signature format r ‖ s), on node:crypto / OpenSSL.
 * Public keys are uncompressed points '04' ‖ X ‖ Y (§5.1); private keys are the scalar d, big-endian, of the
 * curve's order length. Key parameter references ('F0' in a GP certificate) follow GPCS 2.3.1 §B.4.1.
 */
import { createECDH, createPrivateKey, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import { concat } from '../core/bytes.ts';
import type { RandomSource } from './random.ts';

export type CurveName = 'P-256' | 'P-384' | 'P-521' | 'brainpoolP256r1' | 'brainpoolP384r1';

export interface CurveInfo {
  readonly name: CurveName;
  /** OpenSSL name. */
  readonly openssl: string;
  /** Key parameter reference (GPCS §B.4.1; tag 'F0' of a GP certificate public key). */
  readonly keyParameterReference: number;
  /** Field / order length in bytes. */
  readonly size: number;
  /** Hash used with ECDSA on this curve (GPCS §B.4.3: SHA-256 up to 256 bits, SHA-384, SHA-512). */
  readonly ecdsaHash: 'sha256' | 'sha384' | 'sha512';
  /** DER of the curve OID (tag 06 included). */
  readonly oid: Uint8Array;
}

const CURVES: readonly CurveInfo[] = Object.freeze([
  { name: 'P-256', openssl: 'prime256v1', keyParameterReference: 0x00, size: 32, ecdsaHash: 'sha256', oid: Uint8Array.of(0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07) },
  { name: 'P-384', openssl: 'secp384r1', keyParameterReference: 0x01, size: 48, ecdsaHash: 'sha384', oid: Uint8Array.of(0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22) },
  { name: 'P-521', openssl: 'secp521r1', keyParameterReference: 0x02, size: 66, ecdsaHash: 'sha512', oid: Uint8Array.of(0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x23) },
  { name: 'brainpoolP256r1', openssl: 'brainpoolP256r1', keyParameterReference: 0x03, size: 32, ecdsaHash: 'sha256', oid: Uint8Array.of(0x06, 0x09, 0x2b, 0x24, 0x03, 0x03, 0x02, 0x08, 0x01, 0x01, 0x07) },
  { name: 'brainpoolP384r1', openssl: 'brainpoolP384r1', keyParameterReference: 0x05, size: 48, ecdsaHash: 'sha384', oid: Uint8Array.of(0x06, 0x09, 0x2b, 0x24, 0x03, 0x03, 0x02, 0x08, 0x01, 0x01, 0x0b) },
]);

const EC_PUBLIC_KEY_OID = Uint8Array.of(0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01);

export function curveInfo(name: CurveName): CurveInfo {
  const c = CURVES.find((x) => x.name === name);
  if (c === undefined) throw new RangeError(`unknown curve ${String(name)}`);
  return c;
}

/** The curve with this key parameter reference, or `undefined`. */
export function curveByReference(ref: number): CurveInfo | undefined {
  return CURVES.find((x) => x.keyParameterReference === ref);
}

/** Length of an uncompressed point on the curve: 2 × size + 1. */
export function pointLength(curve: CurveName): number {
  return 2 * curveInfo(curve).size + 1;
}

export interface EcKeyPair {
  readonly curve: CurveName;
  /** Scalar d, `size` bytes. */
  readonly privateKey: Uint8Array;
  /** '04' ‖ X ‖ Y. */
  readonly publicKey: Uint8Array;
}

export interface EcPublicKey {
  readonly curve: CurveName;
  readonly point: Uint8Array;
}

/**
 * A fresh key pair. With `random`, d is drawn from it (retrying out-of-range values) so that a test can
 * replay a transcript; without, OpenSSL's generator is used.
 */
export function generateKeyPair(curve: CurveName, random?: RandomSource): EcKeyPair {
  const info = curveInfo(curve);
  const ecdh = createECDH(info.openssl);
  if (random === undefined) {
    ecdh.generateKeys();
    // OpenSSL gives d without its leading zero bytes (1 time in 256 a byte shorter): keep the curve's size.
    const raw = ecdh.getPrivateKey();
    const privateKey = new Uint8Array(info.size);
    privateKey.set(raw, info.size - raw.length);
    raw.fill(0);
    return Object.freeze({ curve, privateKey, publicKey: Uint8Array.from(ecdh.getPublicKey()) });
  }
  for (let attempt = 0; attempt < 64; attempt++) {
    const d = random(info.size);
    if (info.size === 66) d[0]! &= 0x01;
    try {
      ecdh.setPrivateKey(d);
      return Object.freeze({ curve, privateKey: d.slice(), publicKey: Uint8Array.from(ecdh.getPublicKey()) });
    } catch {
      // d = 0 or d ≥ n: draw again.
    }
  }
  throw new RangeError('generateKeyPair: the random source gave no valid private key in 64 draws');
}

/** Public key of a private scalar; RangeError when d is not a valid scalar. */
export function publicKeyOf(curve: CurveName, privateKey: Uint8Array): Uint8Array {
  const ecdh = createECDH(curveInfo(curve).openssl);
  try {
    ecdh.setPrivateKey(privateKey);
  } catch (e) {
    throw new RangeError(`not a valid ${curve} private key`, { cause: e });
  }
  return Uint8Array.from(ecdh.getPublicKey());
}

function derLength(n: number): Uint8Array {
  if (n < 0x80) return Uint8Array.of(n);
  if (n <= 0xff) return Uint8Array.of(0x81, n);
  return Uint8Array.of(0x82, n >> 8, n & 0xff);
}

function der(tag: number, ...parts: Uint8Array[]): Uint8Array {
  const body = concat(...parts);
  return concat(Uint8Array.of(tag), derLength(body.length), body);
}

function spki(curve: CurveName, point: Uint8Array): Uint8Array {
  const info = curveInfo(curve);
  return der(0x30, der(0x30, EC_PUBLIC_KEY_OID, info.oid), der(0x03, Uint8Array.of(0), point));
}

function privateKeyObject(curve: CurveName, d: Uint8Array): KeyObject {
  const info = curveInfo(curve);
  const sec1 = der(0x30, Uint8Array.of(0x02, 0x01, 0x01), der(0x04, d), der(0xa0, info.oid), der(0xa1, der(0x03, Uint8Array.of(0), publicKeyOf(curve, d))));
  return createPrivateKey({ key: Buffer.from(sec1), format: 'der', type: 'sec1' });
}

/**
 * Is `point` an uncompressed point of the curve's length that lies on the curve (TR-03111 public key
 * validation: OpenSSL checks the point equation; the curves here have cofactor 1)?
 */
export function isValidPublicKey(curve: CurveName, point: Uint8Array): boolean {
  if (!(point instanceof Uint8Array) || point.length !== pointLength(curve) || point[0] !== 0x04) return false;
  try {
    createPublicKey({ key: Buffer.from(spki(curve, point)), format: 'der', type: 'spki' });
    const probe = createECDH(curveInfo(curve).openssl);
    probe.generateKeys();
    probe.computeSecret(point);
    return true;
  } catch {
    return false;
  }
}

/**
 * ECKA (TR-03111 §4.3.1): the x-coordinate of d × Q, `size` bytes. The caller validates Q first
 * (`isValidPublicKey`); an invalid point is a caller's mistake here (RangeError).
 */
export function ecka(curve: CurveName, privateKey: Uint8Array, peerPublicKey: Uint8Array): Uint8Array {
  const ecdh = createECDH(curveInfo(curve).openssl);
  ecdh.setPrivateKey(privateKey);
  try {
    return Uint8Array.from(ecdh.computeSecret(peerPublicKey));
  } catch (e) {
    throw new RangeError(`ecka: peer public key is not a point of ${curve}`, { cause: e });
  }
}

/** ECDSA signature r ‖ s (TR-03111 plain format) with the curve's hash. */
export function ecdsaSign(curve: CurveName, privateKey: Uint8Array, data: Uint8Array): Uint8Array {
  const key = privateKeyObject(curve, privateKey);
  return Uint8Array.from(sign(curveInfo(curve).ecdsaHash, data, { key, dsaEncoding: 'ieee-p1363' }));
}

/** Verify an r ‖ s ECDSA signature; false for any malformed key or signature. */
export function ecdsaVerify(curve: CurveName, publicKey: Uint8Array, data: Uint8Array, signature: Uint8Array): boolean {
  const info = curveInfo(curve);
  if (signature.length !== 2 * info.size || publicKey.length !== pointLength(curve) || publicKey[0] !== 0x04) return false;
  try {
    const key = createPublicKey({ key: Buffer.from(spki(curve, publicKey)), format: 'der', type: 'spki' });
    return verify(info.ecdsaHash, data, { key, dsaEncoding: 'ieee-p1363' }, signature);
  } catch {
    return false;
  }
}
