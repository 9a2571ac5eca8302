/** Typed errors of the phone (src/device). */
import { RemoteError } from '../transport/errors.ts';

export type DeviceErrorCode =
  /** The OTA server could not be reached, or the connection kept breaking beyond the retry limit. */
  | 'CONNECTION_FAILED'
  /** The OTA server refused a request (4xx/5xx); `status` and `problemCode` tell why. */
  | 'REFUSED'
  /** The OTA server answered something that is not RAM over HTTP. */
  | 'PROTOCOL';

export class DeviceError extends RemoteError {
  declare readonly code: DeviceErrorCode;
  constructor(code: DeviceErrorCode, message: string, options?: ErrorOptions & { status?: number; problemCode?: string }) {
    super(code, message, options);
  }
}
