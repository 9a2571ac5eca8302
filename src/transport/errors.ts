/**
 * Typed errors of the `transport` layer: how APDUs failed to travel (not what the card answered;
 * that is a status word, see `ApduError`).
 */
import { OpentsmError } from '../core/errors.ts';

export type TransportErrorCode =
  /** PC/SC cannot be used here: optional package, C compiler or libpcsclite headers missing. */
  | 'PCSC_UNAVAILABLE'
  /** The PC/SC bridge did not compile. */
  | 'BRIDGE_BUILD_FAILED'
  /** A PC/SC call failed; `pcscCode` holds the SCARD_* code. */
  | 'PCSC_ERROR'
  /** No reader, or none matching the request. */
  | 'NO_READER'
  /** The reader holds no card (or it did not answer in time). */
  | 'NO_CARD'
  /** The peer (pcscd, vpcd, bridge process) went away. */
  | 'CONNECTION_LOST'
  /** Could not connect to the peer (vpcd; pcscd not running). */
  | 'CONNECTION_FAILED'
  /** The channel was closed by its owner. */
  | 'CLOSED'
  /** No answer within the time limit. */
  | 'TIMEOUT'
  /** The peer broke the wire protocol (bad frame, bad length). */
  | 'PROTOCOL'
  /** The card could not keep a change of its state (its storage failed); its answer was withheld. */
  | 'CARD_MEMORY';

export class TransportError extends OpentsmError {
  declare readonly code: TransportErrorCode;
  /** PC/SC return code (e.g. 0x8010000C SCARD_E_NO_SMARTCARD) when the error came from PC/SC. */
  readonly pcscCode: number | undefined;
  constructor(code: TransportErrorCode, message: string, options?: ErrorOptions & { pcscCode?: number }) {
    super(code, message, options);
    this.pcscCode = options?.pcscCode;
  }
}

/**
 * Base of the errors a remote peer on the path to a card causes (the OTA server, a phone's admin agent, a
 * provider's terminal relay, a RAM over HTTP server): `status` and `problemCode` when the peer answered an
 * RFC 9457 problem. DeviceError, TerminalError, RamClientError and RamServerError (OtaError) extend it.
 */
export class RemoteError extends OpentsmError {
  /** The peer's HTTP status, when it answered one. */
  readonly status: number | undefined;
  /** The peer's problem code, when it answered a problem. */
  readonly problemCode: string | undefined;
  constructor(code: string, message: string, options?: ErrorOptions & { status?: number; problemCode?: string }) {
    super(code, message, options);
    this.status = options?.status;
    this.problemCode = options?.problemCode;
  }
}
