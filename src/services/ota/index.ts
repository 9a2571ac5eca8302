/** The OTA server (docs/architecture.md §1 `ota`): RAM over HTTP on PSK-TLS, platform channels, admin API. */
export { OtaServer, MAX_SCRIPT_COMMANDS, type OtaServerOptions, type ScriptOptions } from './ota-server.ts';
export { OtaChannel, type OtaChannelOptions, type ScriptTransmitter } from './channel.ts';
export { OtaError, type OtaErrorCode } from './errors.ts';
export { MemoryPskStore, type PskStore, type PskRecord } from './psk-store.ts';
export { InProcessPushGateway, type PushGateway, type PushHandler } from './push.ts';
export { LongPollPushGateway, isPollable, type PollablePushGateway } from './push-long-poll.ts';
export { RamEndpoint, type RamEndpointOptions, type RamRequest, type RamReply, type ScriptJob } from '../../transport/ram-http/server-session.ts';
export { RamServer, PSK_CIPHERS, type RamServerOptions, type RamFaults } from './ram-server.ts';
export { buildOtaAdminApi, parseScriptRequest, otaProblem, OTA_VERSION, type OtaAdminApiOptions, type ScriptRequestBody, type ScriptResponseBody } from './admin-api.ts';
export { SealedPskStore, DeviceStoreError, type DeviceRegistration, type DeviceView, type DeviceStoreErrorCode } from './device-store.ts';
export { OTA_MIGRATIONS } from './schema.ts';
export { startOta, type OtaService, type OtaServiceOptions } from './service.ts';
export { RemoteOtaChannel, type RemoteOtaChannelOptions } from './client.ts';
export { problem, type Problem, type OtaProblemCode } from './problem.ts';
