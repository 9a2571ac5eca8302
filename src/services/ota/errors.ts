/**
 * Typed errors of the OTA server (services/ota): why a script did not come back from the card.
 */
import { OpentsmError } from '../../core/errors.ts';

export type OtaErrorCode =
  /** No PSK / device registered under this id. */
  | 'UNKNOWN_DEVICE'
  /** The device did not return the R-APDUs within the time limit. */
  | 'TIMEOUT'
  /** The admin agent started a fresh session while this script was out: whether it ran is unknown — ask the card. */
  | 'SESSION_LOST'
  /** The agent answered with an X-Admin-Script-Status other than `ok` (see `scriptStatus`). */
  | 'SCRIPT_STATUS'
  /** The agent found the script malformed (Bad Format TLV '90'). */
  | 'BAD_FORMAT'
  /** The server (or the remote API) answered something this client cannot use. */
  | 'BAD_RESPONSE'
  /** The request was refused before anything was sent to the device (remote API: 400). */
  | 'BAD_REQUEST'
  /** The OTA server is closed. */
  | 'CLOSED'
  /** The card is held by another conversation for longer than the caller may wait (retry after `retryAfterSeconds`). */
  | 'BUSY'
  /** The conversation named does not hold the card (closed, or expired after its idle time). */
  | 'NOT_HELD';

export class OtaError extends OpentsmError {
  declare readonly code: OtaErrorCode;
  readonly deviceId: string | undefined;
  readonly scriptStatus: string | undefined;
  readonly retryAfterSeconds: number | undefined;
  constructor(code: OtaErrorCode, message: string, options?: ErrorOptions & { deviceId?: string; scriptStatus?: string; retryAfterSeconds?: number }) {
    super(code, message, options);
    this.deviceId = options?.deviceId;
    this.scriptStatus = options?.scriptStatus;
    this.retryAfterSeconds = options?.retryAfterSeconds;
  }
}
