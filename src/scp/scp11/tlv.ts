/**
 * A strict reader for the small BER-TLV structures of SCP11 (certificates, the 'A6' control reference
 * template): one- or two-byte tags, minimal definite lengths up to '82 xx xx', every error a `CodecError`
 * with the absolute offset where it was found. Offsets are needed for error reports and the exact signed
 * bytes of a certificate, which `core/tlv.ts` does not expose.
 */
import { CodecError } from '../../core/errors.ts';

export interface TlvSpan {
  readonly tag: number;
  /** Offset of the tag in the buffer. */
  readonly start: number;
  readonly valueStart: number;
  /** Offset just after the value. */
  readonly end: number;
  readonly value: Uint8Array;
}

/** Read the TLV at `offset`, which must end at or before `limit`. */
export function readTlv(b: Uint8Array, offset: number, limit: number = b.length): TlvSpan {
  let o = offset;
  if (o >= limit) throw new CodecError('TRUNCATED', 'tag expected', o);
  let tag = b[o++]!;
  if (tag === 0x00 || tag === 0xff) throw new CodecError('BAD_TAG', `invalid tag byte ${tag.toString(16)}`, offset);
  if ((tag & 0x1f) === 0x1f) {
    if (o >= limit) throw new CodecError('TRUNCATED', 'two-byte tag cut short', o);
    const t2 = b[o++]!;
    if (t2 & 0x80) throw new CodecError('BAD_TAG', 'tags longer than two bytes are not used by SCP11', offset);
    tag = (tag << 8) | t2;
  }
  if (o >= limit) throw new CodecError('TRUNCATED', 'length expected', o);
  const l0 = b[o++]!;
  let length: number;
  if (l0 < 0x80) length = l0;
  else if (l0 === 0x81) {
    if (o >= limit) throw new CodecError('TRUNCATED', 'length cut short', o);
    length = b[o++]!;
    if (length < 0x80) throw new CodecError('BAD_LENGTH', 'non-minimal length encoding', o - 2);
  } else if (l0 === 0x82) {
    if (o + 2 > limit) throw new CodecError('TRUNCATED', 'length cut short', o);
    length = (b[o]! << 8) | b[o + 1]!;
    o += 2;
    if (length < 0x100) throw new CodecError('BAD_LENGTH', 'non-minimal length encoding', o - 3);
  } else throw new CodecError('BAD_LENGTH', `unsupported length byte ${l0.toString(16)}`, o - 1);
  if (o + length > limit) throw new CodecError('TRUNCATED', `value of ${length} bytes cut short`, o);
  return { tag, start: offset, valueStart: o, end: o + length, value: b.slice(o, o + length) };
}

/** All TLVs between `start` and `end` (which they must fill exactly). */
export function readTlvs(b: Uint8Array, start = 0, end = b.length): TlvSpan[] {
  const out: TlvSpan[] = [];
  let o = start;
  while (o < end) {
    const t = readTlv(b, o, end);
    out.push(t);
    o = t.end;
  }
  return out;
}
