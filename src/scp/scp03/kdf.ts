/**
 * SCP03 data derivation (Amendment D v1.2 §4.1.5): NIST SP 800-108 KDF in counter mode with AES-CMAC,
 * fixed input = label (11 × '00' ‖ derivation constant) ‖ '00' ‖ L (2 bytes, bits) ‖ i (counter) ‖ context.
 * Session keys: §6.2.1 (Table 6-2). Pseudo-random card challenge: §6.2.2.1.
 */
import { assertBytes } from '../../core/bytes.ts';
import { sp800108CounterCmac } from '../../crypto/kdf.ts';
import type { StaticKeys } from '../keys.ts';

/** Table 4-1: data derivation constants. */
export const DerivationConstant = Object.freeze({
  CARD_CRYPTOGRAM: 0x00,
  HOST_CRYPTOGRAM: 0x01,
  CARD_CHALLENGE: 0x02,
  S_ENC: 0x04,
  S_MAC: 0x06,
  S_RMAC: 0x07,
} as const);

/** Derive `lengthBits` bits (64, 128, 192 or 256) from `key` with a derivation constant and a context. */
export function deriveData(key: Uint8Array, constant: number, lengthBits: number, context: Uint8Array): Uint8Array {
  if (lengthBits % 8 !== 0 || lengthBits <= 0 || lengthBits > 0xffff) throw new RangeError(`bad derived length ${lengthBits}`);
  const before = new Uint8Array(15);
  before[11] = constant;
  // before[12] is the separation indicator '00'.
  before[13] = lengthBits >> 8;
  before[14] = lengthBits & 0xff;
  return sp800108CounterCmac(key, { before, after: context, length: lengthBits / 8 });
}

/** SCP03 session keys. S-RMAC is derived whether or not "i" announces R-MAC support (it is simply unused then). */
export interface Scp03SessionKeys {
  readonly sEnc: Uint8Array;
  readonly sMac: Uint8Array;
  readonly sRmac: Uint8Array;
}

/**
 * §6.2.1: S-ENC from Key-ENC (constant 04), S-MAC (06) and S-RMAC (07) from Key-MAC; L is the static key
 * length; the context is host challenge ‖ card challenge.
 */
export function deriveSessionKeys(keys: StaticKeys, context: Uint8Array): Scp03SessionKeys {
  const bits = keys.enc.length * 8;
  return Object.freeze({
    sEnc: deriveData(keys.enc, DerivationConstant.S_ENC, bits, context),
    sMac: deriveData(keys.mac, DerivationConstant.S_MAC, keys.mac.length * 8, context),
    sRmac: deriveData(keys.mac, DerivationConstant.S_RMAC, keys.mac.length * 8, context),
  });
}

/**
 * §6.2.2.1: pseudo-random card challenge = KDF(Key-ENC, constant 02, L = 64 or 128 bits,
 * context = sequence counter (3 bytes) ‖ AID of the application invoking the SecureChannel interface).
 */
export function pseudoRandomCardChallenge(keyEnc: Uint8Array, sequenceCounter: Uint8Array, aid: Uint8Array, s16: boolean): Uint8Array {
  assertBytes(sequenceCounter, 3, 'sequenceCounter');
  assertBytes(aid, { min: 5, max: 16 }, 'aid');
  const context = new Uint8Array(3 + aid.length);
  context.set(sequenceCounter);
  context.set(aid, 3);
  return deriveData(keyEnc, DerivationConstant.CARD_CHALLENGE, s16 ? 128 : 64, context);
}

/** The 3-byte big-endian sequence counter. */
export function sequenceCounterBytes(n: number): Uint8Array {
  if (!Number.isInteger(n) || n < 0 || n > 0xffffff) throw new RangeError(`SCP03 sequence counter ${n} out of range`);
  return Uint8Array.of(n >> 16, (n >> 8) & 0xff, n & 0xff);
}
