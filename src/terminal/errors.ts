/** Typed errors of the business terminal (src/terminal). */
import { RemoteError } from '../transport/errors.ts';

export type TerminalErrorCode =
  /** The provider could not be reached (after the retries allowed). */
  | 'CONNECTION_FAILED'
  /** The provider answered a problem (`status`, `problemCode`). */
  | 'REFUSED'
  /** The provider's answer is not what the protocol says. */
  | 'PROTOCOL'
  /** No card in the reader, or it does not tell its ICCID. */
  | 'NO_CARD'
  /** The provider could not complete the service request (`problemCode` holds its error code). */
  | 'REQUEST_FAILED'
  /** The service request did not end in time. */
  | 'TIMEOUT'
  /** The terminal was stopped. */
  | 'STOPPED';

export class TerminalError extends RemoteError {
  declare readonly code: TerminalErrorCode;
  constructor(code: TerminalErrorCode, message: string, options?: ErrorOptions & { status?: number; problemCode?: string }) {
    super(code, message, options);
  }
}
