/**
 * Triple DES (two- and three-key) in ECB and CBC, single DES derived from it (K1=K2=K3),
 * and the ISO/IEC 9797-1 MAC algorithms that SCP02 uses:
 *  - MAC algorithm 1 with 3DES ("full triple-DES MAC", the SCP02 card cryptogram)
 *  - MAC algorithm 3 ("retail MAC": single-DES CBC, 3DES on the last block; SCP02 C-MAC / R-MAC).
 * OpenSSL 3 keeps single DES in its legacy provider, so single DES is expressed as 3DES with equal keys.
 */
import { createCipheriv, createDecipheriv } from 'node:crypto';
import { padIso9797M2 } from './padding.ts';

const ZERO_IV = new Uint8Array(8);

/** Expand a 16-byte (K1|K2) key to 24 bytes (K1|K2|K1); 24-byte keys are returned as they are. */
export function expand3desKey(key: Uint8Array): Uint8Array {
  if (key.length === 24) return key;
  if (key.length === 16) {
    const k = new Uint8Array(24);
    k.set(key);
    k.set(key.subarray(0, 8), 16);
    return k;
  }
  if (key.length === 8) {
    const k = new Uint8Array(24);
    k.set(key);
    k.set(key, 8);
    k.set(key, 16);
    return k;
  }
  throw new RangeError(`DES key must be 8, 16 or 24 bytes, got ${key.length}`);
}

function checkBlocks(data: Uint8Array): void {
  if (data.length % 8 !== 0) throw new RangeError(`DES input must be a multiple of 8 bytes, got ${data.length}`);
}

function run(
  decrypt: boolean,
  mode: 'ecb' | 'cbc',
  key: Uint8Array,
  data: Uint8Array,
  iv: Uint8Array | null,
): Uint8Array {
  checkBlocks(data);
  const k = expand3desKey(key);
  const name = mode === 'ecb' ? 'des-ede3' : 'des-ede3-cbc';
  const c = decrypt ? createDecipheriv(name, k, iv) : createCipheriv(name, k, iv);
  c.setAutoPadding(false);
  const a = c.update(data);
  const b = c.final();
  if (k !== key) k.fill(0);
  return Uint8Array.from(b.length === 0 ? a : Buffer.concat([a, b]));
}

/** 3DES (or single DES with an 8-byte key) ECB encryption, no padding. */
export function desEcbEncrypt(key: Uint8Array, data: Uint8Array): Uint8Array {
  return run(false, 'ecb', key, data, null);
}
export function desEcbDecrypt(key: Uint8Array, data: Uint8Array): Uint8Array {
  return run(true, 'ecb', key, data, null);
}
/** 3DES (or single DES with an 8-byte key) CBC encryption, no padding. */
export function desCbcEncrypt(key: Uint8Array, data: Uint8Array, iv: Uint8Array = ZERO_IV): Uint8Array {
  return run(false, 'cbc', key, data, iv);
}
export function desCbcDecrypt(key: Uint8Array, data: Uint8Array, iv: Uint8Array = ZERO_IV): Uint8Array {
  return run(true, 'cbc', key, data, iv);
}

/** ISO 9797-1 MAC algorithm 1 with 3DES over method-2 padded data: last block of 3DES-CBC. */
export function fullTripleDesMac(key: Uint8Array, data: Uint8Array, iv: Uint8Array = ZERO_IV): Uint8Array {
  const c = desCbcEncrypt(key, padIso9797M2(data, 8), iv);
  return c.slice(c.length - 8);
}

/**
 * ISO 9797-1 MAC algorithm 3 (retail MAC) over method-2 padded data:
 * single-DES CBC with K1 over all blocks, then decrypt with K2 and encrypt with K1 on the last one.
 */
export function retailMac(key: Uint8Array, data: Uint8Array, iv: Uint8Array = ZERO_IV): Uint8Array {
  if (key.length !== 16) throw new RangeError(`retail MAC key must be 16 bytes, got ${key.length}`);
  const padded = padIso9797M2(data, 8);
  const k1 = key.subarray(0, 8);
  const k2 = key.subarray(8, 16);
  const cbc = desCbcEncrypt(k1, padded, iv);
  const last = cbc.slice(cbc.length - 8);
  return desEcbEncrypt(k1, desEcbDecrypt(k2, last));
}
