/**
 * Why a script queued on the server side of RAM over HTTP (GP Amendment B §3.3–§3.8) did not come back from
 * the card. The OTA server (services/ota, as `OtaError`) and a provider's terminal relay both raise it.
 */
import { RemoteError } from '../errors.ts';

export type RamServerErrorCode =
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
  /** The server is closed. */
  | 'CLOSED'
  /** The card is held by another conversation for longer than the caller may wait (retry after `retryAfterSeconds`). */
  | 'BUSY'
  /** The conversation named does not hold the card (closed, or expired after its idle time). */
  | 'NOT_HELD';

export class RamServerError extends RemoteError {
  declare readonly code: RamServerErrorCode;
  readonly deviceId: string | undefined;
  readonly scriptStatus: string | undefined;
  readonly retryAfterSeconds: number | undefined;
  constructor(
    code: RamServerErrorCode,
    message: string,
    options?: ErrorOptions & { deviceId?: string; scriptStatus?: string; status?: number; problemCode?: string; retryAfterSeconds?: number },
  ) {
    super(code, message, options);
    this.deviceId = options?.deviceId;
    this.scriptStatus = options?.scriptStatus;
    this.retryAfterSeconds = options?.retryAfterSeconds;
  }
}
