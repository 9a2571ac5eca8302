/**
 * Typed errors of the `gp` layer (GP Card Specification 2.3.1, §11.1.3 general error conditions).
 *
 * Parsers of data that comes from outside (command data on the card side, response data on the host
 * side) throw `GpError` (or `CodecError` from the BER-TLV layer) and change nothing. `sw` is the
 * status word the card should answer with; `statusWordFor` maps any thrown value to one.
 */
import { CodecError, OpentsmError } from '../core/errors.ts';

export type GpErrorCode =
  /** AID not 5–16 bytes. */
  | 'BAD_AID'
  /** Privilege bytes or names that do not make sense. */
  | 'BAD_PRIVILEGES'
  /** Unknown or not allowed life cycle state / transition. */
  | 'BAD_LIFE_CYCLE'
  /** P1/P2 not allowed for this command (6A86). */
  | 'BAD_P1P2'
  /** Malformed or inconsistent command/response data (6A80). */
  | 'BAD_DATA'
  /** Lc inconsistent with the content (6700). */
  | 'WRONG_LENGTH'
  /** A key check value that does not match the key (6982, Table 11-78). */
  | 'KCV_MISMATCH'
  /** Block out of sequence (LOAD, STORE DATA) (6A86). */
  | 'BAD_SEQUENCE'
  /** Unsupported but well-formed request (6A81). */
  | 'UNSUPPORTED';

const DEFAULT_SW: Record<GpErrorCode, number> = {
  BAD_AID: 0x6a80,
  BAD_PRIVILEGES: 0x6a80,
  BAD_LIFE_CYCLE: 0x6a80,
  BAD_P1P2: 0x6a86,
  BAD_DATA: 0x6a80,
  WRONG_LENGTH: 0x6700,
  KCV_MISMATCH: 0x6982,
  BAD_SEQUENCE: 0x6a86,
  UNSUPPORTED: 0x6a81,
};

/** Bad GlobalPlatform data from outside; `sw` is what a card answers. */
export class GpError extends OpentsmError {
  declare readonly code: GpErrorCode;
  /** Status word the card should answer (SW1 << 8 | SW2). */
  readonly sw: number;
  constructor(code: GpErrorCode, message: string, sw?: number, options?: ErrorOptions) {
    super(code, message, options);
    this.sw = sw ?? DEFAULT_SW[code];
  }
}

/**
 * Status word a card answers for an error thrown by a `gp` parser:
 * `GpError.sw`; `CodecError` → 6A80 (malformed data field); anything else → 6F00.
 */
export function statusWordFor(err: unknown): number {
  if (err instanceof GpError) return err.sw;
  if (err instanceof CodecError) return 0x6a80;
  return 0x6f00;
}
