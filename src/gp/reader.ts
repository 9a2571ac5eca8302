/**
 * Internal cursor over command/response data from outside. Every overrun throws `CodecError`
 * (the card answers 6A80) with the offset where parsing stopped. Not exported from the layer.
 */
import { CodecError } from '../core/errors.ts';
import { encodeLength } from '../core/tlv.ts';
import { concat } from '../core/bytes.ts';

export class Reader {
  readonly bytes: Uint8Array;
  offset: number;
  constructor(bytes: Uint8Array, offset = 0) {
    this.bytes = bytes;
    this.offset = offset;
  }
  get remaining(): number {
    return this.bytes.length - this.offset;
  }
  u8(what: string): number {
    if (this.offset >= this.bytes.length) throw new CodecError('TRUNCATED', `${what} expected`, this.offset);
    return this.bytes[this.offset++]!;
  }
  take(n: number, what: string): Uint8Array {
    if (this.offset + n > this.bytes.length) {
      throw new CodecError('TRUNCATED', `${what}: ${n} bytes expected, ${this.remaining} left`, this.offset);
    }
    const out = this.bytes.slice(this.offset, this.offset + n);
    this.offset += n;
    return out;
  }
  /** One length byte then the value. */
  lv1(what: string): Uint8Array {
    return this.take(this.u8(`length of ${what}`), what);
  }
  /**
   * BER length (1–3 bytes: '00'–'80', '81 xx', '82 xx xx'; GP allows '80' for 128, §11.5.2.3) then the value.
   */
  lvBer(what: string): Uint8Array {
    const at = this.offset;
    const l0 = this.u8(`length of ${what}`);
    let n: number;
    if (l0 <= 0x80) n = l0;
    else if (l0 === 0x81) n = this.u8(`length of ${what}`);
    else if (l0 === 0x82) n = (this.u8(`length of ${what}`) << 8) | this.u8(`length of ${what}`);
    else throw new CodecError('BAD_LENGTH', `bad length byte ${l0.toString(16)} for ${what}`, at);
    return this.take(n, what);
  }
  /** Throw when bytes are left over. */
  end(what: string): void {
    if (this.offset !== this.bytes.length) {
      throw new CodecError('TRAILING_DATA', `${this.remaining} bytes after ${what}`, this.offset);
    }
  }
}

/** One-byte length then value (caller's mistake on overlong values throws `RangeError`). */
export function lv1(value: Uint8Array, what: string): Uint8Array {
  if (value.length > 0xff) throw new RangeError(`${what}: ${value.length} bytes do not fit a one-byte length`);
  return concat(Uint8Array.of(value.length), value);
}

/** BER length then value. */
export function lvBer(value: Uint8Array): Uint8Array {
  return concat(encodeLength(value.length), value);
}

export function byteOf(v: number, name: string): number {
  if (!Number.isInteger(v) || v < 0 || v > 0xff) throw new RangeError(`${name}: ${v} is not a byte`);
  return v;
}
