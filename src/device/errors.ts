/** Typed errors of the phone (src/device). */
import { OpentsmError } from '../core/errors.ts';

export type DeviceErrorCode =
  /** The OTA server could not be reached, or the connection kept breaking beyond the retry limit. */
  | 'CONNECTION_FAILED'
  /** The OTA server refused a request (4xx/5xx); `status` and `problemCode` tell why. */
  | 'REFUSED'
  /** The OTA server answered something that is not RAM over HTTP. */
  | 'PROTOCOL';

export class DeviceError extends OpentsmError {
  declare readonly code: DeviceErrorCode;
  readonly status: number | undefined;
  readonly problemCode: string | undefined;
  constructor(code: DeviceErrorCode, message: string, options?: ErrorOptions & { status?: number; problemCode?: string }) {
    super(code, message, options);
    this.status = options?.status;
    this.problemCode = options?.problemCode;
  }
}
