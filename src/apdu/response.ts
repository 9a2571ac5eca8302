/** Response APDU: data field followed by SW1 SW2 (ISO/IEC 7816-4 §5.1). */
import { CodecError } from '../core/errors.ts';

export interface ResponseApdu {
  readonly data: Uint8Array;
  /** SW1 << 8 | SW2 */
  readonly sw: number;
}

export function encodeResponse(r: ResponseApdu): Uint8Array {
  const out = new Uint8Array(r.data.length + 2);
  out.set(r.data);
  out[r.data.length] = (r.sw >> 8) & 0xff;
  out[r.data.length + 1] = r.sw & 0xff;
  return out;
}

export function decodeResponse(b: Uint8Array): ResponseApdu {
  if (b.length < 2) throw new CodecError('TRUNCATED', 'response APDU shorter than SW1 SW2', b.length);
  return { data: b.slice(0, b.length - 2), sw: (b[b.length - 2]! << 8) | b[b.length - 1]! };
}

export function response(data: Uint8Array, sw: number): ResponseApdu {
  return { data, sw };
}
