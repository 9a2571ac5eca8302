/**
 * Typed errors of the provider's terminal relay, shared by its clients (the issuer's terminal access and
 * the provider's own flows). Each code has one problem+json status (`RELAY_STATUS`).
 */
import { OpentsmError } from '../../core/errors.ts';
import { ProblemError } from '../../platform/errors.ts';

export type RelayErrorCode =
  /** The caller may not use this terminal now: no open service request for that card at that terminal. */
  | 'NO_OPEN_REQUEST'
  /** The card named is not the card in the terminal (as far as the provider knows). */
  | 'CARD_NOT_PRESENT'
  /** The terminal already has an open service request. */
  | 'REQUEST_OPEN'
  /** No such service request (or not this terminal's). */
  | 'UNKNOWN_REQUEST'
  /** The terminal did not return the R-APDUs in time (it may be offline); the script may not have run. */
  | 'TERMINAL_TIMEOUT'
  /** The terminal started a fresh session while the script was out: whether it ran is unknown — ask the card. */
  | 'SESSION_LOST'
  /** The terminal answered an X-Admin-Script-Status other than ok (e.g. unknown-application). */
  | 'SCRIPT_STATUS'
  /** The terminal found the script malformed. */
  | 'BAD_FORMAT'
  /** The relay is shutting down. */
  | 'CLOSED'
  /** A remote relay answered something the client cannot use. */
  | 'BAD_RESPONSE'
  /** The card in the terminal is held by another conversation for longer than the caller may wait (Retry-After). */
  | 'CARD_BUSY'
  /** The conversation named does not hold the card (closed, or expired after its idle time). */
  | 'CONVERSATION_NOT_HELD';

export const RELAY_STATUS: Readonly<Record<RelayErrorCode, number>> = Object.freeze({
  NO_OPEN_REQUEST: 403,
  CARD_NOT_PRESENT: 409,
  REQUEST_OPEN: 409,
  UNKNOWN_REQUEST: 404,
  TERMINAL_TIMEOUT: 504,
  SESSION_LOST: 502,
  SCRIPT_STATUS: 502,
  BAD_FORMAT: 502,
  CLOSED: 503,
  BAD_RESPONSE: 502,
  CARD_BUSY: 503,
  CONVERSATION_NOT_HELD: 409,
});

export class RelayError extends OpentsmError {
  declare readonly code: RelayErrorCode;
  readonly terminalId: string | undefined;
  constructor(code: RelayErrorCode, message: string, options?: ErrorOptions & { terminalId?: string }) {
    super(code, message, options);
    this.terminalId = options?.terminalId;
  }
}

export function isRelayErrorCode(code: unknown): code is RelayErrorCode {
  return typeof code === 'string' && Object.hasOwn(RELAY_STATUS, code);
}

/** The problem+json answer of a relay error: `{ status: RELAY_STATUS[code], code }` (other errors unchanged). */
export function relayProblem(e: unknown): unknown {
  if (!(e instanceof RelayError)) return e;
  const headers = e.code === 'CARD_BUSY' ? { headers: { 'retry-after': '2' } } : {};
  return new ProblemError({ status: RELAY_STATUS[e.code], code: e.code, detail: e.message, cause: e, ...headers });
}
