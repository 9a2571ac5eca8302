/**
 * CA key material: generation per kind (SCP11: ECDSA on P-256 or P-384, Amendment F §6.1; SCP10: RSA-2048 or
 * RSA-1024, GPCS 2.2.1 Appendix F), the CA's self-signed certificate, and the private key sealed by the
 * keystore (context `ca-private-key:<caId>`) — the only form in which it is stored. `withPrivateKey` unseals it
 * for one signature and wipes the scratch copy afterwards.
 */
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { toHex, zeroize } from '../../core/bytes.ts';
import type { RandomSource } from '../../crypto/random.ts';
import { bcdDate, KEY_USAGE_SIGNATURE, signCertificate, today } from '../../scp/scp11/certificate.ts';
import { generateKeyPair, type CurveName } from '../../crypto/index.ts';
import { issueCertificate } from '../../scp/scp10/certificate.ts';
import { rsaPublicNumbers } from '../../crypto/index.ts';
import type { Sealer } from '../common/deps.ts';

export type CaKind = 'scp11' | 'scp10';
export type CaAlgorithm = 'P-256' | 'P-384' | 'RSA-2048' | 'RSA-1024';

export const DEFAULT_ALGORITHM: Readonly<Record<CaKind, CaAlgorithm>> = Object.freeze({ scp11: 'P-256', scp10: 'RSA-2048' });
export const ALGORITHMS: Readonly<Record<CaKind, readonly CaAlgorithm[]>> = Object.freeze({ scp11: ['P-256', 'P-384'], scp10: ['RSA-2048', 'RSA-1024'] });

/** Validity of a CA's own certificate (SCP11 '5F24'). */
const CA_VALIDITY_YEARS = 20;

export interface GeneratedCa {
  /** SCP11: uncompressed point; SCP10: SubjectPublicKeyInfo DER. */
  readonly publicKey: Uint8Array;
  /** Self-signed: GP '7F21' (key usage '82') for SCP11, the SCP10 '7F21' format (PKCS#1) for SCP10. */
  readonly certificate: Uint8Array;
  /** SCP11: the scalar d; SCP10: PKCS#8 DER. Wipe after sealing. */
  readonly privateKey: Uint8Array;
}

export function curveOf(algorithm: CaAlgorithm): CurveName {
  if (algorithm !== 'P-256' && algorithm !== 'P-384') throw new TypeError(`${algorithm} is not an elliptic curve`);
  return algorithm;
}

export function rsaBitsOf(algorithm: CaAlgorithm): number {
  if (algorithm === 'RSA-2048') return 2048;
  if (algorithm === 'RSA-1024') return 1024;
  throw new TypeError(`${algorithm} is not RSA`);
}

/** A fresh CA key pair and its self-signed certificate. `caIdBytes` is the CA identifier (8 bytes). */
export function generateCa(kind: CaKind, algorithm: CaAlgorithm, caIdBytes: Uint8Array, now: Date, random?: RandomSource): GeneratedCa {
  if (kind === 'scp11') {
    const curve = curveOf(algorithm);
    const pair = generateKeyPair(curve, random);
    const start = today(now);
    const end = String(Number(start.slice(0, 4)) + CA_VALIDITY_YEARS) + start.slice(4);
    const cert = signCertificate(
      {
        serialNumber: caIdBytes,
        caId: caIdBytes,
        subjectId: caIdBytes,
        keyUsage: KEY_USAGE_SIGNATURE,
        effectiveDate: bcdDate(start),
        expirationDate: bcdDate(fixLeapDay(end)),
        publicKey: { curve, point: pair.publicKey },
      },
      { curve, privateKey: pair.privateKey },
    );
    return { publicKey: pair.publicKey, certificate: cert.encoded, privateKey: pair.privateKey };
  }
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: rsaBitsOf(algorithm), publicExponent: 0x10001 });
  const certificate = issueCertificate({ issuerId: caIdBytes, subjectId: caIdBytes, subjectKey: publicKey, scheme: 'pkcs1' }, privateKey);
  return {
    publicKey: new Uint8Array(publicKey.export({ format: 'der', type: 'spki' })),
    certificate,
    privateKey: new Uint8Array(privateKey.export({ format: 'der', type: 'pkcs8' })),
  };
}

/** 29 February of a year that has none becomes 28 February. */
function fixLeapDay(ymd: string): string {
  if (ymd.slice(4) !== '0229') return ymd;
  const y = Number(ymd.slice(0, 4));
  const leap = (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
  return leap ? ymd : `${ymd.slice(0, 4)}0228`;
}

export const sealContext = (caId: string): string => `ca-private-key:${caId}`;

export async function sealPrivateKey(sealer: Sealer, caId: string, privateKey: Uint8Array): Promise<Uint8Array> {
  return sealer.wrap(privateKey, sealContext(caId));
}

/** Unseal the CA private key, run `fn` with it, wipe the plaintext. */
export async function withPrivateKey<T>(sealer: Sealer, caId: string, sealed: Uint8Array, fn: (privateKey: Uint8Array) => T): Promise<T> {
  const plain = await sealer.unwrap(sealed, sealContext(caId));
  try {
    return fn(plain);
  } finally {
    zeroize(plain);
  }
}

export function rsaPrivateKeyObject(pkcs8: Uint8Array): KeyObject {
  return createPrivateKey({ key: Buffer.from(pkcs8), format: 'der', type: 'pkcs8' });
}

export function rsaPublicKeyObject(spki: Uint8Array): KeyObject {
  return createPublicKey({ key: Buffer.from(spki), format: 'der', type: 'spki' });
}

/** SHA-256 (upper-case hex) of a public key's canonical bytes (services/common/fingerprint.ts). */
export { publicKeyFingerprint } from '../common/fingerprint.ts';

export function sha256Hex(bytes: Uint8Array): string {
  return toHex(new Uint8Array(createHash('sha256').update(bytes).digest()));
}

/** Modulus and exponent of a CA's SCP10 public key (SPKI DER). */
export function rsaNumbersOf(spki: Uint8Array): { modulus: Uint8Array; exponent: Uint8Array } {
  return rsaPublicNumbers(rsaPublicKeyObject(spki));
}
