/**
 * BER-TLV per ISO/IEC 8825-1 as used by ISO 7816-4 and GlobalPlatform:
 * multi-byte tags, definite short and long lengths (up to 4 length bytes),
 * constructed and primitive objects. Strict: every malformed input throws
 * `CodecError` with the offset where parsing stopped.
 */
import { CodecError } from './errors.ts';
import { concat } from './bytes.ts';

export interface Tlv {
  /** Tag as a number, e.g. 0x4F, 0x9F70, 0xBF0C, 0x7F21. */
  readonly tag: number;
  /** Value bytes (for constructed objects, the encoding of the children). */
  readonly value: Uint8Array;
  /** Children when the tag is constructed (bit 6 of the first tag byte). */
  readonly children?: readonly Tlv[];
}

/** Number of bytes of a tag number. */
function tagBytes(tag: number): number[] {
  if (!Number.isInteger(tag) || tag <= 0 || tag > 0xffffffff) throw new RangeError(`bad tag ${tag}`);
  const out: number[] = [];
  let t = tag;
  while (t > 0) {
    out.unshift(t & 0xff);
    t = Math.floor(t / 256);
  }
  return out;
}

/** True when the first tag byte marks a constructed object. */
export function isConstructed(tag: number): boolean {
  const first = tagBytes(tag)[0]!;
  return (first & 0x20) !== 0;
}

export function encodeLength(n: number): Uint8Array {
  if (!Number.isInteger(n) || n < 0 || n > 0xffffff) throw new RangeError(`bad TLV length ${n}`);
  if (n < 0x80) return Uint8Array.of(n);
  if (n <= 0xff) return Uint8Array.of(0x81, n);
  if (n <= 0xffff) return Uint8Array.of(0x82, n >> 8, n & 0xff);
  return Uint8Array.of(0x83, n >> 16, (n >> 8) & 0xff, n & 0xff);
}

/** Encode one primitive TLV (or a constructed one whose value is already encoded). */
export function encodeTlv(tag: number, value: Uint8Array): Uint8Array {
  return concat(Uint8Array.from(tagBytes(tag)), encodeLength(value.length), value);
}

/** Encode a constructed TLV from already-encoded children. */
export function encodeConstructed(tag: number, ...children: readonly Uint8Array[]): Uint8Array {
  return encodeTlv(tag, concat(...children));
}

interface Header {
  tag: number;
  valueStart: number;
  valueEnd: number;
}

function readHeader(b: Uint8Array, offset: number, end: number): Header {
  let o = offset;
  if (o >= end) throw new CodecError('TRUNCATED', 'tag expected', o);
  const first = b[o++]!;
  if (first === 0x00 || first === 0xff) throw new CodecError('BAD_TAG', `invalid tag byte ${first.toString(16)}`, offset);
  let tag = first;
  if ((first & 0x1f) === 0x1f) {
    let count = 0;
    for (;;) {
      if (o >= end) throw new CodecError('TRUNCATED', 'multi-byte tag cut short', o);
      const t = b[o++]!;
      if (count === 0 && t === 0x80) throw new CodecError('BAD_TAG', 'tag with leading 0x80 subsequent byte', o - 1);
      tag = tag * 256 + t;
      count++;
      if (count > 3) throw new CodecError('BAD_TAG', 'tag longer than 4 bytes', offset);
      if ((t & 0x80) === 0) break;
    }
  }
  if (o >= end) throw new CodecError('TRUNCATED', 'length expected', o);
  const l0 = b[o++]!;
  let length: number;
  if (l0 < 0x80) length = l0;
  else if (l0 === 0x80) throw new CodecError('BAD_LENGTH', 'indefinite length is not allowed', o - 1);
  else {
    const n = l0 & 0x7f;
    if (n > 4) throw new CodecError('BAD_LENGTH', `length of ${n} bytes`, o - 1);
    if (o + n > end) throw new CodecError('TRUNCATED', 'length bytes cut short', o);
    length = 0;
    for (let i = 0; i < n; i++) length = length * 256 + b[o++]!;
  }
  if (o + length > end) throw new CodecError('TRUNCATED', `value of ${length} bytes cut short`, o);
  return { tag, valueStart: o, valueEnd: o + length };
}

function parseRange(b: Uint8Array, start: number, end: number, depth: number): Tlv[] {
  if (depth > 16) throw new CodecError('BAD_VALUE', 'TLV nesting too deep', start);
  const out: Tlv[] = [];
  let o = start;
  while (o < end) {
    const h = readHeader(b, o, end);
    const value = b.slice(h.valueStart, h.valueEnd);
    if (isConstructed(h.tag)) {
      out.push({ tag: h.tag, value, children: parseRange(b, h.valueStart, h.valueEnd, depth + 1) });
    } else {
      out.push({ tag: h.tag, value });
    }
    o = h.valueEnd;
  }
  return out;
}

/** Parse a sequence of TLV objects that must fill `bytes` exactly. */
export function parseTlvs(bytes: Uint8Array): Tlv[] {
  return parseRange(bytes, 0, bytes.length, 0);
}

/** Parse exactly one TLV object; trailing bytes are an error. */
export function parseTlv(bytes: Uint8Array): Tlv {
  const h = readHeader(bytes, 0, bytes.length);
  if (h.valueEnd !== bytes.length) throw new CodecError('TRAILING_DATA', 'bytes after the TLV object', h.valueEnd);
  return parseRange(bytes, 0, bytes.length, 0)[0]!;
}

/** First child (or top-level object) with `tag`. */
export function findTag(list: readonly Tlv[] | undefined, tag: number): Tlv | undefined {
  return list?.find((t) => t.tag === tag);
}

/** All objects with `tag`. */
export function findAll(list: readonly Tlv[] | undefined, tag: number): Tlv[] {
  return list ? list.filter((t) => t.tag === tag) : [];
}

/** Re-encode a parsed object (round trip). */
export function encodeParsed(t: Tlv): Uint8Array {
  return encodeTlv(t.tag, t.children ? concat(...t.children.map(encodeParsed)) : t.value);
}
