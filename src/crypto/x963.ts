/**
 * ANSI X9.63 key derivation function (ANSI X9.63-2011 §5.6.3; BSI TR-03111 §4.3.3), on node:crypto hashes:
 * KeyData = H(Z ‖ 00000001 ‖ SharedInfo) ‖ H(Z ‖ 00000002 ‖ SharedInfo) ‖ …, cut to the wanted length.
 * Used by SCP11 (GP Amendment F v1.4 §3.1.2) and by anything else that derives keys from an ECKA secret.
 */
import { createHash } from 'node:crypto';

export type KdfHash = 'sha256' | 'sha384' | 'sha512';

/** ANSI X9.63 KDF: `length` bytes from shared secret `z` and `sharedInfo`. */
export function x963Kdf(z: Uint8Array, sharedInfo: Uint8Array, length: number, hash: KdfHash = 'sha256'): Uint8Array {
  if (!Number.isInteger(length) || length < 0 || length > 0xffff) throw new RangeError(`x963Kdf: bad output length ${length}`);
  const out = new Uint8Array(length);
  const counter = new Uint8Array(4);
  let o = 0;
  for (let i = 1; o < length; i++) {
    counter[0] = i >>> 24;
    counter[1] = (i >>> 16) & 0xff;
    counter[2] = (i >>> 8) & 0xff;
    counter[3] = i & 0xff;
    const block = createHash(hash).update(z).update(counter).update(sharedInfo).digest();
    out.set(block.subarray(0, Math.min(block.length, length - o)), o);
    block.fill(0);
    o += block.length;
  }
  return out;
}
