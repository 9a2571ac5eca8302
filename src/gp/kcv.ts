/**
 * Key check values (GP Card Specification 2.3.1 Appendix B.6; GP Amendment D §… for AES):
 * DES/3DES: the first 3 bytes of 3DES-ECB over eight '00' bytes;
 * AES: the first 3 bytes of AES-ECB over sixteen '01' bytes.
 */
import { aesEcbEncrypt, desEcbEncrypt } from '../crypto/index.ts';
import { KeyType } from './keys.ts';

/** Length of the KCVs GlobalPlatform uses. */
export const KCV_LENGTH = 3;

/** KCV of a (triple-)DES key (8, 16 or 24 bytes). */
export function kcvDes(key: Uint8Array): Uint8Array {
  return desEcbEncrypt(key, new Uint8Array(8)).slice(0, KCV_LENGTH);
}

/** KCV of an AES key (16, 24 or 32 bytes). */
export function kcvAes(key: Uint8Array): Uint8Array {
  return aesEcbEncrypt(key, new Uint8Array(16).fill(0x01)).slice(0, KCV_LENGTH);
}

/** KCV for a key type: DES (0x80) and AES (0x88); other types have no KCV (empty result). */
export function kcvFor(type: number, key: Uint8Array): Uint8Array {
  if (type === KeyType.DES) return kcvDes(key);
  if (type === KeyType.AES) return kcvAes(key);
  return new Uint8Array(0);
}
