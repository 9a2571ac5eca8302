/**
 * ISO/IEC 9797-1 padding method 2 (append 0x80, then zeros to a block boundary),
 * used by SCP02 and SCP03 for MAC and encryption input.
 */
import { CodecError } from '../core/errors.ts';

export function padIso9797M2(data: Uint8Array, blockSize: number): Uint8Array {
  const padded = new Uint8Array((Math.floor(data.length / blockSize) + 1) * blockSize);
  padded.set(data);
  padded[data.length] = 0x80;
  return padded;
}

/** Remove method-2 padding; throws `CodecError('BAD_VALUE')` when the padding is malformed. */
export function unpadIso9797M2(data: Uint8Array): Uint8Array {
  let i = data.length - 1;
  while (i >= 0 && data[i] === 0) i--;
  if (i < 0 || data[i] !== 0x80) throw new CodecError('BAD_VALUE', 'bad ISO 9797-1 method 2 padding', Math.max(i, 0));
  return data.subarray(0, i);
}
