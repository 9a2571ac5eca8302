/**
 * Command APDU codec, ISO/IEC 7816-3 §12.1 / 7816-4 §5.1: cases 1–4, short and extended.
 * Sans-IO: bytes in, bytes out.
 */
import { CodecError } from '../core/errors.ts';

export interface CommandApdu {
  readonly cla: number;
  readonly ins: number;
  readonly p1: number;
  readonly p2: number;
  /** Command data field (Nc bytes); empty for cases 1 and 2. */
  readonly data: Uint8Array;
  /**
   * Ne, the maximum number of response bytes expected; `undefined` when absent (cases 1 and 3).
   * 256 is encoded as Le=00 in short form, 65536 as Le=0000 in extended form.
   */
  readonly le?: number;
  /** Force extended length encoding even when short would fit. */
  readonly extended?: boolean;
}

const EMPTY = new Uint8Array(0);

function byte(v: number, name: string): number {
  if (!Number.isInteger(v) || v < 0 || v > 0xff) throw new RangeError(`${name}: ${v} is not a byte`);
  return v;
}

/** Build a command object with checked fields. */
export function command(cla: number, ins: number, p1: number, p2: number, data: Uint8Array = EMPTY, le?: number): CommandApdu {
  byte(cla, 'cla');
  byte(ins, 'ins');
  byte(p1, 'p1');
  byte(p2, 'p2');
  if (le !== undefined && (!Number.isInteger(le) || le < 0 || le > 65536)) throw new RangeError(`le: ${le} out of range`);
  return { cla, ins, p1, p2, data, ...(le === undefined ? {} : { le }) };
}

/** Encode to bytes; extended form is used when Nc > 255, Ne > 256 or `extended` is set. */
export function encodeCommand(c: CommandApdu): Uint8Array {
  const nc = c.data.length;
  if (nc > 65535) throw new RangeError(`command data too long: ${nc}`);
  const le = c.le;
  const extended = c.extended === true || nc > 255 || (le !== undefined && le > 256);
  const header = [byte(c.cla, 'cla'), byte(c.ins, 'ins'), byte(c.p1, 'p1'), byte(c.p2, 'p2')];
  const out: number[] = header;
  if (!extended) {
    if (nc > 0) out.push(nc);
    const bytes = new Uint8Array(4 + (nc > 0 ? 1 + nc : 0) + (le !== undefined ? 1 : 0));
    bytes.set(out);
    if (nc > 0) bytes.set(c.data, 5);
    if (le !== undefined) bytes[bytes.length - 1] = le === 256 ? 0 : le;
    return bytes;
  }
  // Extended: 00 Lc1 Lc2 data [Le1 Le2], or 00 Le1 Le2 when there is no data.
  const size = 4 + (nc > 0 ? 3 + nc : 0) + (le !== undefined ? (nc > 0 ? 2 : 3) : 0);
  const bytes = new Uint8Array(size);
  bytes.set(out);
  let o = 4;
  if (nc > 0) {
    bytes[o++] = 0;
    bytes[o++] = nc >> 8;
    bytes[o++] = nc & 0xff;
    bytes.set(c.data, o);
    o += nc;
  }
  if (le !== undefined) {
    if (nc === 0) bytes[o++] = 0;
    const v = le === 65536 ? 0 : le;
    bytes[o++] = v >> 8;
    bytes[o++] = v & 0xff;
  }
  return bytes;
}

/**
 * Decode bytes from outside into a command; throws `CodecError` for any length inconsistency
 * (the card answers 6700 to those).
 */
export function decodeCommand(b: Uint8Array): CommandApdu {
  if (b.length < 4) throw new CodecError('TRUNCATED', 'command APDU shorter than its header', b.length);
  const [cla, ins, p1, p2] = [b[0]!, b[1]!, b[2]!, b[3]!];
  const body = b.length - 4;
  if (body === 0) return { cla, ins, p1, p2, data: EMPTY };
  const b5 = b[4]!;
  if (body === 1) return { cla, ins, p1, p2, data: EMPTY, le: b5 === 0 ? 256 : b5 };
  if (b5 !== 0 || body < 3) {
    // Short case 3 or 4.
    const nc = b5;
    if (nc === 0) throw new CodecError('BAD_LENGTH', 'Lc of zero in short form', 4);
    if (body === 1 + nc) return { cla, ins, p1, p2, data: b.slice(5, 5 + nc) };
    if (body === 2 + nc) {
      const le = b[5 + nc]!;
      return { cla, ins, p1, p2, data: b.slice(5, 5 + nc), le: le === 0 ? 256 : le };
    }
    throw new CodecError(body < 1 + nc ? 'TRUNCATED' : 'OVERLONG', `Lc=${nc} does not match ${body - 1} data bytes`, 4);
  }
  // Extended: first byte 00.
  if (body === 3) {
    const le = (b[5]! << 8) | b[6]!;
    return { cla, ins, p1, p2, data: EMPTY, le: le === 0 ? 65536 : le, extended: true };
  }
  const nc = (b[5]! << 8) | b[6]!;
  if (nc === 0) throw new CodecError('BAD_LENGTH', 'extended Lc of zero', 5);
  if (body === 3 + nc) return { cla, ins, p1, p2, data: b.slice(7, 7 + nc), extended: true };
  if (body === 5 + nc) {
    const le = (b[7 + nc]! << 8) | b[8 + nc]!;
    return { cla, ins, p1, p2, data: b.slice(7, 7 + nc), le: le === 0 ? 65536 : le, extended: true };
  }
  throw new CodecError(body < 3 + nc ? 'TRUNCATED' : 'OVERLONG', `extended Lc=${nc} does not match the body`, 5);
}

/** ISO case of a command (1–4). */
export function isoCase(c: CommandApdu): 1 | 2 | 3 | 4 {
  if (c.data.length === 0) return c.le === undefined ? 1 : 2;
  return c.le === undefined ? 3 : 4;
}
