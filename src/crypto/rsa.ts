/**
 * RSA primitives (used by SCP10, GPCS 2.2.1 Appendix F.2.1, F.1.4.3, F.1.4.4, and the CA), on node:crypto.
 *  - "signing means the deciphering of a signature block using the signer's private RSA key" (F.2.1): raw RSA.
 *  - Signature with message recovery: ISO/IEC 9796-2 digital signature scheme 1, block
 *    '6A' ‖ recoverable part ‖ SHA-1 ‖ 'BC' (Tables F-6, F-10); the signer sends min(s, n − s).
 *  - Signature without recovery: RSASSA-PKCS1-v1_5 with SHA-1 (F.2.1, F.2.2; Tables F-4, F-8).
 *  - Key transport encryption: RSAES-PKCS1-v1_5 (F.2.1). The card decrypts with raw RSA and checks the
 *    '00 02 PS 00' structure itself, so a bad padding is a clear refusal (Node's implicit rejection is not used).
 */
import { constants, createHash, createPublicKey, privateDecrypt, privateEncrypt, publicDecrypt, publicEncrypt, sign, verify, type KeyObject } from 'node:crypto';
import { concat, equalConstantTime } from '../core/bytes.ts';

export function sha1(...parts: Uint8Array[]): Uint8Array {
  const h = createHash('sha1');
  for (const p of parts) h.update(p);
  return new Uint8Array(h.digest());
}

/** Modulus and public exponent of an RSA key, big-endian, no leading zero. */
export function rsaPublicNumbers(key: KeyObject): { modulus: Uint8Array; exponent: Uint8Array } {
  const jwk = (key.type === 'private' ? createPublicKey(key) : key).export({ format: 'jwk' });
  if (jwk.kty !== 'RSA' || typeof jwk.n !== 'string' || typeof jwk.e !== 'string') throw new TypeError('not an RSA key');
  return { modulus: new Uint8Array(Buffer.from(jwk.n, 'base64url')), exponent: new Uint8Array(Buffer.from(jwk.e, 'base64url')) };
}

/** RSA public key from modulus and exponent; throws TypeError when they do not form one. */
export function rsaPublicKey(modulus: Uint8Array, exponent: Uint8Array): KeyObject {
  return createPublicKey({ key: { kty: 'RSA', n: Buffer.from(modulus).toString('base64url'), e: Buffer.from(exponent).toString('base64url') }, format: 'jwk' });
}

/** Modulus length in bytes. */
export function modulusLength(key: KeyObject): number {
  const bits = key.asymmetricKeyDetails?.modulusLength;
  if (key.asymmetricKeyType !== 'rsa' || bits === undefined) throw new TypeError('not an RSA key');
  return Math.ceil(bits / 8);
}

const toBig = (b: Uint8Array): bigint => (b.length === 0 ? 0n : BigInt('0x' + Buffer.from(b).toString('hex')));
function fromBig(n: bigint, length: number): Uint8Array {
  const hex = n.toString(16).padStart(length * 2, '0');
  if (hex.length > length * 2) throw new RangeError('integer too large');
  return new Uint8Array(Buffer.from(hex, 'hex'));
}

function rawPrivate(key: KeyObject, x: Uint8Array): Uint8Array {
  return new Uint8Array(privateDecrypt({ key, padding: constants.RSA_NO_PADDING }, x));
}
function rawPublic(key: KeyObject, x: Uint8Array): Uint8Array {
  return new Uint8Array(publicEncrypt({ key, padding: constants.RSA_NO_PADDING }, x));
}

/**
 * ISO 9796-2 scheme 1 signature (partial recovery, SHA-1): block = '6A' ‖ m1 ‖ SHA-1(m1 ‖ m2) ‖ 'BC', with
 * m1 exactly k − 22 bytes; returns min(s, n − s) on k bytes.
 */
export function sign9796(privateKey: KeyObject, m1: Uint8Array, m2: Uint8Array): Uint8Array {
  const k = modulusLength(privateKey);
  if (m1.length !== k - 22) throw new RangeError(`recoverable part must be ${k - 22} bytes, got ${m1.length}`);
  const block = concat(Uint8Array.of(0x6a), m1, sha1(m1, m2), Uint8Array.of(0xbc));
  const s = toBig(rawPrivate(privateKey, block));
  const n = toBig(rsaPublicNumbers(privateKey).modulus);
  return fromBig(s < n - s ? s : n - s, k);
}

/** Verify an ISO 9796-2 scheme 1 signature and return the recovered m1, or `null`. */
export function recover9796(publicKey: KeyObject, signature: Uint8Array, m2: Uint8Array): Uint8Array | null {
  const k = modulusLength(publicKey);
  if (signature.length !== k) return null;
  const n = toBig(rsaPublicNumbers(publicKey).modulus);
  const s = toBig(signature);
  if (s === 0n || s > n / 2n) return null;
  let m = toBig(rawPublic(publicKey, signature));
  if ((m & 0xffn) !== 0xbcn) m = n - m;
  const block = fromBig(m, k);
  if (block[0] !== 0x6a || block[k - 1] !== 0xbc) return null;
  const m1 = block.slice(1, k - 21);
  return equalConstantTime(sha1(m1, m2), block.subarray(k - 21, k - 1)) ? m1 : null;
}

/** Raw RSA encryption of a value smaller than the modulus (used to hide an ISO 9796-2 signature, F.1.4.3). */
export function encryptRaw(publicKey: KeyObject, value: Uint8Array): Uint8Array {
  const k = modulusLength(publicKey);
  if (value.length !== k) throw new RangeError(`value must be ${k} bytes`);
  return rawPublic(publicKey, value);
}

/** Raw RSA decryption; `null` when the input is not k bytes or not below the modulus. */
export function decryptRaw(privateKey: KeyObject, value: Uint8Array): Uint8Array | null {
  const k = modulusLength(privateKey);
  if (value.length !== k) return null;
  if (toBig(value) >= toBig(rsaPublicNumbers(privateKey).modulus)) return null;
  return rawPrivate(privateKey, value);
}

/** RSASSA-PKCS1-v1_5 with SHA-1. */
export function signPkcs1(privateKey: KeyObject, data: Uint8Array): Uint8Array {
  return new Uint8Array(sign('sha1', data, { key: privateKey, padding: constants.RSA_PKCS1_PADDING }));
}
export function verifyPkcs1(publicKey: KeyObject, data: Uint8Array, signature: Uint8Array): boolean {
  if (signature.length !== modulusLength(publicKey)) return false;
  return verify('sha1', data, { key: publicKey, padding: constants.RSA_PKCS1_PADDING }, signature);
}

/** RSAES-PKCS1-v1_5 encryption (host side of PERFORM SECURITY OPERATION [decipher]). */
export function encryptPkcs1(publicKey: KeyObject, message: Uint8Array): Uint8Array {
  if (message.length > modulusLength(publicKey) - 11) throw new RangeError(`message of ${message.length} bytes is too long for the key`);
  return new Uint8Array(publicEncrypt({ key: publicKey, padding: constants.RSA_PKCS1_PADDING }, message));
}

/** RSAES-PKCS1-v1_5 decryption: raw RSA, then '00 02' ‖ ≥ 8 non-zero bytes ‖ '00' ‖ M; `null` on any error. */
export function decryptPkcs1(privateKey: KeyObject, cryptogram: Uint8Array): Uint8Array | null {
  const em = decryptRaw(privateKey, cryptogram);
  if (em === null) return null;
  if (em[0] !== 0x00 || em[1] !== 0x02) return null;
  let i = 2;
  while (i < em.length && em[i] !== 0x00) i++;
  if (i >= em.length || i - 2 < 8) return null;
  return em.slice(i + 1);
}

/** Decrypt (own private key) then verify/recover (signer's public key): F.1.4.3 / F.1.4.4 key agreement. */
export function openEncryptedSignature(ownPrivate: KeyObject, signerPublic: KeyObject, data: Uint8Array, m2: Uint8Array): Uint8Array | null {
  if (modulusLength(ownPrivate) !== modulusLength(signerPublic)) return null;
  const s = decryptRaw(ownPrivate, data);
  return s === null ? null : recover9796(signerPublic, s, m2);
}

/** Sign (own private key) then encrypt (recipient's public key); the moduli must have the same length (F.1.4.3 note). */
export function sealSignature(ownPrivate: KeyObject, recipientPublic: KeyObject, m1: Uint8Array, m2: Uint8Array): Uint8Array {
  if (modulusLength(ownPrivate) !== modulusLength(recipientPublic)) {
    throw new RangeError('SCP10 key agreement needs the Security Domain and Off-Card Entity moduli of the same length');
  }
  return encryptRaw(recipientPublic, sign9796(ownPrivate, m1, m2));
}
