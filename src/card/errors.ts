/**
 * Typed errors of the `card` layer (the secure-element simulator).
 *
 * `SwError` is how every command handler refuses a command: it carries the status word the card answers
 * (GP Card Specification 2.3.1 §11.1.3 and the per-command tables of chapter 11). The dispatcher turns it
 * into the response and drops the draft state, so a refused command changes nothing persistent.
 * `CardStateError` is thrown when a saved card state (JSON from outside) is corrupted or hostile.
 */
import { OpentsmError } from '../core/errors.ts';

/** Status words the simulator answers (ISO/IEC 7816-4 §5.6, GPCS 2.3.1 chapter 11). */
export const SW = Object.freeze({
  OK: 0x9000,
  WARNING_CARD_LOCKED: 0x6283,
  MORE_DATA: 0x6310,
  NO_PRECISE_DIAGNOSIS: 0x6400,
  MEMORY_FAILURE: 0x6581,
  WRONG_LENGTH: 0x6700,
  LOGICAL_CHANNEL_NOT_SUPPORTED: 0x6881,
  SECURE_MESSAGING_NOT_SUPPORTED: 0x6882,
  COMMAND_CHAINING_NOT_SUPPORTED: 0x6884,
  SECURITY_STATUS_NOT_SATISFIED: 0x6982,
  CONDITIONS_OF_USE_NOT_SATISFIED: 0x6985,
  INCORRECT_DATA: 0x6a80,
  FUNCTION_NOT_SUPPORTED: 0x6a81,
  FILE_NOT_FOUND: 0x6a82,
  NOT_ENOUGH_MEMORY: 0x6a84,
  INCORRECT_P1P2: 0x6a86,
  REFERENCED_DATA_NOT_FOUND: 0x6a88,
  INS_NOT_SUPPORTED: 0x6d00,
  CLA_NOT_SUPPORTED: 0x6e00,
  UNKNOWN: 0x6f00,
} as const);

/** A command refused with a status word; thrown by handlers, caught by the dispatcher. */
export class SwError extends OpentsmError {
  readonly sw: number;
  constructor(sw: number, message?: string) {
    const hex = sw.toString(16).toUpperCase().padStart(4, '0');
    super(`SW_${hex}`, message === undefined ? `SW ${hex}` : `${message} (SW ${hex})`);
    this.sw = sw;
  }
}

/** Throw `SwError(sw)` unless `condition` holds. */
export function check(condition: boolean, sw: number, message?: string): asserts condition {
  if (!condition) throw new SwError(sw, message);
}

export type CardStateErrorCode = 'BAD_JSON' | 'UNSUPPORTED_VERSION' | 'INVALID_STATE';

/** A saved card state that cannot be loaded; nothing is created from it. */
export class CardStateError extends OpentsmError {
  declare readonly code: CardStateErrorCode;
  /** JSON path of the offending value, e.g. `apps[2].privileges`. */
  readonly path: string;
  constructor(code: CardStateErrorCode, message: string, path = '') {
    super(code, path === '' ? message : `${path}: ${message}`);
    this.path = path;
  }
}
