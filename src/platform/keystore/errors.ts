/** Typed keystore errors. Messages never contain key material or plaintext. */
import { OpentsmError } from '../../core/errors.ts';

export type KeyStoreErrorCode =
  /** The blob is malformed, was altered, or was wrapped for another context: nothing is returned. */
  | 'UNWRAP_FAILED'
  /** The blob names a key-encryption key this store does not hold (rotate with the retired KEK loaded). */
  | 'UNKNOWN_KEK'
  /** The KEK file has the wrong size, type or permissions, or cannot be read/created. */
  | 'BAD_KEK_FILE';

export class KeyStoreError extends OpentsmError {
  declare readonly code: KeyStoreErrorCode;
  constructor(code: KeyStoreErrorCode, message: string, options?: ErrorOptions) {
    super(code, message, options);
  }
}
