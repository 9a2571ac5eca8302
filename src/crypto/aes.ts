/**
 * AES in ECB and CBC (no padding) and AES-CMAC (NIST SP 800-38B, RFC 4493), on node:crypto.
 */
import { createCipheriv, createDecipheriv, createSecretKey, type KeyObject } from 'node:crypto';

const ZERO_IV = new Uint8Array(16);

/**
 * Prepared key objects for the key arrays in use (a session key is used for every command of a session;
 * preparing it once costs a fifth of passing raw bytes each time). The entry holds a copy of the bytes and
 * is used only while the array still holds them, so a zeroized or rewritten array never maps to an old key;
 * it goes away with the array.
 */
const prepared = new WeakMap<Uint8Array, { readonly bytes: Uint8Array; readonly key: KeyObject }>();

function keyObject(key: Uint8Array): KeyObject {
  const hit = prepared.get(key);
  if (hit !== undefined && hit.bytes.length === key.length && hit.bytes.every((b, i) => b === key[i])) return hit.key;
  const entry = { bytes: key.slice(), key: createSecretKey(key) };
  prepared.set(key, entry);
  return entry.key;
}

function algorithm(mode: 'ecb' | 'cbc', key: Uint8Array): string {
  if (key.length !== 16 && key.length !== 24 && key.length !== 32) {
    throw new RangeError(`AES key must be 16, 24 or 32 bytes, got ${key.length}`);
  }
  return `aes-${key.length * 8}-${mode}`;
}

function checkBlocks(data: Uint8Array): void {
  if (data.length % 16 !== 0) throw new RangeError(`AES input must be a multiple of 16 bytes, got ${data.length}`);
}

function run(cipher: ReturnType<typeof createCipheriv>, data: Uint8Array): Uint8Array {
  cipher.setAutoPadding(false);
  const a = cipher.update(data);
  const b = cipher.final();
  if (b.length === 0) return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  return Uint8Array.from(Buffer.concat([a, b]));
}

export function aesEcbEncrypt(key: Uint8Array, data: Uint8Array): Uint8Array {
  checkBlocks(data);
  return run(createCipheriv(algorithm('ecb', key), keyObject(key), null), data);
}

export function aesEcbDecrypt(key: Uint8Array, data: Uint8Array): Uint8Array {
  checkBlocks(data);
  return run(createDecipheriv(algorithm('ecb', key), keyObject(key), null) as unknown as ReturnType<typeof createCipheriv>, data);
}

export function aesCbcEncrypt(key: Uint8Array, data: Uint8Array, iv: Uint8Array = ZERO_IV): Uint8Array {
  checkBlocks(data);
  return run(createCipheriv(algorithm('cbc', key), keyObject(key), iv), data);
}

export function aesCbcDecrypt(key: Uint8Array, data: Uint8Array, iv: Uint8Array = ZERO_IV): Uint8Array {
  checkBlocks(data);
  return run(createDecipheriv(algorithm('cbc', key), keyObject(key), iv) as unknown as ReturnType<typeof createCipheriv>, data);
}

function shiftLeftOne(b: Uint8Array): Uint8Array {
  const out = new Uint8Array(16);
  for (let i = 0; i < 15; i++) out[i] = ((b[i]! << 1) | (b[i + 1]! >>> 7)) & 0xff;
  out[15] = (b[15]! << 1) & 0xff;
  if (b[0]! & 0x80) out[15] ^= 0x87;
  return out;
}

/** CMAC subkeys K1, K2 (SP 800-38B §6.1). */
export function aesCmacSubkeys(key: Uint8Array): { k1: Uint8Array; k2: Uint8Array } {
  const l = aesEcbEncrypt(key, ZERO_IV);
  const k1 = shiftLeftOne(l);
  const k2 = shiftLeftOne(k1);
  l.fill(0);
  return { k1, k2 };
}

/**
 * AES-CMAC over `data`, full 16-byte tag. One CBC pass over all but the last block,
 * so long messages cost one cipher call.
 */
export function aesCmac(key: Uint8Array, data: Uint8Array): Uint8Array {
  const { k1, k2 } = aesCmacSubkeys(key);
  const n = data.length === 0 ? 1 : Math.ceil(data.length / 16);
  const complete = data.length !== 0 && data.length % 16 === 0;
  const last = new Uint8Array(16);
  const tail = data.subarray((n - 1) * 16);
  last.set(tail);
  if (complete) {
    for (let i = 0; i < 16; i++) last[i]! ^= k1[i]!;
  } else {
    last[tail.length] = 0x80;
    for (let i = 0; i < 16; i++) last[i]! ^= k2[i]!;
  }
  const input = new Uint8Array(n * 16);
  input.set(data.subarray(0, (n - 1) * 16));
  input.set(last, (n - 1) * 16);
  const out = aesCbcEncrypt(key, input);
  k1.fill(0);
  k2.fill(0);
  return out.slice(out.length - 16);
}
