/**
 * NIST SP 800-108 key derivation in counter mode with AES-CMAC as PRF.
 * The caller builds the fixed input data (label, separator, L, context) — SCP03 puts the
 * counter after the label (GP Amendment D §4.1.5), so the counter position is a parameter.
 */
import { aesCmac } from './aes.ts';
import { concat } from '../core/bytes.ts';

export interface Sp800108Input {
  /** Fixed input data before the counter byte. */
  readonly before: Uint8Array;
  /** Fixed input data after the counter byte. */
  readonly after: Uint8Array;
  /** Output length in bytes. */
  readonly length: number;
}

/** Counter mode, one-byte counter starting at 1, PRF = AES-CMAC(key). */
export function sp800108CounterCmac(key: Uint8Array, input: Sp800108Input): Uint8Array {
  const blocks = Math.ceil(input.length / 16);
  if (blocks > 255) throw new RangeError('sp800108: output too long');
  const out = new Uint8Array(blocks * 16);
  for (let i = 1; i <= blocks; i++) {
    out.set(aesCmac(key, concat(input.before, Uint8Array.of(i), input.after)), (i - 1) * 16);
  }
  return out.slice(0, input.length);
}
