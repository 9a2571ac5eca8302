export { TransportError, type TransportErrorCode } from './errors.ts';
export { type CardPort } from './card-port.ts';
export { InProcessChannel, type InProcessOptions } from './in-process.ts';
export {
  VPCD_DEFAULT_PORT,
  VPCD_CTRL,
  encodeVpcdFrame,
  VpcdFrameReader,
  VpcdSession,
  type VpcdSessionOptions,
  type VpcdReply,
} from './vpcd-protocol.ts';
export { serveVpcd, type VpcdOptions, type VpcdState } from './vpcd.ts';
export {
  PcscBridge,
  buildPcscBridge,
  pcscError,
  SCARD_SHARE,
  SCARD_PROTOCOL,
  SCARD_DISPOSITION,
  SCARD_E,
  type BuildOptions,
  type BridgeOptions,
} from './pcsc-bridge.ts';
export { PcscChannel, type PcscChannelOptions } from './pcsc-channel.ts';
export {
  NativePcscChannel,
  loadPcsclite,
  type NativePcscOptions,
  type PcscliteFactory,
  type PcscliteContext,
  type PcscliteReader,
} from './pcsc.ts';
