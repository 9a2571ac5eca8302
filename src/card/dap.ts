/**
 * Load File Data Block Hash and DAP verification (GPCS 2.3.1 Appendix C.2 and C.3; signature schemes B.1.2.2
 * and B.2.2).
 *
 * Hash: by length — 20 bytes SHA-1, 32 SHA-256, 48 SHA-384, 64 SHA-512 (Table C-3; the OPEN may detect the
 * algorithm from the length).
 * DAP: the signature of the hash with the Security Domain's DAP key. Symmetric schemes are implemented:
 *   DES key (type 80): full triple-DES MAC (ISO 9797-1 MAC algorithm 1, CBC, zero ICV) over the hash padded
 *     with ISO 9797-1 method 2 (B.1.3) — 8 bytes;
 *   AES key (type 88): AES-CMAC (SP 800-38B) over the hash — 16 bytes.
 * The DAP key is the SD key with key usage 'DAP' ('84', §11.1.9) or, failing that, KVN '73' KID '01'.
 */
import { createHash } from 'node:crypto';
import { equalConstantTime, fromHex } from '../core/bytes.ts';
import { aesCmac, fullTripleDesMac } from '../crypto/index.ts';
import type { KeyRecord, SdRecord } from './state.ts';

/** KVN / KID where a DAP key is looked for when no key carries the DAP usage. */
export const DAP_KVN = 0x73;
export const DAP_KID = 0x01;

const HASHES: Record<number, string> = { 20: 'sha1', 32: 'sha256', 48: 'sha384', 64: 'sha512' };

/** Compute the Load File Data Block Hash of the algorithm that gives `length` bytes. */
export function loadFileDataBlockHash(block: Uint8Array, length: number): Uint8Array {
  const alg = HASHES[length];
  if (!alg) throw new RangeError(`no hash algorithm of ${length} bytes`);
  return Uint8Array.from(createHash(alg).update(block).digest());
}

export function dapKey(sd: SdRecord): KeyRecord | undefined {
  return sd.keys.find((k) => k.usage === 0x84) ?? sd.keys.find((k) => k.kvn === DAP_KVN && k.kid === DAP_KID);
}

/** Compute a DAP signature (host side and tests). */
export function computeDap(key: { type: number; value: Uint8Array }, hash: Uint8Array): Uint8Array {
  if (key.type === 0x80) return fullTripleDesMac(key.value, hash); // pads with ISO 9797-1 method 2 itself
  if (key.type === 0x88) return aesCmac(key.value, hash);
  throw new RangeError(`DAP with key type ${key.type.toString(16)} is not supported`);
}

/** Verify a DAP signature in constant time; false when the SD has no usable DAP key. */
export function verifyDap(sd: SdRecord, hash: Uint8Array, signature: Uint8Array): boolean {
  const k = dapKey(sd);
  if (!k) return false;
  let expected: Uint8Array;
  try {
    expected = computeDap({ type: k.type, value: fromHex(k.value) }, hash);
  } catch {
    return false;
  }
  return equalConstantTime(expected, signature);
}
