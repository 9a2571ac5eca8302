/**
 * Typed errors of the OTA server (services/ota): why a script did not come back from the card. The class is
 * the RAM over HTTP server session's (transport/ram-http/server-errors.ts), under the OTA's name.
 */
export { RamServerError as OtaError, type RamServerErrorCode as OtaErrorCode } from '../../transport/ram-http/server-errors.ts';
