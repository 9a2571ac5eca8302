/**
 * SCP02 session keys (GPCS 2.2.1 Appendix E.4.1, Figure E-2): 3DES-CBC, zero ICV, of
 * constant (2 bytes) ‖ sequence counter (2 bytes) ‖ 12 × '00' under the static key:
 * C-MAC '0101' and R-MAC '0102' from Key-MAC, S-ENC '0182' from Key-ENC, DEK '0181' from Key-DEK — or, with
 * one Secure Channel base key ("i" b1 = 0, E.2 Table E-2), all four from that base key. The base key of a key
 * set is its first key (key identifier 01, held as `keys.enc`).
 */
import { assertBytes } from '../../core/bytes.ts';
import { desCbcEncrypt } from '../../crypto/des.ts';
import type { StaticKeys } from '../keys.ts';

export const DerivationConstant = Object.freeze({
  C_MAC: 0x0101,
  R_MAC: 0x0102,
  ENC: 0x0182,
  DEK: 0x0181,
} as const);

export interface Scp02SessionKeys {
  readonly enc: Uint8Array;
  readonly cmac: Uint8Array;
  readonly rmac: Uint8Array;
  readonly dek: Uint8Array;
}

/** One session key from a 16-byte static key. */
export function deriveSessionKey(staticKey: Uint8Array, constant: number, sequenceCounter: Uint8Array): Uint8Array {
  assertBytes(staticKey, 16, 'staticKey');
  assertBytes(sequenceCounter, 2, 'sequenceCounter');
  const block = new Uint8Array(16);
  block[0] = constant >> 8;
  block[1] = constant & 0xff;
  block.set(sequenceCounter, 2);
  return desCbcEncrypt(staticKey, block);
}

/** True when "i" names one Secure Channel base key (b1 = 0, Table E-1). */
export function usesOneBaseKey(i: number): boolean {
  return (i & 0x01) === 0;
}

/**
 * All four session keys for a 2-byte sequence counter (E.4.1): from the three Secure Channel keys
 * ("i" b1 = 1, the default) or from the one base key `keys.enc` ("i" b1 = 0).
 */
export function deriveSessionKeys(keys: StaticKeys, sequenceCounter: Uint8Array, i = 0x55): Scp02SessionKeys {
  const one = usesOneBaseKey(i);
  return Object.freeze({
    enc: deriveSessionKey(keys.enc, DerivationConstant.ENC, sequenceCounter),
    cmac: deriveSessionKey(one ? keys.enc : keys.mac, DerivationConstant.C_MAC, sequenceCounter),
    rmac: deriveSessionKey(one ? keys.enc : keys.mac, DerivationConstant.R_MAC, sequenceCounter),
    dek: deriveSessionKey(one ? keys.enc : keys.dek, DerivationConstant.DEK, sequenceCounter),
  });
}

/** The 2-byte big-endian sequence counter. */
export function sequenceCounterBytes(n: number): Uint8Array {
  if (!Number.isInteger(n) || n < 0 || n > 0xffff) throw new RangeError(`SCP02 sequence counter ${n} out of range`);
  return Uint8Array.of(n >> 8, n & 0xff);
}
