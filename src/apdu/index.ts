export { type CommandApdu, command, encodeCommand, decodeCommand, isoCase } from './command.ts';
export { type ResponseApdu, encodeResponse, decodeResponse, response } from './response.ts';
export { SW, type SwName, swName, sw1, sw2, isSuccess, isWarning } from './sw.ts';
export { ApduError, type ApduErrorCode, expectSuccess } from './errors.ts';
export { type CardChannel, transmitScript, continuesScript } from './channel.ts';
export { CLA_CHAINING, channelFromCla, claForChannel, isFurtherInterindustry, hasSecureMessaging } from './logical-channel.ts';
export { withGetResponse, type GetResponseOptions, INS_GET_RESPONSE } from './get-response.ts';
export { splitChained, transmitCommand, type TransmitOptions, SHORT_MAX_NC, SHORT_MAX_NE } from './chaining.ts';
