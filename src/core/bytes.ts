/**
 * Byte helpers: hex, concatenation, constant-time comparison, boundary checks.
 * Pure, no I/O; runs in a browser too.
 */
import { timingSafeEqual } from 'node:crypto';
import { CodecError } from './errors.ts';

const HEX_RE = /^[0-9a-fA-F]*$/;

/**
 * Parse hex (upper or lower case; spaces, colons and newlines ignored).
 * Throws `CodecError('BAD_HEX')` on odd length or a non-hex character: hex usually comes from outside.
 */
export function fromHex(text: string): Uint8Array {
  if (typeof text !== 'string') throw new TypeError('fromHex: expected a string');
  const clean = text.replace(/[\s:]/g, '');
  if (!HEX_RE.test(clean)) {
    const at = clean.search(/[^0-9a-fA-F]/);
    throw new CodecError('BAD_HEX', `not a hex digit: ${JSON.stringify(clean[at])}`, at);
  }
  if (clean.length % 2 !== 0) throw new CodecError('BAD_HEX', 'odd number of hex digits', clean.length);
  return Uint8Array.from(Buffer.from(clean, 'hex'));
}

/** Upper-case hex without separators. */
export function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex').toUpperCase();
}

/** Concatenate into a fresh buffer. */
export function concat(...parts: readonly Uint8Array[]): Uint8Array {
  let length = 0;
  for (const p of parts) length += p.length;
  const out = new Uint8Array(length);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** Constant-time equality for MACs, cryptograms and tokens (length is not secret). */
export function equalConstantTime(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  return timingSafeEqual(a, b);
}

/** Plain equality for non-secret data. */
export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** XOR of two equally long arrays into a fresh buffer. */
export function xor(a: Uint8Array, b: Uint8Array): Uint8Array {
  if (a.length !== b.length) throw new RangeError(`xor: lengths differ (${a.length} vs ${b.length})`);
  const out = new Uint8Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = a[i]! ^ b[i]!;
  return out;
}

/** Overwrite key material when done with it. */
export function zeroize(...buffers: Uint8Array[]): void {
  for (const b of buffers) b.fill(0);
}

/** Two-byte big-endian encoding. */
export function u16(n: number): Uint8Array {
  if (!Number.isInteger(n) || n < 0 || n > 0xffff) throw new RangeError(`u16: ${n} out of range`);
  return Uint8Array.of(n >> 8, n & 0xff);
}

/** Read a two-byte big-endian value. */
export function readU16(b: Uint8Array, offset: number): number {
  if (offset + 2 > b.length) throw new CodecError('TRUNCATED', 'two bytes expected', offset);
  return (b[offset]! << 8) | b[offset + 1]!;
}

/**
 * Check a caller-supplied byte array and return it.
 * `length` is an exact length, a list of allowed lengths, or `[min, max]` via `{ min, max }`.
 */
export function assertBytes(
  value: unknown,
  length: number | readonly number[] | { min: number; max: number } | undefined,
  name: string,
): Uint8Array {
  if (!(value instanceof Uint8Array)) throw new TypeError(`${name}: expected a Uint8Array`);
  if (length === undefined) return value;
  if (typeof length === 'number') {
    if (value.length !== length) throw new RangeError(`${name}: expected ${length} bytes, got ${value.length}`);
  } else if (Array.isArray(length)) {
    if (!length.includes(value.length)) {
      throw new RangeError(`${name}: expected ${length.join(' or ')} bytes, got ${value.length}`);
    }
  } else {
    const { min, max } = length as { min: number; max: number };
    if (value.length < min || value.length > max) {
      throw new RangeError(`${name}: expected ${min}..${max} bytes, got ${value.length}`);
    }
  }
  return value;
}

/** Check a caller-supplied integer in a range and return it. */
export function assertInt(value: unknown, min: number, max: number, name: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value)) throw new TypeError(`${name}: expected an integer`);
  if (value < min || value > max) throw new RangeError(`${name}: ${value} not in ${min}..${max}`);
  return value;
}
