/**
 * Typed errors of the `scp` layer (secure channel protocols).
 *
 * `SecureChannelError` is thrown for bad input from outside (a card's response, a host's protected
 * command). Its optional `sw` is the status word a card answers when the error happens on the card
 * side (GPCS 2.3.1 §11.1.3 general error conditions): 6982 for a failed MAC or host cryptogram,
 * 6A88 for an unknown key version, 6700 for a wrong length, 6A86 for bad P1/P2.
 * On the host side `sw` carries the status word the card answered, when there is one.
 * A caller's mistake (wrong key length, invalid level) throws `TypeError`/`RangeError` instead.
 */
import { OpentsmError } from '../core/errors.ts';

export type SecureChannelErrorCode =
  /** The card cryptogram of the INITIALIZE UPDATE response does not verify (wrong keys or a fake card). */
  | 'BAD_CARD_CRYPTOGRAM'
  /** The host cryptogram of EXTERNAL AUTHENTICATE does not verify (card side, SW 6982). */
  | 'BAD_HOST_CRYPTOGRAM'
  /** A C-MAC does not verify (card side, SW 6982). */
  | 'BAD_MAC'
  /** An R-MAC does not verify (host side). */
  | 'BAD_RMAC'
  /** Decrypted data does not end in ISO 9797-1 method 2 padding. */
  | 'BAD_PADDING'
  /** No secure channel session is open, or it was aborted after a security error (card side, SW 6982). */
  | 'NOT_AUTHENTICATED'
  /** The command does not carry the protection the security level requires (card side, SW 6982). */
  | 'SECURITY_NOT_SATISFIED'
  /** A response from the card is malformed (wrong length, unknown protocol identifier). */
  | 'BAD_RESPONSE'
  /** A command to the card is malformed (card side, SW 6700 or 6E00/6D00). */
  | 'BAD_COMMAND'
  /** The card answered a status word other than 9000 during the handshake (`sw` holds it). */
  | 'BAD_STATUS'
  /** Unknown key version number (card side, SW 6A88). */
  | 'UNKNOWN_KEY'
  /** Security level not allowed for this protocol or "i" (card side, SW 6A86). */
  | 'BAD_SECURITY_LEVEL'
  /** Sequence counter exhausted (card side, SW 6985). */
  | 'COUNTER_EXHAUSTED'
  /** A protocol option or "i" value this implementation does not support. */
  | 'UNSUPPORTED';

export class SecureChannelError extends OpentsmError {
  declare readonly code: SecureChannelErrorCode;
  /** Status word: the one the card should answer (card side) or did answer (host side). */
  readonly sw: number | undefined;
  constructor(code: SecureChannelErrorCode, message: string, sw?: number, options?: ErrorOptions) {
    super(code, sw === undefined ? message : `${message} (SW ${sw.toString(16).toUpperCase().padStart(4, '0')})`, options);
    this.sw = sw;
  }
}

/** Status words used by the card side of the secure channel protocols. */
export const SW = Object.freeze({
  OK: 0x9000,
  AUTHENTICATION_FAILED: 0x6300,
  WRONG_LENGTH: 0x6700,
  SECURITY_NOT_SATISFIED: 0x6982,
  CONDITIONS_NOT_SATISFIED: 0x6985,
  INCORRECT_P1P2: 0x6a86,
  REFERENCED_DATA_NOT_FOUND: 0x6a88,
  INS_NOT_SUPPORTED: 0x6d00,
  CLA_NOT_SUPPORTED: 0x6e00,
} as const);
