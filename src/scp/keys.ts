/**
 * Static secure channel key sets: Key-ENC, Key-MAC, Key-DEK
 * (GPCS 2.2.1 Appendix E.2 for SCP02: three double-length DES keys;
 * Amendment D v1.2 §6.1 for SCP03: three AES keys of one length, 16, 24 or 32 bytes).
 */
import { assertBytes } from '../core/bytes.ts';

export interface StaticKeys {
  readonly enc: Uint8Array;
  readonly mac: Uint8Array;
  readonly dek: Uint8Array;
}

/** Copy and freeze a key set (the key bytes are copied so later changes by the caller do not leak in). */
export function staticKeys(keys: StaticKeys): StaticKeys {
  return Object.freeze({ enc: keys.enc.slice(), mac: keys.mac.slice(), dek: keys.dek.slice() });
}

/** SCP02 key set: three 16-byte (two-key 3DES) keys; throws RangeError otherwise. */
export function assertScp02Keys(keys: StaticKeys): StaticKeys {
  assertBytes(keys.enc, 16, 'keys.enc');
  assertBytes(keys.mac, 16, 'keys.mac');
  assertBytes(keys.dek, 16, 'keys.dek');
  return keys;
}

/** SCP03 key set: three AES keys of the same length (16, 24 or 32 bytes); throws RangeError otherwise. */
export function assertScp03Keys(keys: StaticKeys): StaticKeys {
  const n = assertBytes(keys.enc, [16, 24, 32], 'keys.enc').length;
  assertBytes(keys.mac, n, 'keys.mac');
  assertBytes(keys.dek, n, 'keys.dek');
  return keys;
}
